#include "strategies/acceptor.h"

#include <algorithm>

#include "server/accept.h"

namespace srv {
namespace {

constexpr int kAcceptBurst = 64;  // accepts per readiness, so one listener cannot starve I/O
constexpr milliseconds kBackOff{100};

}  // namespace

Acceptor::Acceptor(Generation& generation, Host& host, int fd_limit)
    : generation_(generation), host_(host), fd_limit_(fd_limit) {}

void Acceptor::start() {
  set_accepting(true);
}

void Acceptor::stop() {
  set_accepting(false);
}

void Acceptor::accept_from(Listener& listener) {
  for (int n = 0; n < kAcceptBurst && accepting_; ++n) {
    Accepted accepted = accept_connection(listener.fd());
    if (accepted.status == AcceptStatus::kWouldBlock) return;
    if (accepted.status == AcceptStatus::kBackOff) {
      backoff_until_ = Clock::now() + kBackOff;
      set_accepting(false);
      return;
    }
    if (host_.live() >= static_cast<std::size_t>(generation_.settings().max_connections)) {
      listener.refuse(accepted.socket.fd, RefuseReason::kMaxConnections);
    } else if (accepted.socket.fd >= fd_limit_) {
      listener.refuse(accepted.socket.fd, RefuseReason::kFdLimit);
    } else {
      host_.add_connection(accepted.socket, listener);
    }
  }
}

void Acceptor::update() {
  bool should_accept = generation_.phase() == Phase::kRunning && Clock::now() >= backoff_until_;
  if (should_accept != accepting_) set_accepting(should_accept);
}

int Acceptor::backoff_ms() const {
  if (accepting_ || generation_.phase() != Phase::kRunning) return -1;
  auto left = std::chrono::ceil<milliseconds>(backoff_until_ - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, kBackOff.count()));
}

void Acceptor::set_accepting(bool on) {
  accepting_ = on;
  host_.watch_listeners(on);
}

}  // namespace srv
