#include "strategies/event_loop.h"

#include <algorithm>

namespace srv {
namespace {

int ms_until(Clock::time_point when) {
  auto left = std::chrono::ceil<milliseconds>(when - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 60'000));
}

}  // namespace

EventLoop::EventLoop(Poller& poller, Generation& generation)
    : poller_(poller), generation_(generation), acceptor_(generation, *this, poller.fd_limit()) {}

EventLoop::~EventLoop() {
  for (int fd = 0; fd < static_cast<int>(slots_.size()); ++fd) {
    if (slots_[fd].connection) close(fd);
  }
}

void EventLoop::run() {
  if (generation_.signal_fd() >= 0) poller_.update(generation_.signal_fd(), true, false);
  poller_.update(doorbell_.fd(), true, false);
  for (std::size_t i = 0; i < generation_.listeners().size(); ++i) {
    int fd = generation_.listeners()[i]->fd();
    if (static_cast<std::size_t>(fd) >= listener_index_.size()) listener_index_.resize(fd + 1, -1);
    listener_index_[fd] = static_cast<int>(i);
  }
  acceptor_.start();
  std::vector<PollEvent> events;
  for (;;) {
    Phase phase = generation_.phase();
    if (phase == Phase::kStopping || (phase == Phase::kDraining && live_ == 0)) break;
    // Connections whose transport holds input the poller cannot see must not wait for it.
    poller_.wait(pending_.empty() ? generation_.poll_timeout(next_timeout_ms()) : 0, events);
    for (const PollEvent& event : events) on_event(event);
    serve_pending();
    expire(Clock::now());
    generation_.tick();
    acceptor_.update();
  }
  acceptor_.stop();
  if (generation_.signal_fd() >= 0) poller_.update(generation_.signal_fd(), false, false);
  poller_.update(doorbell_.fd(), false, false);
  for (int fd = 0; fd < static_cast<int>(slots_.size()); ++fd) {
    if (slots_[fd].connection) close(fd);
  }
}

void EventLoop::on_event(const PollEvent& event) {
  int fd = event.fd;
  if (fd == generation_.signal_fd()) {
    generation_.handle_signals();
    return;
  }
  if (fd == doorbell_.fd()) return doorbell_.answer([this](int woken) { wake(woken); });
  if (fd < static_cast<int>(listener_index_.size()) && listener_index_[fd] >= 0) {
    acceptor_.accept_from(*generation_.listeners()[listener_index_[fd]]);
    return;
  }
  if (fd >= static_cast<int>(slots_.size()) || !slots_[fd].connection) return;  // closed earlier
  slots_[fd].connection->on_ready(event.readable, event.writable);
  sync(fd);
}

void EventLoop::wake(int fd) {
  // Connections withdraw from the doorbell as they close: each fd rung holds its connection.
  if (!slots_[fd].connection) return;
  slots_[fd].connection->on_wake();
  sync(fd);
}

void EventLoop::add_connection(const AcceptedSocket& socket, Listener& listener) {
  int fd = socket.fd;
  if (static_cast<std::size_t>(fd) >= slots_.size()) slots_.resize(fd + 1);
  Slot& slot = slots_[fd];
  slot.connection = listener.make_connection(socket, generation_.settings().limits, &doorbell_);
  slot.deadline = slot.connection->deadline();
  timers_.emplace(slot.deadline, fd);
  slot.reading = slot.writing = slot.pending = false;
  ++live_;
  sync(fd);
}

void EventLoop::sync(int fd) {
  Slot& slot = slots_[fd];
  Connection& connection = *slot.connection;
  if (connection.finished()) return close(fd);
  bool read = connection.wants_read();
  bool write = connection.wants_write();
  if (read != slot.reading || write != slot.writing) {
    poller_.update(fd, read, write);
    slot.reading = read;
    slot.writing = write;
  }
  Clock::time_point deadline = connection.deadline();
  if (deadline < slot.deadline) refile(fd, deadline);
  if (!slot.pending && connection.has_pending()) {
    slot.pending = true;
    pending_.push_back(fd);
  }
}

void EventLoop::serve_pending() {
  std::vector<int> due;
  due.swap(pending_);
  for (int fd : due) {
    Slot& slot = slots_[fd];
    if (!slot.pending) continue;  // closed since (its fd may already serve someone else)
    slot.pending = false;
    slot.connection->on_ready(true, false);
    sync(fd);
  }
}

void EventLoop::refile(int fd, Clock::time_point deadline) {
  Slot& slot = slots_[fd];
  timers_.erase({slot.deadline, fd});
  timers_.emplace(deadline, fd);
  slot.deadline = deadline;
}

void EventLoop::close(int fd) {
  Slot& slot = slots_[fd];
  poller_.update(fd, false, false);
  timers_.erase({slot.deadline, fd});
  slot.connection.reset();  // closes the fd
  slot.reading = slot.writing = slot.pending = false;
  --live_;
}

void EventLoop::expire(Clock::time_point now) {
  while (!timers_.empty() && timers_.begin()->first <= now) {
    int fd = timers_.begin()->second;
    Connection& connection = *slots_[fd].connection;
    if (connection.deadline() <= now) connection.on_timeout();  // afterwards finished, or due later
    if (!connection.finished()) refile(fd, connection.deadline());  // filed early: file it anew
    sync(fd);
  }
}

int EventLoop::next_timeout_ms() const {
  int timeout = timers_.empty() ? -1 : ms_until(timers_.begin()->first);
  int backoff = acceptor_.backoff_ms();
  if (backoff >= 0) timeout = timeout < 0 ? backoff : std::min(timeout, backoff);
  return timeout;
}

void EventLoop::watch_listeners(bool on) {
  for (Listener* listener : generation_.listeners()) poller_.update(listener->fd(), on, false);
}

}  // namespace srv
