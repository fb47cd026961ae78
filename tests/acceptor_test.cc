// Acceptor, the accepting half shared by EventLoop and the libevent loop, against a real listener
// on loopback: what it serves, what it refuses and when it watches the listener.

#include "strategies/acceptor.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/section.h"
#include "protocols/echo.h"
#include "server/counters.h"
#include "server/generation.h"
#include "server/listener.h"
#include "server/settings.h"
#include "server/socket_transport.h"

namespace srv {
namespace {

constexpr int kNoFdLimit = std::numeric_limits<int>::max();

class FakeHost final : public Acceptor::Host {
 public:
  explicit FakeHost(std::size_t already_open) : already_open_(already_open) {}
  ~FakeHost() override {
    for (int fd : added) ::close(fd);
  }

  std::size_t live() const override { return already_open_ + added.size(); }
  void watch_listeners(bool on) override { watching.push_back(on); }
  void add_connection(const AcceptedSocket& socket, Listener&) override {
    added.push_back(socket.fd);
  }

  std::vector<int> added;
  std::vector<bool> watching;  // every call, in order

 private:
  std::size_t already_open_;
};

std::unique_ptr<Listener> make_listener() {
  Section options("test.yaml", YAML::Node(YAML::NodeType::Map), "options");
  return std::make_unique<Listener>(Endpoint{"127.0.0.1", 0}, 511, "echo",
                                    make_echo_protocol(options),
                                    std::make_shared<SocketTransportFactory>());
}

// Opens `n` connections to `listener`; the kernel completes them into its backlog.
std::vector<int> connect_clients(const Listener& listener, int n) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  ::getsockname(listener.fd(), reinterpret_cast<sockaddr*>(&addr), &len);
  std::vector<int> fds;
  for (int i = 0; i < n; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
    fds.push_back(fd);
  }
  return fds;
}

struct AcceptCase {
  std::string name;
  int max_connections;
  int fd_limit;
  std::size_t already_open;
  int clients;
  std::size_t served;  // handed to the host by one accept_from()
  std::uint64_t refused;
};

TEST(Acceptor, ServesUpToTheCapsAndRefusesTheRest) {
  for (const AcceptCase& c : std::vector<AcceptCase>{
           {"all fit", 8, kNoFdLimit, 0, 5, 5, 0},
           {"the cap is reached midway", 3, kNoFdLimit, 0, 5, 3, 2},
           {"already full", 2, kNoFdLimit, 2, 3, 0, 3},
           {"every descriptor beyond what the poller can watch", 100, 0, 0, 3, 0, 3},
           {"one burst is 64 accepts at most", 1000, kNoFdLimit, 0, 70, 64, 0},
       }) {
    SCOPED_TRACE(c.name);
    auto listener = make_listener();
    ServerSettings settings;
    settings.max_connections = c.max_connections;
    Generation generation({listener.get()}, settings, -1);
    FakeHost host(c.already_open);
    Acceptor acceptor(generation, host, c.fd_limit);
    std::vector<int> clients = connect_clients(*listener, c.clients);

    std::uint64_t refused_before = counter_value(Counter::kRefused);
    acceptor.start();
    acceptor.accept_from(*listener);
    EXPECT_EQ(host.added.size(), c.served);
    EXPECT_EQ(counter_value(Counter::kRefused) - refused_before, c.refused);
    EXPECT_EQ(host.watching, std::vector<bool>{true});
    for (int fd : clients) ::close(fd);
  }
}

TEST(Acceptor, StopsWatchingOnceTheGenerationDrains) {
  auto listener = make_listener();
  ServerSettings settings;
  Generation generation({listener.get()}, settings, -1);
  FakeHost host(0);
  Acceptor acceptor(generation, host, kNoFdLimit);
  acceptor.start();
  acceptor.update();  // running: nothing changes
  EXPECT_EQ(host.watching, std::vector<bool>{true});
  EXPECT_EQ(acceptor.backoff_ms(), -1);

  generation.drain();
  acceptor.update();
  EXPECT_EQ(host.watching, (std::vector<bool>{true, false}));
  EXPECT_EQ(acceptor.backoff_ms(), -1);  // draining: no reason to wake for accepting

  // A readiness reported before the listener was unwatched accepts nothing.
  std::vector<int> clients = connect_clients(*listener, 1);
  acceptor.accept_from(*listener);
  EXPECT_TRUE(host.added.empty());
  acceptor.stop();
  EXPECT_EQ(host.watching, (std::vector<bool>{true, false, false}));
  for (int fd : clients) ::close(fd);
}

}  // namespace
}  // namespace srv
