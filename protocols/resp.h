#pragma once

// The resp protocol: a Redis-compatible server (RESP2 and inline commands) over one keyspace
// shared by every connection of the listener, whatever the strategy. The keyspace lives in
// shared memory made when the factory is made (at config load, before any fork) and does its
// own locking, so handlers are safe on any thread and in any forked child. See keyspace.h for
// what survives a process dying mid-command, resp_commands.h for the command table.
//
// Listener options (protocol: {name: resp, options: {...}}):
//   max_memory       size of the shared keyspace (default 64MiB); a write that does not fit is
//                    answered "-OOM command not allowed when used memory > 'maxmemory'."
//   requirepass      when not empty, every command but AUTH, HELLO and QUIT answers
//                    "-NOAUTH Authentication required." until AUTH succeeds
//   max_bulk_length  longest argument (Redis's proto-max-bulk-len; default 512KiB). A command
//                    is parsed in place, so a whole command must fit limits.max_input_buffer
//                    (1MiB by default): keep this below it. A longer argument is a protocol
//                    error; a command longer than max_input_buffer closes the connection.
//   max_args         most arguments in one command (default 1048576); more is a protocol error
//   pubsub_output_limit  published messages a subscriber may have waiting, unsent, before it
//                    is disconnected (default 32MiB, Redis's client-output-buffer-limit pubsub
//                    hard limit); its mailbox and its connection's output each stay under it

#include <cstdint>
#include <memory>
#include <string_view>

#include "config/section.h"
#include "protocols/keyspace.h"
#include "protocols/resp_commands.h"
#include "protocols/resp_parser.h"
#include "server/protocol.h"

namespace srv {

/// What every handler of one listener shares: the settings and the keyspace.
struct RespState {
  RespState(const RespSettings& resp_settings, std::shared_ptr<Keyspace> shared)
      : settings(resp_settings), keyspace_owner(std::move(shared)), keyspace(*keyspace_owner) {}
  RespSettings settings;
  std::shared_ptr<Keyspace> keyspace_owner;
  Keyspace& keyspace;
};

/// The server's one keyspace, which every resp listener shares (as Redis serves one database
/// on its port and its TLS port) and which outlives a reload: a factory made while another
/// holds it gets the same one, so what is stored survives a new generation and a strategy
/// switch. Made (mapped) on first use. Main thread (config loading). Throws
/// std::invalid_argument if it exists with another max_memory (it cannot be resized).
std::shared_ptr<Keyspace> server_keyspace(std::size_t max_memory);

/// One connection: parses as many commands as have arrived (pipelining) and appends their
/// replies in order. Used on one thread at a time, like every handler.
class RespHandler final : public ProtocolHandler {
 public:
  /// Registers the connection with the shared state (CLIENT ID, INFO connected_clients).
  /// Counts each command answered into `meter`, which outlives the handler.
  RespHandler(std::shared_ptr<RespState> state, Waker* waker, RequestMeter& meter = null_meter());
  /// Leaves the ClientRegistry (no waiter is left behind by a client that disconnects).
  ~RespHandler() override;

  /// Runs every complete command at the front of `in`, stopping early once 64KiB of replies
  /// wait (the driver calls again when they are written). A protocol error is answered
  /// "-ERR Protocol error: ..." and closes after flushing, as does QUIT.
  Step on_data(std::string_view in, Buffer& out) override;

  /// A subscriber waits for publishers: no idle timeout (as Redis exempts pub/sub clients).
  bool waits_for_others() const override { return session_.subscribed(); }
  /// A blocking command's timeout, while parked; otherwise never.
  Clock::time_point deadline() const override { return session_.block_deadline; }
  /// The blocking command timed out: nil (or its reply, if served meanwhile); unparks.
  Verdict on_deadline(Buffer& out) override;
  /// Another client left replies in the mailbox (served BLPOP, published messages): writes
  /// them; unparks once the blocking command is served; closes a subscriber cut at its limit.
  Verdict on_wake(Buffer& out) override;

 private:
  /// Counts the command of `request_bytes` whose reply starts at `reply_at` in `out`: an error
  /// reply by its kind.
  void count_reply(const Buffer& out, std::size_t reply_at, std::size_t request_bytes);

  std::shared_ptr<RespState> state_;
  RequestMeter& meter_;
  RespParser parser_;
  RespSession session_;
};

/// Makes RespHandlers over one shared keyspace. create() is safe from any thread and from
/// forked children (it only copies a shared_ptr and takes a lock-free client id).
class RespFactory final : public ProtocolFactory {
 public:
  /// Maps a keyspace of its own. Throws std::system_error if the shared memory cannot be had.
  explicit RespFactory(const RespSettings& settings);
  /// Serves `keyspace` (server_keyspace()).
  RespFactory(const RespSettings& settings, std::shared_ptr<Keyspace> keyspace);

  std::unique_ptr<ProtocolHandler> create(const ConnectionContext& context) override;
  /// "-ERR max number of clients reached\r\n", as Redis answers past maxclients.
  std::string_view refusal() const override;

  /// The shared keyspace (for tests and tools).
  Keyspace& keyspace() { return state_->keyspace; }
  const RespSettings& settings() const { return state_->settings; }

 private:
  std::shared_ptr<RespState> state_;
};

/// Reads the listener options (above; an unknown key is an error at its file:line:col) and
/// makes the factory, mapping the keyspace now so forked strategies inherit it.
std::unique_ptr<ProtocolFactory> make_resp_protocol(Section& options);

}  // namespace srv
