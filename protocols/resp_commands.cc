#include "protocols/resp_commands.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <new>

#include <fmt/format.h>
#include <boost/interprocess/exceptions.hpp>

#include "protocols/resp_commands_impl.h"
#include "protocols/resp_parser.h"
#include "protocols/resp_reply.h"

namespace srv {
namespace {

using namespace resp_impl;

constexpr unsigned kW = kFlagWrite;
constexpr unsigned kR = kFlagReadonly;
constexpr unsigned kOom = kFlagDenyOom;
constexpr unsigned kF = kFlagFast;
constexpr unsigned kNA = kFlagNoAuth;
constexpr unsigned kMK = kFlagMovableKeys;
constexpr unsigned kB = kFlagBlocking;

constexpr std::array kClientCommands = {
    CommandSpec{"client|getname", 2, kF, cmd_client_getname},
    CommandSpec{"client|help", 2, kF, cmd_client_help},
    CommandSpec{"client|id", 2, kF, cmd_client_id},
    CommandSpec{"client|info", 2, 0, cmd_client_info},
    CommandSpec{"client|setinfo", 4, kF, cmd_client_setinfo},
    CommandSpec{"client|setname", 3, kF, cmd_client_setname},
    CommandSpec{"client|unblock", -3, 0, cmd_client_unblock},
};

constexpr std::array kCommandCommands = {
    CommandSpec{"command|count", 2, 0, cmd_command_count},
    CommandSpec{"command|docs", -2, 0, cmd_command_docs},
    CommandSpec{"command|help", 2, 0, cmd_command_help},
    CommandSpec{"command|info", -2, 0, cmd_command_info},
    CommandSpec{"command|list", -2, 0, cmd_command_list},
};

constexpr std::array kConfigCommands = {
    CommandSpec{"config|get", -3, 0, cmd_config_get},
    CommandSpec{"config|help", 2, 0, cmd_config_help},
};

constexpr std::array kPubsubCommands = {
    CommandSpec{"pubsub|channels", -2, 0, cmd_pubsub_channels},
    CommandSpec{"pubsub|numpat", 2, 0, cmd_pubsub_numpat},
    CommandSpec{"pubsub|numsub", -2, 0, cmd_pubsub_numsub},
};

// Sorted by name for binary search (checked below).
constexpr std::array kCommands = {
    CommandSpec{"append", 3, kW | kOom | kF, cmd_append, 1, 1, 1},
    CommandSpec{"auth", -2, kNA | kF, cmd_auth},
    CommandSpec{"blmove", 6, kW | kOom | kB, cmd_blmove, 1, 2, 1},
    CommandSpec{"blmpop", -5, kW | kB | kMK, cmd_blmpop},
    CommandSpec{"blpop", -3, kW | kB, cmd_blpop, 1, -2, 1},
    CommandSpec{"brpop", -3, kW | kB, cmd_brpop, 1, -2, 1},
    CommandSpec{"brpoplpush", 4, kW | kOom | kB, cmd_brpoplpush, 1, 2, 1},
    CommandSpec{"client", -2, 0, nullptr, 0, 0, 0, kClientCommands},
    CommandSpec{"command", -1, 0, cmd_command, 0, 0, 0, kCommandCommands},
    CommandSpec{"config", -2, 0, nullptr, 0, 0, 0, kConfigCommands},
    CommandSpec{"dbsize", 1, kR | kF, cmd_dbsize},
    CommandSpec{"decr", 2, kW | kOom | kF, cmd_decr, 1, 1, 1},
    CommandSpec{"decrby", 3, kW | kOom | kF, cmd_decrby, 1, 1, 1},
    CommandSpec{"del", -2, kW, cmd_del, 1, -1, 1},
    CommandSpec{"echo", 2, kF, cmd_echo},
    CommandSpec{"exists", -2, kR | kF, cmd_exists, 1, -1, 1},
    CommandSpec{"expire", -3, kW | kF, cmd_expire, 1, 1, 1},
    CommandSpec{"flushall", -1, kW, cmd_flushall},
    CommandSpec{"get", 2, kR | kF, cmd_get, 1, 1, 1},
    CommandSpec{"hello", -1, kNA | kF, cmd_hello},
    CommandSpec{"incr", 2, kW | kOom | kF, cmd_incr, 1, 1, 1},
    CommandSpec{"incrby", 3, kW | kOom | kF, cmd_incrby, 1, 1, 1},
    CommandSpec{"info", -1, 0, cmd_info},
    CommandSpec{"lindex", 3, kR, cmd_lindex, 1, 1, 1},
    CommandSpec{"linsert", 5, kW | kOom, cmd_linsert, 1, 1, 1},
    CommandSpec{"llen", 2, kR | kF, cmd_llen, 1, 1, 1},
    CommandSpec{"lmove", 5, kW | kOom, cmd_lmove, 1, 2, 1},
    CommandSpec{"lmpop", -4, kW | kMK, cmd_lmpop},
    CommandSpec{"lpop", -2, kW | kF, cmd_lpop, 1, 1, 1},
    CommandSpec{"lpos", -3, kR, cmd_lpos, 1, 1, 1},
    CommandSpec{"lpush", -3, kW | kOom | kF, cmd_lpush, 1, 1, 1},
    CommandSpec{"lpushx", -3, kW | kOom | kF, cmd_lpushx, 1, 1, 1},
    CommandSpec{"lrange", 4, kR, cmd_lrange, 1, 1, 1},
    CommandSpec{"lrem", 4, kW, cmd_lrem, 1, 1, 1},
    CommandSpec{"lset", 4, kW | kOom, cmd_lset, 1, 1, 1},
    CommandSpec{"ltrim", 4, kW, cmd_ltrim, 1, 1, 1},
    CommandSpec{"mget", -2, kR | kF, cmd_mget, 1, -1, 1},
    CommandSpec{"mset", -3, kW | kOom, cmd_mset, 1, -1, 2},
    CommandSpec{"persist", 2, kW | kF, cmd_persist, 1, 1, 1},
    CommandSpec{"pexpire", -3, kW | kF, cmd_pexpire, 1, 1, 1},
    CommandSpec{"ping", -1, kF, cmd_ping},
    CommandSpec{"psubscribe", -2, 0, cmd_psubscribe},
    CommandSpec{"pttl", 2, kR | kF, cmd_pttl, 1, 1, 1},
    CommandSpec{"publish", 3, kF, cmd_publish},
    CommandSpec{"pubsub", -2, 0, nullptr, 0, 0, 0, kPubsubCommands},
    CommandSpec{"punsubscribe", -1, 0, cmd_punsubscribe},
    CommandSpec{"quit", -1, kNA | kF, cmd_quit},
    CommandSpec{"rpop", -2, kW | kF, cmd_rpop, 1, 1, 1},
    CommandSpec{"rpoplpush", 3, kW | kOom, cmd_rpoplpush, 1, 2, 1},
    CommandSpec{"rpush", -3, kW | kOom | kF, cmd_rpush, 1, 1, 1},
    CommandSpec{"rpushx", -3, kW | kOom | kF, cmd_rpushx, 1, 1, 1},
    CommandSpec{"select", 2, kF, cmd_select},
    CommandSpec{"set", -3, kW | kOom, cmd_set, 1, 1, 1},
    CommandSpec{"strlen", 2, kR | kF, cmd_strlen, 1, 1, 1},
    CommandSpec{"subscribe", -2, 0, cmd_subscribe},
    CommandSpec{"ttl", 2, kR | kF, cmd_ttl, 1, 1, 1},
    CommandSpec{"type", 2, kR | kF, cmd_type, 1, 1, 1},
    CommandSpec{"unsubscribe", -1, 0, cmd_unsubscribe},
};

constexpr bool by_name(const CommandSpec& a, const CommandSpec& b) {
  return a.name < b.name;
}
static_assert(std::is_sorted(kCommands.begin(), kCommands.end(), by_name));
static_assert(std::is_sorted(kClientCommands.begin(), kClientCommands.end(), by_name));
static_assert(std::is_sorted(kCommandCommands.begin(), kCommandCommands.end(), by_name));
static_assert(std::is_sorted(kPubsubCommands.begin(), kPubsubCommands.end(), by_name));
static_assert(std::is_sorted(kConfigCommands.begin(), kConfigCommands.end(), by_name));

// Longer than any command or subcommand name: such an argument names nothing.
constexpr std::size_t kMaxNameLength = 16;

// `name` (a command or subcommand as the client typed it) in `table`, where names are
// "prefix|sub" for subcommands.
const CommandSpec* lookup(std::span<const CommandSpec> table, std::string_view prefix,
                          std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return nullptr;
  std::array<char, 2 * kMaxNameLength + 1> buffer{};
  std::size_t n = 0;
  for (char c : prefix) buffer[n++] = c;
  for (char c : name) buffer[n++] = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view key(buffer.data(), n);
  auto it =
      std::lower_bound(table.begin(), table.end(), key,
                       [](const CommandSpec& spec, std::string_view k) { return spec.name < k; });
  return it != table.end() && it->name == key ? &*it : nullptr;
}

bool arity_ok(int arity, std::size_t argc) {
  auto n = static_cast<std::int64_t>(argc);
  return arity >= 0 ? n == arity : n >= -arity;
}

// "-ERR unknown command 'foo', with args beginning with: 'a' 'b' ", built exactly as Redis 7
// does: each argument quoted and cut so that the list stops growing past 128 characters.
void reply_unknown_command(CommandContext& ctx) {
  std::string args;
  for (std::size_t i = 1; i < ctx.args.size() && args.size() < 128; ++i) {
    std::string_view arg = c_string(ctx.args[i]).substr(0, 128 - args.size());
    args += '\'';
    args += arg;
    args += "' ";
  }
  resp::error(ctx.out, fmt::format("ERR unknown command '{}', with args beginning with: {}",
                                   c_string(ctx.args[0]).substr(0, 128), args));
}

// The command as the client typed it, upper-cased, as Redis names it in "Try CLIENT HELP.".
std::string upper_command(const CommandContext& ctx) {
  std::string command(c_string(ctx.args[0]));
  for (char& c : command) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return command;
}

void reply_unknown_subcommand(CommandContext& ctx) {
  resp::error(ctx.out, fmt::format("ERR unknown subcommand '{}'. Try {} HELP.",
                                   c_string(ctx.args[1]).substr(0, 128), upper_command(ctx)));
}

// COMMAND INFO's 10-element description of one command (RESP2 form of Redis 7's reply).
void reply_command_info(Buffer& out, const CommandSpec& spec) {
  resp::array_header(out, 10);
  resp::bulk(out, spec.name);
  resp::integer(out, spec.arity);
  static constexpr std::array<std::pair<unsigned, std::string_view>, 7> kFlagNames = {{
      {kFlagWrite, "write"},
      {kFlagReadonly, "readonly"},
      {kFlagDenyOom, "denyoom"},
      {kFlagFast, "fast"},
      {kFlagNoAuth, "no_auth"},
      {kFlagMovableKeys, "movablekeys"},
      {kFlagBlocking, "blocking"},
  }};
  std::size_t flags = 0;
  for (auto [bit, name] : kFlagNames) flags += (spec.flags & bit) != 0 ? 1 : 0;
  resp::array_header(out, flags);
  for (auto [bit, name] : kFlagNames) {
    if ((spec.flags & bit) != 0) resp::simple(out, name);
  }
  resp::integer(out, spec.first_key);
  resp::integer(out, spec.last_key);
  resp::integer(out, spec.key_step);
  resp::array_header(out, 0);  // ACL categories
  resp::array_header(out, 0);  // tips
  resp::array_header(out, 0);  // key specifications
  resp::array_header(out, spec.subcommands.size());
  for (const CommandSpec& sub : spec.subcommands) reply_command_info(out, sub);
}

// A command's full name ("client|setname") as COMMAND INFO accepts it, or nullptr.
const CommandSpec* find_by_full_name(std::string_view name) {
  std::size_t bar = name.find('|');
  const CommandSpec* spec = find_command(name.substr(0, bar));
  if (spec == nullptr || bar == std::string_view::npos) return spec;
  std::string prefix(spec->name);
  prefix += '|';
  return lookup(spec->subcommands, prefix, name.substr(bar + 1));
}

// RESP2 subscriber mode, as Redis 7.0's processCommand restricts it.
bool allowed_when_subscribed(std::string_view name) {
  constexpr std::array<std::string_view, 7> kAllowed = {
      "ping", "subscribe", "unsubscribe", "psubscribe", "punsubscribe", "quit", "reset"};
  return std::find(kAllowed.begin(), kAllowed.end(), name) != kAllowed.end();
}

}  // namespace

std::span<const CommandSpec> command_table() {
  return kCommands;
}

const CommandSpec* find_command(std::string_view name) {
  return lookup(kCommands, {}, name);
}

void execute_command(CommandContext& ctx) {
  const CommandSpec* spec = find_command(ctx.args[0]);
  if (spec == nullptr) return reply_unknown_command(ctx);
  // A container with arguments names a subcommand (Redis's lookupCommand); alone, it is the
  // container itself, whose arity then decides ("CLIENT" → wrong number of arguments).
  if (!spec->subcommands.empty() && ctx.args.size() >= 2) {
    std::string prefix(spec->name);
    prefix += '|';
    spec = lookup(spec->subcommands, prefix, ctx.args[1]);
    if (spec == nullptr) return reply_unknown_subcommand(ctx);
  }
  if (!arity_ok(spec->arity, ctx.args.size())) {
    return resp::error(ctx.out,
                       fmt::format("ERR wrong number of arguments for '{}' command", spec->name));
  }
  if (!ctx.session.authenticated && (spec->flags & kFlagNoAuth) == 0) {
    return resp::error(ctx.out, kNoAuth);
  }
  if (ctx.session.subscribed() && !allowed_when_subscribed(spec->name)) {
    return resp::error(ctx.out, fmt::format("ERR Can't execute '{}': only (P|S)SUBSCRIBE / "
                                            "(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed "
                                            "in this context",
                                            spec->name));
  }
  ctx.spec = spec;
  // Commands allocate in the shared heap before they reply and leave the store as it was when
  // an allocation fails, so the whole reply is the error.
  try {
    spec->run(ctx);
  } catch (const boost::interprocess::bad_alloc&) {
    resp::error(ctx.out, kOutOfMemory);
  } catch (const std::bad_alloc&) {
    resp::error(ctx.out, kOutOfMemory);
  } catch (const std::length_error&) {  // a container asked for more than max_size()
    resp::error(ctx.out, kOutOfMemory);
  }
}

namespace resp_impl {

bool equals_ignore_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view c_string(std::string_view bytes) {
  return bytes.substr(0, bytes.find('\0'));
}

std::optional<std::int64_t> integer_arg(CommandContext& ctx, std::string_view text,
                                        std::string_view error) {
  std::optional<std::int64_t> value = parse_redis_int(text);
  if (!value) resp::error(ctx.out, error);
  return value;
}

void reply_subcommand_syntax_error(CommandContext& ctx) {
  resp::error(ctx.out, fmt::format("ERR unknown subcommand or wrong number of arguments for '{}'. "
                                   "Try {} HELP.",
                                   c_string(ctx.args[1]).substr(0, 128), upper_command(ctx)));
}

void reply_invalid_expire(CommandContext& ctx) {
  resp::error(ctx.out, fmt::format("ERR invalid expire time in '{}' command", ctx.spec->name));
}

void cmd_command(CommandContext& ctx) {
  resp::array_header(ctx.out, kCommands.size());
  for (const CommandSpec& spec : kCommands) reply_command_info(ctx.out, spec);
}

void cmd_command_count(CommandContext& ctx) {
  resp::integer(ctx.out, static_cast<std::int64_t>(kCommands.size()));
}

void cmd_command_docs(CommandContext& ctx) {
  // No documentation is kept: an empty map. redis-cli 7 asks for it at start and then simply
  // has no hints.
  resp::array_header(ctx.out, 0);
}

void cmd_command_info(CommandContext& ctx) {
  if (ctx.args.size() == 2) return cmd_command(ctx);
  resp::array_header(ctx.out, ctx.args.size() - 2);
  for (std::size_t i = 2; i < ctx.args.size(); ++i) {
    const CommandSpec* spec = find_by_full_name(ctx.args[i]);
    if (spec != nullptr) {
      reply_command_info(ctx.out, *spec);
    } else {
      resp::null_bulk(ctx.out);
    }
  }
}

void cmd_command_list(CommandContext& ctx) {
  if (ctx.args.size() > 2) return resp::error(ctx.out, kSyntaxError);  // no FILTERBY support
  std::size_t n = 0;
  for (const CommandSpec& spec : kCommands) n += 1 + spec.subcommands.size();
  resp::array_header(ctx.out, n);
  for (const CommandSpec& spec : kCommands) {
    resp::bulk(ctx.out, spec.name);
    for (const CommandSpec& sub : spec.subcommands) resp::bulk(ctx.out, sub.name);
  }
}

void cmd_command_help(CommandContext& ctx) {
  static constexpr std::array<std::string_view, 6> kLines = {
      "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "(no subcommand): Return details about all commands.",
      "COUNT: Return the total number of commands.",
      "DOCS [<command-name> ...]: Return documentation (none is kept: an empty map).",
      "INFO [<command-name> ...]: Return details about the given or all commands.",
      "LIST: Return a list of all commands.",
  };
  resp::array_header(ctx.out, kLines.size());
  for (std::string_view line : kLines) resp::simple(ctx.out, line);
}

}  // namespace resp_impl
}  // namespace srv
