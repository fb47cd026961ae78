#pragma once

// Client connections for the conformance suite: a plain TCP socket or TLS over one, behind one
// interface, so that each test is written once and runs over both. Every helper reports a
// failure as text ("" means success) so tests can assert on it with a readable message.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace srv::test {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// How long a helper waits for a connection that moves no byte, so that no test can hang.
inline constexpr milliseconds kIoTimeout{20'000};

/// Owns a file descriptor and closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  /// Gives up ownership without closing.
  int release() { return std::exchange(fd_, -1); }
  /// Closes the current descriptor (if any) and owns `fd` instead.
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

/// The transport between a test client and srv.
enum class Wire : std::uint8_t { kTcp, kTls };

/// "tcp" or "tls", as srv names its transports.
const char* to_string(Wire wire);

/// What one non-blocking call on a client stream did.
struct Step {
  enum class Kind : std::uint8_t {
    kMoved,       ///< `bytes` moved (read, write), or the shutdown went out
    kWouldBlock,  ///< call again once the socket is ready for `wants_write`
    kClosed,      ///< the server ended the connection: EOF, reset, close_notify, a fatal alert
    kError,       ///< a local failure (say, the server's certificate did not verify)
  };
  Kind kind = Kind::kMoved;
  std::size_t bytes = 0;
  bool wants_write = false;  ///< kWouldBlock: waits for writability, else for readability
  std::string what;          ///< kClosed, kError: how

  static Step moved(std::size_t n = 0) { return {Kind::kMoved, n, false, {}}; }
  static Step blocked(bool on_write) { return {Kind::kWouldBlock, 0, on_write, {}}; }
  static Step closed(std::string how) { return {Kind::kClosed, 0, false, std::move(how)}; }
  static Step error(std::string how) { return {Kind::kError, 0, false, std::move(how)}; }
};

/// The byte-moving half of a client connection, over a non-blocking socket: a plain socket or
/// TLS. A TLS stream runs its handshake inside the first calls, so a connection the server has
/// not accepted yet can be opened and written to without waiting. Used by one thread at a
/// time; owns the socket.
class ClientStream {
 public:
  virtual ~ClientStream() = default;
  /// The socket, for polling and socket options.
  virtual int fd() const = 0;
  virtual Step read(std::span<char> into) = 0;
  /// Writes a prefix of `bytes`. After kWouldBlock, call again with the same bytes (a TLS record
  /// may be half written) or more of them.
  virtual Step write(std::string_view bytes) = 0;
  /// Ends our sending direction after what was written: TLS sends close_notify (finishing the
  /// handshake first if need be), then the socket is shut down for writing.
  virtual Step shutdown_write() = 0;
  /// True when input already taken off the socket waits to be read: polling cannot see it.
  virtual bool has_pending() const { return false; }
  /// The fatal alert the server ended the connection with ("internal_error"), or "".
  virtual std::string peer_alert() const { return {}; }
};

/// One client connection (or none: !valid()). Bytes given to send_some() that the socket did
/// not take at once wait in an outbox that every helper below sends first.
class Client {
 public:
  Client() = default;
  Client(Wire wire, std::unique_ptr<ClientStream> stream);
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  ~Client();

  bool valid() const { return stream_ != nullptr; }
  Wire wire() const { return wire_; }
  /// The socket (valid() only): for /proc look-ups and polling.
  int fd() const;
  /// The stream (valid() only), for tests that move bytes by hand.
  ClientStream& stream() { return *stream_; }
  /// See ClientStream::peer_alert().
  std::string peer_alert() const;

  /// Closes the connection as a client that simply goes away does: no close_notify.
  void reset();
  /// Closes with SO_LINGER {1, 0}: the server gets a reset.
  void abort();

  /// Queues `data` behind the bytes not sent yet; the helpers below send it.
  void post(std::string_view data);
  /// The queued bytes not sent yet.
  std::string_view unsent() const;
  /// The first `n` unsent bytes went out.
  void mark_sent(std::size_t n);
  /// Forgets the unsent bytes (the connection is gone).
  void drop_unsent();

 private:
  Wire wire_ = Wire::kTcp;
  std::unique_ptr<ClientStream> stream_;
  std::string outbox_;
  std::size_t outbox_sent_ = 0;
};

/// Connects to 127.0.0.1:`port` over `wire`, giving up after `timeout`. The socket is
/// non-blocking (the helpers poll) with TCP_NODELAY. TLS verifies the server against the test
/// certificate (see test_tls.h); its handshake happens during the first helper call. On failure
/// returns an invalid client and stores the reason in `*error` (if given).
Client connect_to(Wire wire, std::uint16_t port, milliseconds timeout = milliseconds(5'000),
                  std::string* error = nullptr);

/// Sends all of `data` (and the outbox before it). Fails if no byte moves for `idle_timeout`.
std::string send_all(Client& client, std::string_view data, milliseconds idle_timeout = kIoTimeout);

/// Queues `data` and sends what the connection takes now (over TLS, perhaps only the
/// ClientHello), without waiting; the rest goes out with the next helper call.
std::string send_some(Client& client, std::string_view data);

/// Sends `data` without reading replies until the connection has taken no byte for `stall` (the
/// server stopped reading) or `limit` has passed. Returns the number of bytes sent.
std::size_t send_until_stalled(Client& client, std::string_view data, milliseconds stall,
                               milliseconds limit);

/// Ends the sending direction: shutdown(SHUT_WR), after close_notify over TLS.
std::string shutdown_write(Client& client, milliseconds idle_timeout = kIoTimeout);

/// Reads exactly `n` bytes, appended to `out`. "" on success, else the reason (EOF after k
/// bytes, reset, no byte for `idle_timeout`).
std::string read_exactly(Client& client, std::size_t n, std::string& out,
                         milliseconds idle_timeout = kIoTimeout);

/// Sends `request` while concurrently reading the reply, so neither side can block the other
/// however large the request is, until `reply_size` bytes have arrived (stored in `reply`; no
/// byte beyond them is read). With `shut_wr`, ends the sending direction (shutdown_write) once
/// the whole request has been sent. Fails if no byte moves for `idle_timeout`.
std::string transact(Client& client, std::string_view request, std::size_t reply_size,
                     std::string& reply, milliseconds idle_timeout = kIoTimeout,
                     bool shut_wr = false);

/// Waits up to `timeout` for the server to end the connection (EOF, reset, close_notify, a
/// fatal alert). Bytes that arrive before are appended to `*received`; when `received` is null
/// any byte is a failure.
std::string expect_closed_by_peer(Client& client, milliseconds timeout,
                                  std::string* received = nullptr);

/// What a connection did within a time window.
enum class PeerActivity {
  kSilent,  ///< nothing arrived and it is still open
  kData,    ///< bytes arrived (appended to the caller's string)
  kClosed,  ///< the server ended it (with no bytes before)
};

/// Watches `client` (sending its outbox meanwhile) for up to `timeout`, returning as soon as
/// something happens.
PeerActivity watch_peer(Client& client, milliseconds timeout, std::string& data);

/// "silent", "data", "closed".
const char* to_string(PeerActivity activity);

/// The local (client-side) port of `client`, as srv's log lines name the peer.
std::uint16_t local_port(const Client& client);

}  // namespace srv::test
