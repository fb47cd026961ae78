// Fuzzes the server side of TLS: a TlsTransport made by a TlsServer (from TlsSettings, with a
// certificate made once per process) reads what a client sends over a socketpair, driven the
// way the event loops drive it: read when the fd polls ready for what the last call waited for,
// or when has_pending() says decrypted input is waiting. The first two input bytes pick how:
// - raw (most inputs): the rest of the input is the client's bytes, as they come off the wire
//   (seeds: real ClientHellos); the client half-closes after them, or stalls;
// - tls: an OpenSSL client (TLS 1.3, or 1.2 at most) completes a real handshake, then sends the
//   rest of the input as application data in fuzzer-chosen writes (one at a time, or all in a
//   burst), then close_notify or nothing; the server writes it all back and shuts its side;
// - after: a real handshake, then the rest of the input as raw bytes (records the session's keys
//   cannot have made), then a half-close.
// Beyond "no crash, no sanitizer report, nothing leaked", it checks for every input:
// - a read never reports more bytes than it was given room for, and kDone carries bytes; a read
//   that blocks leaves has_pending() false (else the event loops would spin);
// - the transport comes to an end: with the client's side closed it reports EOF or an error
//   within a bounded number of reads, and a stalled handshake has a finite deadline after which
//   the transport is broken;
// - nothing is stranded: once the client has sent everything, the server has read every byte of
//   application data in order (and the close_notify, if sent) without waiting for readiness
//   that will never come; what the server writes reaches the client whole, then its
//   close_notify.

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "server/tls_server.h"
#include "server/tls_settings.h"
#include "server/transport.h"
#include "tests/tls_files.h"

namespace {

using srv::IoResult;
using srv::IoStatus;
using srv::Readiness;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "tls_fuzz: %s\n", what);
  std::abort();
}

// Two servers: the defaults (TLS 1.2 and 1.3, ALPN http/1.1, a second certificate chosen by SNI)
// and a stricter one (TLS 1.3 only, client certificates asked for, no tickets, no ALPN).
srv::TlsServer& tls_server(bool strict) {
  static srv::TlsServer* const servers[2] = {
      [] {
        spdlog::set_level(spdlog::level::warn);  // one info line per failed handshake otherwise
        const srv::test::TlsFiles& files = srv::test::tls_files();
        srv::TlsSettings settings;
        settings.certificates.push_back({files.cert, files.key, {}});
        settings.certificates.push_back({files.cert, files.key, {"*.example.com"}});
        settings.alpn = {"http/1.1"};
        // A session cache keeps memory from one input to the next, and libFuzzer then runs
        // LeakSanitizer after every input, a hundred times slower.
        settings.session_cache = 0;
        return new srv::TlsServer(settings);  // lives as long as the process
      }(),
      [] {
        const srv::test::TlsFiles& files = srv::test::tls_files();
        srv::TlsSettings settings;
        settings.certificates.push_back({files.cert, files.key, {}});
        settings.tls13_only = true;
        settings.client_ca = files.cert;
        settings.verify_client = srv::ClientVerify::kOptional;
        settings.session_tickets = false;
        settings.session_cache = 0;
        return new srv::TlsServer(settings);
      }()};
  return *servers[strict ? 1 : 0];
}

SSL_CTX* client_context() {
  static SSL_CTX* const context = [] {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) fail("SSL_CTX_new");
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    static constexpr unsigned char kAlpn[] = "\x08http/1.1";
    SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof kAlpn - 1);
    return ctx;
  }();
  return context;
}

enum class Mode { kRaw, kTls, kAfterHandshake };

// What the first two input bytes choose.
struct Plan {
  Mode mode = Mode::kRaw;
  bool strict = false;        // the stricter server
  bool client_closes = true;  // raw: half-close after the input; tls: close_notify at the end
  bool tls12 = false;         // the client offers TLS 1.2 at most
  bool burst = false;         // tls: the client sends all it can before the server reads
  std::size_t room = 0;       // the size of each read
  std::size_t chunk = 0;      // the size of the client's writes
};

Plan plan_for(std::uint8_t how, std::uint8_t sizes) {
  static constexpr std::size_t kRooms[] = {1, 5, 512, 16384 + 7};
  static constexpr std::size_t kChunks[] = {1, 3, 700, std::size_t{1} << 20};
  static constexpr Mode kModes[] = {Mode::kRaw, Mode::kRaw, Mode::kRaw, Mode::kRaw,
                                    Mode::kRaw, Mode::kTls, Mode::kTls, Mode::kAfterHandshake};
  Plan plan;
  plan.mode = kModes[how & 7];
  plan.strict = (how & 8) != 0;
  plan.client_closes = (how & 16) != 0;
  plan.tls12 = (how & 32) != 0;
  plan.burst = (how & 64) != 0;
  plan.room = kRooms[sizes & 3];
  plan.chunk = kChunks[(sizes >> 2) & 3];
  return plan;
}

// The server end of the socketpair and what it has read.
class ServerSide {
 public:
  ServerSide(srv::TlsServer& factory, int fd, std::size_t room)
      : transport_(factory.wrap(fd)), room_(room), buffer_(room, '\0') {}

  // One read if the event loops would make one now (ready fd or pending input). False if not.
  bool step() {
    if (ended_) return false;
    bool pending = transport_->has_pending();
    pollfd p{transport_->fd(),
             static_cast<short>(waits_ == Readiness::kReadable ? POLLIN : POLLOUT), 0};
    if (!pending && ::poll(&p, 1, 0) <= 0) return false;
    IoResult r = transport_->read({buffer_.data(), room_});
    if (r.bytes > room_) fail("read reported more bytes than the room it was given");
    if (r.status == IoStatus::kWouldBlock && transport_->has_pending()) {
      fail("a read blocked and has_pending() stayed true: the event loops would spin");
    }
    switch (r.status) {
      case IoStatus::kDone:
        if (r.bytes == 0) fail("a kDone read with no bytes");
        received_.append(buffer_.data(), r.bytes);
        break;
      case IoStatus::kWouldBlock:
        waits_ = r.waits_for;
        break;
      case IoStatus::kEof:
        eof_ = true;
        ended_ = true;
        break;
      case IoStatus::kError:
        ended_ = true;
        break;
    }
    return true;
  }

  srv::Transport& transport() { return *transport_; }
  bool ended() const { return ended_; }
  bool eof() const { return eof_; }
  const std::string& received() const { return received_; }

 private:
  std::unique_ptr<srv::Transport> transport_;
  std::size_t room_;
  std::string buffer_;
  std::string received_;
  Readiness waits_ = Readiness::kReadable;
  bool ended_ = false;
  bool eof_ = false;
};

// Runs both sides until neither can move; `client_step` says whether the client moved.
template <typename ClientStep>
void run(ServerSide& server, ClientStep client_step, std::size_t budget) {
  for (std::size_t steps = 0;; ++steps) {
    if (steps > budget) fail("the transport keeps reading without coming to an end");
    bool moved = client_step();
    moved = server.step() || moved;
    if (!moved) return;
  }
}

// The raw client: writes `bytes` as they come, drains what the server sends, maybe half-closes.
void fuzz_raw(const Plan& plan, std::string_view bytes, int client, ServerSide& server) {
  std::size_t sent = 0;
  bool shut = false;
  auto client_step = [&] {
    bool moved = false;
    char sink[4096];
    while (::recv(client, sink, sizeof sink, MSG_DONTWAIT) > 0) moved = true;
    if (sent < bytes.size()) {
      std::size_t n = std::min(plan.chunk, bytes.size() - sent);
      ssize_t w = ::send(client, bytes.data() + sent, n, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (w > 0) {
        sent += static_cast<std::size_t>(w);
        moved = true;
      }
    } else if (plan.client_closes && !shut) {
      ::shutdown(client, SHUT_WR);
      shut = moved = true;
    }
    return moved;
  };
  run(server, client_step, 4 * bytes.size() + 1000);
  if (sent < bytes.size() && !server.ended()) fail("the server stopped reading a live client");
  if (shut && !server.ended()) fail("the client closed, the server never saw the end");
}

// A real handshake between an OpenSSL client on `client` and the server. False if it fails
// (the stricter server, or a server that stopped: not a property violation by itself).
bool handshake(SSL* ssl, ServerSide& server) {
  bool done = false;
  auto client_step = [&] {
    if (done) return false;
    BIO* bio = SSL_get_rbio(ssl);
    std::uint64_t before = BIO_number_read(bio) + BIO_number_written(bio);
    ERR_clear_error();
    done = SSL_do_handshake(ssl) == 1;
    return done || BIO_number_read(bio) + BIO_number_written(bio) != before;
  };
  run(server, client_step, 10000);
  ERR_clear_error();
  return done && !server.ended();
}

// After the handshake: the client sends `data` in plan.chunk writes through TLS, then maybe
// close_notify; the server must read all of it, in order, and the close_notify.
void fuzz_tls(const Plan& plan, std::string_view data, SSL* ssl, ServerSide& server) {
  std::size_t sent = 0;
  bool notified = false;
  auto client_step = [&] {
    bool moved = false;
    char sink[4096];
    std::size_t n = 0;
    ERR_clear_error();
    while (SSL_read_ex(ssl, sink, sizeof sink, &n) == 1) moved = true;  // tickets, if any
    for (bool again = true; again; again = again && plan.burst) {
      again = false;
      ERR_clear_error();
      if (sent < data.size()) {
        std::size_t piece = std::min(plan.chunk, data.size() - sent);
        if (SSL_write_ex(ssl, data.data() + sent, piece, &n)) {
          sent += n;
          moved = again = true;
        }
      } else if (plan.client_closes && !notified) {
        // close_notify; the TCP side stays open, as socat and others keep it. A full socket
        // makes OpenSSL keep the alert for the next call.
        notified = moved = SSL_shutdown(ssl) >= 0;
      }
    }
    ERR_clear_error();
    return moved;
  };
  run(server, client_step, 4 * data.size() + 1000);
  if (sent < data.size()) fail("the client could not send everything");
  if (server.received() != data) fail("the server read other bytes than the client sent");
  if (notified && !server.eof()) fail("close_notify stranded: the server never reported EOF");
  if (!notified && server.ended()) fail("the server ended a connection the client kept open");
}

// Then the server sends the same bytes back through write(), at most `room` per call, and ends
// with shutdown_write(); the client must read exactly them, then the server's close_notify.
void fuzz_echo(const Plan& plan, std::string_view data, SSL* ssl, ServerSide& server) {
  srv::Transport& t = server.transport();
  std::size_t written = 0;
  bool shut = false;
  bool client_eof = false;
  std::string got;
  auto step = [&] {
    bool moved = false;
    if (written < data.size()) {
      std::string_view piece = data.substr(written, plan.room);
      IoResult w = t.write(piece);
      if (w.status == IoStatus::kError) fail("a write failed on a healthy connection");
      if (w.bytes > piece.size()) fail("a write reported more bytes than it was given");
      if (w.status == IoStatus::kDone && w.bytes == 0) fail("a kDone write with no bytes");
      written += w.bytes;
      moved = w.bytes > 0;
    } else if (!shut) {
      IoResult r = t.shutdown_write();
      if (r.status == IoStatus::kError) fail("shutdown_write failed on a healthy connection");
      shut = moved = r.status == IoStatus::kDone;
    }
    char sink[4096];
    std::size_t n = 0;
    int rc;
    ERR_clear_error();
    while ((rc = SSL_read_ex(ssl, sink, sizeof sink, &n)) == 1) {
      got.append(sink, n);
      moved = true;
    }
    if (!client_eof && SSL_get_error(ssl, rc) == SSL_ERROR_ZERO_RETURN) client_eof = moved = true;
    ERR_clear_error();
    return moved;
  };
  for (std::size_t steps = 0; step(); ++steps) {
    if (steps > 4 * data.size() + 1000) fail("the echo keeps going without an end");
  }
  if (got != data) fail("the client read other bytes than the server wrote");
  if (!shut || !client_eof) fail("shutdown_write did not reach the client as close_notify");
}

// A stalled handshake: a finite deadline, and after it the transport refuses to go on.
void check_stall(ServerSide& server) {
  srv::Transport& t = server.transport();
  if (t.deadline() == srv::Clock::time_point::max()) fail("a stalled handshake has no deadline");
  t.on_deadline();
  char byte;
  if (t.read({&byte, 1}).status != IoStatus::kError) fail("read after on_deadline did not fail");
  if (t.deadline() != srv::Clock::time_point::max()) fail("a broken transport keeps a deadline");
}

void fuzz_one(const Plan& plan, std::string_view rest) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
    fail("socketpair");
  }
  int client = fds[1];
  {
    ServerSide server(tls_server(plan.strict), fds[0], plan.room);  // owns fds[0]
    if (plan.mode == Mode::kRaw) {
      fuzz_raw(plan, rest, client, server);
      if (!server.ended()) check_stall(server);
    } else {
      SSL* ssl = SSL_new(client_context());
      if (!ssl || SSL_set_fd(ssl, client) != 1) fail("client SSL_new");
      SSL_set_tlsext_host_name(ssl, "a.example.com");
      if (plan.tls12) SSL_set_max_proto_version(ssl, TLS1_2_VERSION);
      SSL_set_connect_state(ssl);
      if (handshake(ssl, server)) {
        if (plan.mode == Mode::kTls) {
          fuzz_tls(plan, rest, ssl, server);
          fuzz_echo(plan, rest, ssl, server);
        } else {
          Plan closing = plan;
          closing.client_closes = true;
          fuzz_raw(closing, rest, client, server);
        }
      }
      SSL_free(ssl);
    }
    // The owner's goodbye, then the destructor frees everything (LeakSanitizer checks).
    std::string_view reply = "bye";
    IoResult w = server.transport().write(reply);
    if (w.bytes > reply.size()) fail("write reported more bytes than it was given");
    server.transport().close_notify();
    ERR_clear_error();
  }
  ::close(client);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  fuzz_one(plan_for(data[0], data[1]), rest);
  return 0;
}
