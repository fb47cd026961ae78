#pragma once

// Internal to the resp command files: the command functions the table points at, and the
// helpers and error texts they share. Not for use outside protocols/resp_commands*.cc.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocols/resp_commands.h"

namespace srv {
struct ClientSlot;
}  // namespace srv

namespace srv::resp_impl {

// Redis's shared error replies, byte for byte.
inline constexpr std::string_view kWrongType =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
inline constexpr std::string_view kNotInteger = "ERR value is not an integer or out of range";
inline constexpr std::string_view kSyntaxError = "ERR syntax error";
inline constexpr std::string_view kOutOfMemory =
    "OOM command not allowed when used memory > 'maxmemory'.";
inline constexpr std::string_view kNoAuth = "NOAUTH Authentication required.";

bool equals_ignore_case(std::string_view a, std::string_view b);

/// What C's "%s" prints of an argument: the bytes before the first NUL. Redis formats client
/// bytes into messages with %s, so a NUL cuts them there.
std::string_view c_string(std::string_view bytes);

/// The argument as an int64 under Redis's rules; on failure replies `error` and returns nullopt.
std::optional<std::int64_t> integer_arg(CommandContext& ctx, std::string_view text,
                                        std::string_view error = kNotInteger);

/// "-ERR invalid expire time in 'set' command" for the running command.
void reply_invalid_expire(CommandContext& ctx);

/// Redis's addReplySubcommandSyntaxError, for a subcommand whose own arity check passed but
/// whose arguments its command refuses: "-ERR unknown subcommand or wrong number of arguments
/// for 'unblock'. Try CLIENT HELP." (the subcommand as typed, the command upper-cased).
void reply_subcommand_syntax_error(CommandContext& ctx);

// Keys (resp_commands_keys.cc).
void cmd_del(CommandContext& ctx);
void cmd_exists(CommandContext& ctx);
void cmd_expire(CommandContext& ctx);
void cmd_pexpire(CommandContext& ctx);
void cmd_ttl(CommandContext& ctx);
void cmd_pttl(CommandContext& ctx);
void cmd_persist(CommandContext& ctx);
void cmd_type(CommandContext& ctx);
void cmd_dbsize(CommandContext& ctx);
void cmd_flushall(CommandContext& ctx);

// Strings (resp_commands_string.cc).
void cmd_set(CommandContext& ctx);
void cmd_get(CommandContext& ctx);
void cmd_mset(CommandContext& ctx);
void cmd_mget(CommandContext& ctx);
void cmd_incr(CommandContext& ctx);
void cmd_decr(CommandContext& ctx);
void cmd_incrby(CommandContext& ctx);
void cmd_decrby(CommandContext& ctx);
void cmd_append(CommandContext& ctx);
void cmd_strlen(CommandContext& ctx);

// Lists at the ends and by index (resp_commands_list.cc).
void cmd_lpush(CommandContext& ctx);
void cmd_rpush(CommandContext& ctx);
void cmd_lpushx(CommandContext& ctx);
void cmd_rpushx(CommandContext& ctx);
void cmd_lpop(CommandContext& ctx);
void cmd_rpop(CommandContext& ctx);
void cmd_llen(CommandContext& ctx);
void cmd_lrange(CommandContext& ctx);
void cmd_lindex(CommandContext& ctx);

// Lists to lists and multi-key pops (resp_commands_list_move.cc).
void cmd_lmove(CommandContext& ctx);
void cmd_rpoplpush(CommandContext& ctx);
void cmd_lmpop(CommandContext& ctx);

// Lists searched and changed inside (resp_commands_list_edit.cc).
void cmd_lset(CommandContext& ctx);
void cmd_lrem(CommandContext& ctx);
void cmd_lpos(CommandContext& ctx);
void cmd_ltrim(CommandContext& ctx);
void cmd_linsert(CommandContext& ctx);

/// The client's entry in the ClientRegistry (made if needed, with its waker's address), or
/// nullptr when it cannot be woken (no doorbell: out of descriptors). Blocking and pub/sub
/// commands enrol before they wait; needs the write Access (resp_commands_blocking.cc).
srv::ClientSlot* enrol(RespSession& session, Keyspace::Access& access);

// Blocking lists (resp_commands_blocking.cc).
void cmd_blpop(CommandContext& ctx);
void cmd_brpop(CommandContext& ctx);
void cmd_brpoplpush(CommandContext& ctx);
void cmd_blmove(CommandContext& ctx);
void cmd_blmpop(CommandContext& ctx);
void cmd_client_unblock(CommandContext& ctx);

// Pub/sub (resp_commands_pubsub.cc).
void cmd_subscribe(CommandContext& ctx);
void cmd_psubscribe(CommandContext& ctx);
void cmd_unsubscribe(CommandContext& ctx);
void cmd_punsubscribe(CommandContext& ctx);
void cmd_publish(CommandContext& ctx);
void cmd_pubsub_channels(CommandContext& ctx);
void cmd_pubsub_numsub(CommandContext& ctx);
void cmd_pubsub_numpat(CommandContext& ctx);

// Connection and server (resp_commands_server.cc).
void cmd_ping(CommandContext& ctx);
void cmd_echo(CommandContext& ctx);
void cmd_select(CommandContext& ctx);
void cmd_quit(CommandContext& ctx);
void cmd_auth(CommandContext& ctx);
void cmd_hello(CommandContext& ctx);
void cmd_info(CommandContext& ctx);
void cmd_client_id(CommandContext& ctx);
void cmd_client_setname(CommandContext& ctx);
void cmd_client_getname(CommandContext& ctx);
void cmd_client_setinfo(CommandContext& ctx);
void cmd_client_info(CommandContext& ctx);
void cmd_client_help(CommandContext& ctx);
void cmd_config_get(CommandContext& ctx);
void cmd_config_help(CommandContext& ctx);

// COMMAND itself (resp_commands.cc, next to the table it describes).
void cmd_command(CommandContext& ctx);
void cmd_command_count(CommandContext& ctx);
void cmd_command_docs(CommandContext& ctx);
void cmd_command_info(CommandContext& ctx);
void cmd_command_list(CommandContext& ctx);
void cmd_command_help(CommandContext& ctx);

}  // namespace srv::resp_impl
