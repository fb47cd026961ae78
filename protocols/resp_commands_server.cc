// Connection and server commands: PING, ECHO, SELECT, QUIT, AUTH, HELLO, INFO, CLIENT, CONFIG.
// Enough of each for redis-cli, redis-benchmark and common client libraries, with Redis 7.0's
// replies and messages. There is one database (SELECT 0) and no RESP3 (HELLO 3 is refused, so
// clients stay on RESP2).

#include <fnmatch.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "protocols/client_registry.h"
#include "protocols/resp_commands_impl.h"
#include "protocols/resp_parser.h"
#include "protocols/resp_reply.h"

#ifndef SRV_VERSION
#define SRV_VERSION "unknown"
#endif

namespace srv::resp_impl {
namespace {

// The Redis version reported to clients (INFO redis_version, HELLO): clients pick features by
// it, and the commands here behave as Redis 7.0's do.
constexpr std::string_view kRedisVersion = "7.0.0";
constexpr std::string_view kWrongPass =
    "WRONGPASS invalid username-password pair or user is disabled.";

// Compares in time independent of where the strings differ, so response times do not reveal
// how much of a guessed password was right.
bool same_secret(std::string_view given, std::string_view expected) {
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (std::size_t i = 0; i < given.size(); ++i) {
    char want = i < expected.size() ? expected[i] : '\0';
    diff |= static_cast<unsigned char>(given[i] ^ want);
  }
  return diff == 0;
}

// ACL's check for the one user there is, "default": with no requirepass it takes any password.
bool authenticate(const RespSettings& settings, std::string_view user, std::string_view password) {
  if (user != "default") return false;
  return settings.requirepass.empty() || same_secret(password, settings.requirepass);
}

// CLIENT SETNAME / HELLO SETNAME: printable ASCII without spaces (validateClientName).
bool valid_client_name(std::string_view name) {
  for (char c : name) {
    if (c < '!' || c > '~') return false;
  }
  return true;
}

constexpr std::string_view kBadClientName =
    "ERR Client names cannot contain spaces, newlines or special characters.";

std::string client_line(const RespSession& session) {
  return fmt::format("id={} name={} db=0 resp=2 lib-name={} lib-ver={}\n", session.client_id,
                     session.name, session.lib_name, session.lib_version);
}

void reply_help(Buffer& out, std::span<const std::string_view> lines) {
  resp::array_header(out, lines.size());
  for (std::string_view line : lines) resp::simple(out, line);
}

}  // namespace

void cmd_ping(CommandContext& ctx) {
  if (ctx.args.size() > 2) {
    return resp::error(ctx.out, "ERR wrong number of arguments for 'ping' command");
  }
  if (ctx.session.subscribed()) {  // RESP2 subscriber mode: a pushed-message-like pair
    resp::array_header(ctx.out, 2);
    resp::bulk(ctx.out, "pong");
    return resp::bulk(ctx.out, ctx.args.size() == 2 ? ctx.args[1] : std::string_view());
  }
  if (ctx.args.size() == 2) return resp::bulk(ctx.out, ctx.args[1]);
  resp::simple(ctx.out, "PONG");
}

void cmd_echo(CommandContext& ctx) {
  resp::bulk(ctx.out, ctx.args[1]);
}

void cmd_select(CommandContext& ctx) {
  std::optional<std::int64_t> db = integer_arg(ctx, ctx.args[1]);
  if (!db) return;
  if (*db < INT32_MIN || *db > INT32_MAX) {
    return resp::error(ctx.out,
                       "ERR value is out of range, value must between -2147483648 and 2147483647");
  }
  if (*db != 0) return resp::error(ctx.out, "ERR DB index is out of range");
  resp::ok(ctx.out);
}

void cmd_quit(CommandContext& ctx) {
  ctx.session.quit = true;
  resp::ok(ctx.out);
}

// AUTH password | AUTH username password
void cmd_auth(CommandContext& ctx) {
  if (ctx.args.size() > 3) return resp::error(ctx.out, kSyntaxError);
  if (ctx.args.size() == 2 && ctx.settings.requirepass.empty()) {
    return resp::error(ctx.out,
                       "ERR AUTH <password> called without any password configured for the "
                       "default user. Are you sure your configuration is correct?");
  }
  std::string_view user = ctx.args.size() == 3 ? ctx.args[1] : "default";
  if (!authenticate(ctx.settings, user, ctx.args.back())) return resp::error(ctx.out, kWrongPass);
  ctx.session.authenticated = true;
  resp::ok(ctx.out);
}

// HELLO [protover [AUTH username password] [SETNAME clientname]]
void cmd_hello(CommandContext& ctx) {
  if (ctx.args.size() >= 2) {
    std::optional<std::int64_t> version = parse_redis_int(ctx.args[1]);
    if (!version) {
      return resp::error(ctx.out, "ERR Protocol version is not an integer or out of range");
    }
    // Only RESP2: HELLO 3 gets what a Redis without RESP3 would say, and the client stays on 2.
    if (*version != 2) return resp::error(ctx.out, "NOPROTO unsupported protocol version");
  }
  std::optional<std::pair<std::string_view, std::string_view>> credentials;
  std::optional<std::string_view> name;
  for (std::size_t j = 2; j < ctx.args.size(); ++j) {
    std::size_t more = ctx.args.size() - 1 - j;
    if (equals_ignore_case(ctx.args[j], "auth") && more >= 2) {
      credentials.emplace(ctx.args[j + 1], ctx.args[j + 2]);
      j += 2;
    } else if (equals_ignore_case(ctx.args[j], "setname") && more >= 1) {
      name = ctx.args[++j];
      if (!valid_client_name(*name)) return resp::error(ctx.out, kBadClientName);
    } else {
      return resp::error(
          ctx.out, fmt::format("ERR Syntax error in HELLO option '{}'", c_string(ctx.args[j])));
    }
  }
  if (credentials) {
    if (!authenticate(ctx.settings, credentials->first, credentials->second)) {
      return resp::error(ctx.out, kWrongPass);
    }
    ctx.session.authenticated = true;
  }
  if (!ctx.session.authenticated) {
    return resp::error(ctx.out,
                       "NOAUTH HELLO must be called with the client already authenticated, "
                       "otherwise the HELLO AUTH <user> <pass> option can be used to "
                       "authenticate the client and select the RESP protocol version at the "
                       "same time");
  }
  if (name) ctx.session.name = std::string(*name);
  resp::array_header(ctx.out, 14);  // a map of 7 pairs, flattened as RESP2 does
  resp::bulk(ctx.out, "server");
  resp::bulk(ctx.out, "redis");
  resp::bulk(ctx.out, "version");
  resp::bulk(ctx.out, kRedisVersion);
  resp::bulk(ctx.out, "proto");
  resp::integer(ctx.out, 2);
  resp::bulk(ctx.out, "id");
  resp::integer(ctx.out, static_cast<std::int64_t>(ctx.session.client_id));
  resp::bulk(ctx.out, "mode");
  resp::bulk(ctx.out, "standalone");
  resp::bulk(ctx.out, "role");
  resp::bulk(ctx.out, "master");
  resp::bulk(ctx.out, "modules");
  resp::array_header(ctx.out, 0);
}

// INFO [section ...]: server, clients, memory, keyspace ("all", "everything" and "default" give
// all of them; an unknown section gives nothing, as in Redis).
void cmd_info(CommandContext& ctx) {
  auto wants = [&](std::string_view section) {
    if (ctx.args.size() == 1) return true;
    for (std::size_t i = 1; i < ctx.args.size(); ++i) {
      if (equals_ignore_case(ctx.args[i], section) || equals_ignore_case(ctx.args[i], "all") ||
          equals_ignore_case(ctx.args[i], "everything") ||
          equals_ignore_case(ctx.args[i], "default")) {
        return true;
      }
    }
    return false;
  };
  std::string text;
  auto add_section = [&](std::string_view title, const std::string& body) {
    if (!text.empty()) text += "\r\n";
    text += fmt::format("# {}\r\n{}", title, body);
  };
  if (wants("server")) {
    using namespace std::chrono;
    auto now = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
    add_section("Server", fmt::format("redis_version:{}\r\nsrv_version:{}\r\n"
                                      "redis_mode:standalone\r\nos:Linux\r\narch_bits:64\r\n"
                                      "process_id:{}\r\nuptime_in_seconds:{}\r\n",
                                      kRedisVersion, SRV_VERSION, ::getpid(),
                                      (now - ctx.settings.start_time_ms) / 1000));
  }
  std::size_t blocked = 0;
  std::size_t keys = 0;
  std::size_t expiring = 0;
  MemoryStats memory;
  {
    auto access = ctx.keyspace.read();
    blocked = std::as_const(access).clients().blocked_clients();
    keys = access.size();
    if (wants("keyspace") && keys > 0) expiring = access.count_expiring();
    memory = access.memory();
  }
  if (wants("clients")) {
    add_section("Clients", fmt::format("connected_clients:{}\r\nblocked_clients:{}\r\n",
                                       ctx.keyspace.connected_clients(), blocked));
  }
  if (wants("memory")) {
    add_section("Memory", fmt::format("used_memory:{}\r\nmaxmemory:{}\r\n"
                                      "maxmemory_policy:noeviction\r\n",
                                      memory.used, ctx.settings.max_memory));
  }
  if (wants("keyspace")) {
    add_section("Keyspace",
                keys == 0 ? std::string()
                          : fmt::format("db0:keys={},expires={},avg_ttl=0\r\n", keys, expiring));
  }
  resp::bulk(ctx.out, text);
}

void cmd_client_id(CommandContext& ctx) {
  resp::integer(ctx.out, static_cast<std::int64_t>(ctx.session.client_id));
}

void cmd_client_setname(CommandContext& ctx) {
  if (!valid_client_name(ctx.args[2])) return resp::error(ctx.out, kBadClientName);
  ctx.session.name = std::string(ctx.args[2]);
  resp::ok(ctx.out);
}

void cmd_client_getname(CommandContext& ctx) {
  if (ctx.session.name.empty()) return resp::null_bulk(ctx.out);
  resp::bulk(ctx.out, ctx.session.name);
}

// CLIENT SETINFO LIB-NAME|LIB-VER value (Redis 7.2; newer client libraries send it).
void cmd_client_setinfo(CommandContext& ctx) {
  if (!valid_client_name(ctx.args[3])) {
    return resp::error(ctx.out,
                       "ERR lib-name or lib-ver cannot contain spaces, newlines or "
                       "special characters.");
  }
  if (equals_ignore_case(ctx.args[2], "lib-name")) {
    ctx.session.lib_name = std::string(ctx.args[3]);
  } else if (equals_ignore_case(ctx.args[2], "lib-ver")) {
    ctx.session.lib_version = std::string(ctx.args[3]);
  } else {
    return resp::error(ctx.out, fmt::format("ERR Unrecognized option '{}'", c_string(ctx.args[2])));
  }
  resp::ok(ctx.out);
}

void cmd_client_info(CommandContext& ctx) {
  resp::bulk(ctx.out, client_line(ctx.session));
}

void cmd_client_help(CommandContext& ctx) {
  static constexpr std::array<std::string_view, 7> kLines = {
      "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "GETNAME: Return the name of the current connection.",
      "ID: Return the ID of the current connection.",
      "INFO: Return information about the current client connection.",
      "SETINFO <option> <value>: Set client meta attr (LIB-NAME, LIB-VER).",
      "SETNAME <name>: Assign the name <name> to the current connection.",
      "HELP: Print this help.",
  };
  reply_help(ctx.out, kLines);
}

// CONFIG GET pattern [pattern ...]: the few parameters clients ask about, matched as globs
// without regard to case; each matching parameter once. A pattern without glob characters is
// echoed as typed, as Redis does.
void cmd_config_get(CommandContext& ctx) {
  const std::array<std::pair<std::string_view, std::string>, 6> parameters = {{
      {"appendonly", "no"},
      {"databases", "1"},
      {"maxmemory", std::to_string(ctx.settings.max_memory)},
      {"maxmemory-policy", "noeviction"},
      {"proto-max-bulk-len", std::to_string(ctx.settings.max_bulk_length)},
      {"save", ""},
  }};
  // For each parameter: the name to reply with, empty when no pattern matched it.
  std::array<std::string_view, parameters.size()> matched{};
  for (std::size_t i = 2; i < ctx.args.size(); ++i) {
    std::string_view typed = c_string(ctx.args[i]);
    std::string pattern(typed);
    bool literal = typed.find_first_of("*?[\\") == std::string_view::npos;
    for (std::size_t p = 0; p < parameters.size(); ++p) {
      std::string name(parameters[p].first);
      if (matched[p].empty() && ::fnmatch(pattern.c_str(), name.c_str(), FNM_CASEFOLD) == 0) {
        matched[p] = literal ? typed : parameters[p].first;
      }
    }
  }
  std::size_t n = 0;
  for (std::string_view m : matched) n += m.empty() ? 0 : 1;
  resp::array_header(ctx.out, 2 * n);
  for (std::size_t p = 0; p < parameters.size(); ++p) {
    if (matched[p].empty()) continue;
    resp::bulk(ctx.out, matched[p]);
    resp::bulk(ctx.out, parameters[p].second);
  }
}

void cmd_config_help(CommandContext& ctx) {
  static constexpr std::array<std::string_view, 3> kLines = {
      "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "GET <pattern>: Return parameters matching the glob-like <pattern> and their values.",
      "HELP: Print this help.",
  };
  reply_help(ctx.out, kLines);
}

}  // namespace srv::resp_impl
