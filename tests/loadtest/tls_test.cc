// srv-loadtest over TLS against an in-process OpenSSL echo server: every reply verified,
// records read ahead not left in OpenSSL's buffer, resumed handshakes counted, handshake
// failures counted as "tls" errors with OpenSSL's reason; and the client transport alone over
// a socketpair, with short writes retried from a moved buffer and short reads.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <atomic>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "loadtest/load_engine.h"
#include "loadtest/tls_cert.h"
#include "loadtest/transport.h"

namespace srv::loadtest {
namespace {

namespace fs = std::filesystem;

/// A server SSL_CTX serving `credentials`.
SSL_CTX* server_ctx(const SelfSigned& credentials) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  BIO* cert_bio = BIO_new_mem_buf(credentials.cert_pem.data(), -1);
  BIO* key_bio = BIO_new_mem_buf(credentials.key_pem.data(), -1);
  X509* cert = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
  EXPECT_EQ(SSL_CTX_use_certificate(ctx, cert), 1);
  EXPECT_EQ(SSL_CTX_use_PrivateKey(ctx, key), 1);
  X509_free(cert);
  EVP_PKEY_free(key);
  BIO_free(cert_bio);
  BIO_free(key_bio);
  return ctx;
}

/// The test servers write with OpenSSL (write(2)) to clients that may have gone: no SIGPIPE
/// on their threads. The load threads block it themselves.
void block_sigpipe() {
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
}

/// Waits until `fd` is readable or `stop`; false on stop.
bool wait_readable(int fd, const std::atomic<bool>& stop) {
  pollfd p{fd, POLLIN, 0};
  while (!stop.load()) {
    if (poll(&p, 1, 50) > 0) return true;
  }
  return false;
}

// An echo server on loopback, a thread per connection, blocking OpenSSL. With `batch` > 0 it
// waits for `batch` messages of `message` bytes and answers them as that many TLS records in
// one TCP segment (the client reads them all ahead at once). `tls` false: plain echo.
// `hang_up` true: closes every connection at once.
struct ServerOptions {
  bool tls = true;
  bool hang_up = false;
  std::size_t batch = 0;
  std::size_t message = 0;
};

class TlsEchoServer {
 public:
  TlsEchoServer(const SelfSigned& credentials, ServerOptions options) : options_(options) {
    ctx_ = server_ctx(credentials);
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    EXPECT_EQ(bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(listen(listener_, 128), 0);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~TlsEchoServer() {
    stop_ = true;
    acceptor_.join();
    for (std::thread& t : connections_) t.join();
    close(listener_);
    SSL_CTX_free(ctx_);
  }
  std::uint16_t port() const { return port_; }

 private:
  void accept_loop() {
    while (wait_readable(listener_, stop_)) {
      const int fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      const int one = 1;  // no Nagle wait between the session tickets and the reply
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (options_.hang_up) {
        close(fd);
        continue;
      }
      connections_.emplace_back([this, fd] {
        block_sigpipe();
        serve(fd);
        close(fd);
      });
    }
  }

  void serve(int fd) {
    SSL* ssl = nullptr;
    if (options_.tls) {
      ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, fd);
      if (SSL_accept(ssl) != 1) {
        ERR_clear_error();
        SSL_free(ssl);
        return;
      }
    }
    std::string pending;
    char buf[65536];
    for (;;) {
      if ((ssl == nullptr || SSL_pending(ssl) == 0) && !wait_readable(fd, stop_)) break;
      const int n = ssl != nullptr ? SSL_read(ssl, buf, sizeof buf)
                                   : static_cast<int>(read(fd, buf, sizeof buf));
      if (n <= 0) break;
      pending.append(buf, static_cast<std::size_t>(n));
      if (!answer(ssl, fd, pending)) break;
    }
    if (ssl != nullptr) {
      SSL_shutdown(ssl);
      ERR_clear_error();
      SSL_free(ssl);
    }
  }

  // Echoes what `pending` holds (batch mode: whole batches only); false if the client is gone.
  bool answer(SSL* ssl, int fd, std::string& pending) {
    const auto write_all = [&](const char* data, std::size_t size) {
      if (ssl != nullptr) return SSL_write(ssl, data, static_cast<int>(size)) > 0;
      return send(fd, data, size, MSG_NOSIGNAL) == static_cast<ssize_t>(size);
    };
    if (options_.batch == 0) {
      const bool ok = write_all(pending.data(), pending.size());
      pending.clear();
      return ok;
    }
    const std::size_t whole = options_.batch * options_.message;
    while (pending.size() >= whole) {
      const int on = 1, off = 0;
      setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on);
      for (std::size_t i = 0; i < options_.batch; ++i) {
        if (!write_all(pending.data() + i * options_.message, options_.message)) return false;
      }
      setsockopt(fd, IPPROTO_TCP, TCP_CORK, &off, sizeof off);
      pending.erase(0, whole);
    }
    return true;
  }

  ServerOptions options_;
  SSL_CTX* ctx_ = nullptr;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::list<std::thread> connections_;  // touched by the acceptor only, joined after it
};

class TlsLoad : public ::testing::Test {
 protected:
  void SetUp() override {
    signal(SIGPIPE, SIG_IGN);  // the server's writes to a client that has gone (srv-loadtest's main
                               // does the same)
    dir_ = fs::temp_directory_path() / ("srv-tls-test-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    credentials_ = make_self_signed("localhost");
    write_self_signed(credentials_, dir_ / "cert.pem", dir_ / "key.pem");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // An echo load of `size`-byte messages over TLS, verified against our certificate.
  RunResult run(std::uint16_t port, const std::function<void(LoadOptions&)>& adjust = {},
                long size = 64) {
    LoadOptions o;
    o.port = port;
    o.connections = 2;
    o.duration = 1;
    o.warmup = 0;
    o.reply_timeout = 5;
    o.tls.enabled = true;
    o.tls.ca_file = (dir_ / "cert.pem").string();
    if (adjust) adjust(o);
    WorkloadOptions w;
    w.protocol = "echo";
    w.size = size;
    return run_load(o, *make_workload(w), {});
  }

  fs::path dir_;
  SelfSigned credentials_;
};

TEST_F(TlsLoad, KeepAliveLargeMessagesAreVerified) {
  TlsEchoServer server(credentials_, {});
  // 100 kB messages, 4 in flight: many records per message, partial writes on both sides.
  const RunResult r = run(
      server.port(), [](LoadOptions& o) { o.pipeline = 4; }, 100'000);
  EXPECT_EQ(r.errors, 0u) << (r.first_errors.empty() ? "" : r.first_errors.begin()->second);
  EXPECT_GT(r.requests, 20u);
  EXPECT_TRUE(r.tls);
  EXPECT_EQ(r.handshakes, 2u) << "one per connection, both inside the measured time";
  EXPECT_EQ(r.resumed, 0u);
  EXPECT_EQ(r.tls_negotiated.rfind("TLSv1.3 ", 0), 0u) << r.tls_negotiated;
}

// The server answers 16 pipelined requests only once all 16 are there, with 16 records in one
// segment. OpenSSL reads them all ahead, SSL_read returns one at a time, and epoll will not
// report the other 15: unless the engine drains them, it never sends the next 16 requests.
TEST_F(TlsLoad, RecordsReadAheadAreDrainedBeforeWaiting) {
  TlsEchoServer server(credentials_, {.batch = 16, .message = 16});
  const RunResult r = run(
      server.port(),
      [](LoadOptions& o) {
        o.connections = 1;
        o.pipeline = 16;
      },
      16);
  EXPECT_EQ(r.errors, 0u);
  EXPECT_GT(r.requests, 16u * 50) << "stalled with replies left in OpenSSL's buffer";
}

TEST_F(TlsLoad, NewConnectionPerRequestResumesWhenAsked) {
  TlsEchoServer server(credentials_, {});
  const RunResult full = run(server.port(), [](LoadOptions& o) {
    o.requests_per_connection = 1;
    o.duration = 0.5;
  });
  EXPECT_EQ(full.errors, 0u);
  EXPECT_GT(full.handshakes, 10u);
  EXPECT_EQ(full.resumed, 0u) << "no --tls-resume: every handshake is a full one";
  EXPECT_NEAR(static_cast<double>(full.handshakes), static_cast<double>(full.requests), 2);

  const RunResult resumed = run(server.port(), [](LoadOptions& o) {
    o.requests_per_connection = 1;
    o.duration = 0.5;
    o.tls.resume = true;
  });
  EXPECT_EQ(resumed.errors, 0u);
  EXPECT_GT(resumed.handshakes, 10u);
  // Only the connections opened before the first ticket came (both, at the start) are full.
  EXPECT_GE(resumed.resumed + 2, resumed.handshakes);
}

TEST_F(TlsLoad, AnUntrustedCertificateIsATlsErrorWithOpenSSLsReason) {
  TlsEchoServer server(credentials_, {});
  const SelfSigned other = make_self_signed("localhost");
  write_self_signed(other, dir_ / "other.pem", dir_ / "other-key.pem");
  const RunResult r = run(server.port(), [&](LoadOptions& o) {
    o.tls.ca_file = (dir_ / "other.pem").string();
    o.duration = 0.3;
  });
  EXPECT_EQ(r.requests, 0u);
  ASSERT_GT(r.error_kinds.count("tls"), 0u);
  EXPECT_EQ(r.error_kinds.at("tls"), r.errors);
  EXPECT_NE(r.first_errors.at("tls").find("certificate verify failed"), std::string::npos)
      << r.first_errors.at("tls");
}

TEST_F(TlsLoad, TheCertificateMustNameTheServer) {
  TlsEchoServer server(credentials_, {});
  const RunResult wrong = run(server.port(), [](LoadOptions& o) {
    o.tls.sni = "elsewhere.example";
    o.duration = 0.3;
  });
  ASSERT_GT(wrong.error_kinds.count("tls"), 0u);
  EXPECT_NE(wrong.first_errors.at("tls").find("hostname mismatch"), std::string::npos)
      << wrong.first_errors.at("tls");
  const RunResult right = run(server.port(), [](LoadOptions& o) {
    o.tls.sni = "localhost";
    o.duration = 0.3;
  });
  EXPECT_EQ(right.errors, 0u);
  EXPECT_GT(right.requests, 0u);
}

TEST_F(TlsLoad, NoTlsOnTheOtherSideIsATlsError) {
  TlsEchoServer plain(credentials_, {.tls = false});  // echoes the ClientHello back
  const RunResult r = run(plain.port(), [](LoadOptions& o) { o.duration = 0.3; });
  EXPECT_EQ(r.requests, 0u);
  ASSERT_GT(r.error_kinds.count("tls"), 0u);
  EXPECT_FALSE(r.first_errors.at("tls").empty());

  TlsEchoServer rude(credentials_, {.hang_up = true});
  const RunResult hung = run(rude.port(), [](LoadOptions& o) { o.duration = 0.3; });
  EXPECT_EQ(hung.requests, 0u);
  ASSERT_GT(hung.error_kinds.count("tls"), 0u);
  EXPECT_FALSE(hung.first_errors.at("tls").empty());
}

TEST_F(TlsLoad, TlsOptionsNeedTls) {
  WorkloadOptions w;
  w.protocol = "echo";
  LoadOptions o;
  o.port = 9;
  o.tls.resume = true;
  EXPECT_THROW(run_load(o, *make_workload(w), {}), std::invalid_argument);
  o.tls = {};
  o.tls.enabled = true;
  o.tls.ca_file = (dir_ / "missing.pem").string();
  EXPECT_THROW(run_load(o, *make_workload(w), {}), std::invalid_argument);
}

// ---- the transport alone, over a socketpair

bool wait_for(int fd, short events) {
  pollfd p{fd, events, 0};
  return poll(&p, 1, 5000) == 1;
}

TEST_F(TlsLoad, TransportRetriesShortWritesFromAMovedBufferAndReadsInSmallPieces) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  const int small = 4096;
  setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  constexpr std::size_t kUp = 4 << 20, kDown = 1 << 20;
  const auto byte_at = [](std::size_t i) {
    return static_cast<char>('a' + (i * 7 + i / 251) % 26);
  };

  SSL_CTX* sctx = server_ctx(credentials_);
  std::string received;  // by the server
  std::thread server([&] {
    block_sigpipe();
    SSL* ssl = SSL_new(sctx);
    SSL_set_fd(ssl, fds[1]);
    ASSERT_EQ(SSL_accept(ssl), 1);
    char buf[16384];
    while (received.size() < kUp) {
      const int n = SSL_read(ssl, buf, sizeof buf);
      if (n <= 0) break;
      received.append(buf, static_cast<std::size_t>(n));
    }
    std::string down(kDown, 0);
    for (std::size_t i = 0; i < kDown; ++i) down[i] = byte_at(i);
    for (std::size_t at = 0; at < kDown; at += 1000) {
      SSL_write(ssl, down.data() + at, static_cast<int>(std::min<std::size_t>(1000, kDown - at)));
    }
    SSL_read(ssl, buf, sizeof buf);  // the client's close_notify
    SSL_free(ssl);
    ERR_clear_error();
  });

  TlsOptions options;
  options.enabled = true;
  options.ca_file = (dir_ / "cert.pem").string();
  TlsContext tls(options, "localhost");
  ConnectionFactory factory(&tls);
  // The client's part; a failed ASSERT leaves it early, and the server is stopped anyway.
  [&] {
    std::unique_ptr<Transport> t = factory.open(fds[0]);
    for (IoResult r = t->handshake(); r.status != Io::kDone; r = t->handshake()) {
      ASSERT_TRUE(r.status == Io::kWantRead || r.status == Io::kWantWrite) << t->error();
      wait_for(fds[0], r.status == Io::kWantRead ? POLLIN : POLLOUT);
    }
    // Two copies of the payload: each retry comes from the other one, at another address, as
    // a growing output buffer's may.
    std::string copies[2];
    copies[0].resize(kUp);
    for (std::size_t i = 0; i < kUp; ++i) copies[0][i] = byte_at(i);
    copies[1] = copies[0];
    std::size_t sent = 0;
    int would_block = 0;
    while (sent < kUp) {
      const std::string& up = copies[would_block % 2];
      const IoResult r = t->write(up.data() + sent, up.size() - sent);
      if (r.status == Io::kDone) {
        sent += r.bytes;
        continue;
      }
      ASSERT_EQ(r.status, Io::kWantWrite) << t->error();
      ++would_block;
      wait_for(fds[0], POLLOUT);
    }
    EXPECT_GT(would_block, 0) << "the socket buffer never filled: no short write was tested";

    std::string down;
    char piece[100];  // smaller than a record: OpenSSL keeps the rest
    while (down.size() < kDown) {
      const IoResult r = t->read(piece, sizeof piece);
      if (r.status == Io::kDone) {
        down.append(piece, r.bytes);
      } else {
        ASSERT_EQ(r.status, Io::kWantRead) << t->error();
        EXPECT_FALSE(t->buffered());
        wait_for(fds[0], POLLIN);
      }
    }
    for (std::size_t i = 0; i < kDown; ++i) {
      if (down[i] != byte_at(i)) FAIL() << "byte " << i << " differs";
    }
    t->shutdown();
  }();
  ::shutdown(fds[0], SHUT_RDWR);  // the server stops reading if the client stopped early
  server.join();
  EXPECT_EQ(received.size(), kUp);
  for (std::size_t i = 0; i < received.size(); ++i) {
    if (received[i] != byte_at(i)) FAIL() << "byte " << i << " differs at the server";
  }
  SSL_CTX_free(sctx);
  close(fds[0]);
  close(fds[1]);
}

}  // namespace
}  // namespace srv::loadtest
