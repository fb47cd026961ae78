#pragma once

// The command table and dispatcher of the resp protocol, modelled on Redis's (server.c
// processCommand, commands.def): every command has a lower-case name, an arity (N: exactly N
// arguments counting the name; -N: at least N) and flags; container commands (CLIENT, COMMAND,
// CONFIG) have subcommands named "client|setname". The dispatcher checks, in Redis's order,
// that the command exists, its arity, then authentication, and runs it. Each command appends
// exactly one reply.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/keyspace.h"
#include "server/buffer.h"
#include "server/clock.h"
#include "server/waker.h"

namespace srv {

/// Settings of one resp listener, fixed at config load; shared read-only by every connection.
struct RespSettings {
  std::size_t max_memory = 64 * 1024 * 1024;
  std::string requirepass;  ///< empty: no AUTH needed
  std::int64_t max_bulk_length = 512 * 1024;
  std::int64_t max_args = 1024 * 1024;
  /// Bytes of pushed messages a subscriber may have waiting before it is cut off.
  std::size_t pubsub_output_limit = 32 * 1024 * 1024;
  std::int64_t start_time_ms = 0;  ///< Unix ms when the listener was configured (INFO uptime)
};

/// Per-connection state that commands read and change (AUTH, CLIENT SETNAME, QUIT).
struct RespSession {
  std::uint64_t client_id = 0;
  std::string name;
  std::string lib_name;
  std::string lib_version;
  bool authenticated = true;
  bool quit = false;  ///< set by QUIT: close after this reply
  /// The connection's waker (ConnectionContext); null in tests that make handlers bare.
  Waker* waker = nullptr;
  /// Has an entry in the ClientRegistry (blocked once, or subscribed), to remove at the end.
  bool enrolled = false;
  /// A blocking command found nothing and queued the client: park until served or deadline.
  bool blocked = false;
  Clock::time_point block_deadline = Clock::time_point::max();
  /// Channels and patterns subscribed to, in the order subscribed (subscriber mode while any).
  std::vector<std::string> channels;
  std::vector<std::string> patterns;
  bool subscribed() const { return !channels.empty() || !patterns.empty(); }
};

struct CommandSpec;

/// Everything a command may use. `args` are views into the connection's input (the parser's
/// storage for inline commands), valid for this call only; commands copy what they keep.
struct CommandContext {
  std::span<const std::string_view> args;
  Buffer& out;
  Keyspace& keyspace;
  RespSession& session;
  const RespSettings& settings;
  const CommandSpec* spec = nullptr;  ///< the command running (its name goes into messages)
};

using CommandFn = void (*)(CommandContext&);

/// Command flags, as COMMAND INFO reports them.
enum CommandFlag : unsigned {
  kFlagWrite = 1u << 0,        ///< changes the keyspace
  kFlagReadonly = 1u << 1,     ///< reads the keyspace
  kFlagDenyOom = 1u << 2,      ///< may allocate: refused with -OOM when the store is full
  kFlagFast = 1u << 3,         ///< O(1) or O(log n)
  kFlagNoAuth = 1u << 4,       ///< allowed before AUTH (AUTH, HELLO, QUIT)
  kFlagMovableKeys = 1u << 5,  ///< keys found by parsing (LMPOP's numkeys), not by position
  kFlagBlocking = 1u << 6,     ///< may park the client (BLPOP)
};

/// One command (or subcommand) of the table.
struct CommandSpec {
  std::string_view name;  ///< lower case; "client|setname" for a subcommand
  int arity;
  unsigned flags;
  CommandFn run;
  int first_key = 0;  ///< COMMAND INFO's key positions; 0 when the command takes no key
  int last_key = 0;
  int key_step = 0;
  std::span<const CommandSpec> subcommands = {};
};

/// The top-level commands, sorted by name.
std::span<const CommandSpec> command_table();

/// The command named `name` (any case), or nullptr. Does not descend into subcommands.
const CommandSpec* find_command(std::string_view name);

/// Runs one parsed command (`ctx.args` non-empty) and appends its reply to `ctx.out`: the error
/// Redis gives for an unknown command or subcommand, wrong arity or missing AUTH, -OOM when the
/// keyspace is full, or the command's own reply. Safe from any thread or process; the keyspace
/// locks itself.
void execute_command(CommandContext& ctx);

/// What a connection found in its ClientRegistry mailbox.
struct Mail {
  bool cut = false;            ///< it fell behind its limit: close it (pub/sub)
  bool still_blocked = false;  ///< its blocking command has not been served yet
};

/// Moves the replies other clients left for this one (a served BLPOP, published messages) to
/// `out`. Takes the keyspace's write lock; the handler's thread.
/// `limit` is the most unsent output (`out` included) a subscriber may have.
Mail collect_mail(Keyspace& keyspace, RespSession& session, std::size_t limit, Buffer& out);

/// The blocked command's timeout passed: replies nil, or what served it if that happened first,
/// and unparks the session. The handler's thread.
void time_out_blocked(Keyspace& keyspace, RespSession& session, Buffer& out);

/// Removes the client's waits, subscriptions and mailbox (the connection is going).
void leave_registry(Keyspace& keyspace, RespSession& session) noexcept;

}  // namespace srv
