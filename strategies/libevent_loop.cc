#include "strategies/libevent_loop.h"

#include <event2/event.h>

#include <algorithm>
#include <new>

#include <spdlog/spdlog.h>

namespace srv {
namespace {

// A deadline further out (max() for "never") is armed this far ahead and, firing early, armed
// again: keeps the timeval small whatever the deadline says.
constexpr std::chrono::hours kLongestTimer{1};

timeval timeval_of(Clock::duration left) {
  auto us = std::chrono::ceil<std::chrono::microseconds>(std::max(left, Clock::duration::zero()));
  return {static_cast<time_t>(us.count() / 1'000'000),
          static_cast<suseconds_t>(us.count() % 1'000'000)};
}

void do_nothing(evutil_socket_t, short, void*) {}

}  // namespace

void LibeventLoop::EventDeleter::operator()(event* ev) const {
  event_free(ev);
}

LibeventLoop::LibeventLoop(event_base* base, Generation& generation, int fd_limit)
    : base_(base), generation_(generation), acceptor_(generation, *this, fd_limit) {
  wake_ = make_event(-1, 0, do_nothing, nullptr);
  doorbell_event_ = make_event(doorbell_.fd(), EV_READ | EV_PERSIST, on_doorbell, this);
  if (generation_.signal_fd() >= 0) {
    signal_ = make_event(generation_.signal_fd(), EV_READ | EV_PERSIST, on_signal, this);
  }
  watches_.reserve(generation_.listeners().size());  // the events point at their Watch
  for (Listener* listener : generation_.listeners()) {
    Watch& watch = watches_.emplace_back(Watch{this, listener, nullptr});
    watch.event = make_event(listener->fd(), EV_READ | EV_PERSIST, on_listener, &watch);
  }
}

LibeventLoop::~LibeventLoop() {
  for (int fd = 0; fd < static_cast<int>(slots_.size()); ++fd) {
    if (slots_[fd].connection) close(fd);
  }
}

void LibeventLoop::run() {
  if (signal_) event_add(signal_.get(), nullptr);
  event_add(doorbell_event_.get(), nullptr);
  acceptor_.start();
  for (;;) {
    Phase phase = generation_.phase();
    if (phase == Phase::kStopping || (phase == Phase::kDraining && live_ == 0)) break;
    turn();
    generation_.tick();
    acceptor_.update();
  }
  acceptor_.stop();
  if (signal_) event_del(signal_.get());
  event_del(doorbell_event_.get());
  for (int fd = 0; fd < static_cast<int>(slots_.size()); ++fd) {
    if (slots_[fd].connection) close(fd);
  }
}

void LibeventLoop::turn() {
  // Connection deadlines are libevent timers already; what is left to bound is the drain
  // deadline and the end of an accept back-off. Active events (pending transport input) make
  // libevent poll without waiting.
  int timeout = generation_.poll_timeout(acceptor_.backoff_ms());
  if (timeout >= 0) {
    timeval tv = timeval_of(milliseconds(timeout));
    event_add(wake_.get(), &tv);
  } else {
    event_del(wake_.get());
  }
  // EVLOOP_ONCE: wait until something is active, run every callback that is, then return.
  if (event_base_loop(base_, EVLOOP_ONCE) != 0) {
    spdlog::error("libevent: event_base_loop failed; closing every connection");
    generation_.life().begin_stop();
  }
}

void LibeventLoop::on_readable(evutil_socket_t fd, short, void* self) {
  static_cast<LibeventLoop*>(self)->serve(fd, true, false);
}

void LibeventLoop::on_writable(evutil_socket_t fd, short, void* self) {
  static_cast<LibeventLoop*>(self)->serve(fd, false, true);
}

void LibeventLoop::on_deadline(evutil_socket_t fd, short, void* self) {
  static_cast<LibeventLoop*>(self)->expire(fd);
}

void LibeventLoop::on_listener(evutil_socket_t, short, void* arg) {
  auto* watch = static_cast<Watch*>(arg);
  watch->loop->acceptor_.accept_from(*watch->listener);
}

void LibeventLoop::on_signal(evutil_socket_t, short, void* self) {
  static_cast<LibeventLoop*>(self)->generation_.handle_signals();
}

void LibeventLoop::on_doorbell(evutil_socket_t, short, void* self) {
  auto* loop = static_cast<LibeventLoop*>(self);
  loop->doorbell_.answer([loop](int fd) { loop->wake(fd); });
}

void LibeventLoop::watch_listeners(bool on) {
  for (Watch& watch : watches_) {
    if (on) {
      event_add(watch.event.get(), nullptr);
    } else {
      event_del(watch.event.get());
    }
  }
}

void LibeventLoop::add_connection(const AcceptedSocket& socket, Listener& listener) {
  int fd = socket.fd;
  if (static_cast<std::size_t>(fd) >= slots_.size()) slots_.resize(fd + 1);
  Slot& slot = slots_[fd];
  if (!slot.read) {
    slot.read = make_event(fd, EV_READ | EV_PERSIST, on_readable, this);
    slot.write = make_event(fd, EV_WRITE | EV_PERSIST, on_writable, this);
    slot.timer = make_event(fd, 0, on_deadline, this);  // a timer that knows its descriptor
  }
  slot.connection = listener.make_connection(socket, generation_.settings().limits, &doorbell_);
  slot.reading = slot.writing = false;
  arm(slot, slot.connection->deadline());
  ++live_;
  sync(fd);
}

void LibeventLoop::serve(int fd, bool readable, bool writable) {
  slots_[fd].connection->on_ready(readable, writable);
  sync(fd);
}

void LibeventLoop::wake(int fd) {
  // Connections withdraw from the doorbell as they close: each fd rung holds its connection.
  if (!slots_[fd].connection) return;
  slots_[fd].connection->on_wake();
  sync(fd);
}

void LibeventLoop::expire(int fd) {
  Slot& slot = slots_[fd];
  Connection& connection = *slot.connection;
  if (connection.deadline() <= Clock::now()) connection.on_timeout();  // then finished or later
  if (!connection.finished()) arm(slot, connection.deadline());        // fired early: arm it anew
  sync(fd);
}

void LibeventLoop::sync(int fd) {
  Slot& slot = slots_[fd];
  Connection& connection = *slot.connection;
  if (connection.finished()) return close(fd);
  bool read = connection.wants_read();
  if (read != slot.reading) {
    read ? event_add(slot.read.get(), nullptr) : event_del(slot.read.get());
    slot.reading = read;
  }
  bool write = connection.wants_write();
  if (write != slot.writing) {
    write ? event_add(slot.write.get(), nullptr) : event_del(slot.write.get());
    slot.writing = write;
  }
  Clock::time_point deadline = connection.deadline();
  if (deadline < slot.deadline) arm(slot, deadline);
  // Input the fd cannot report: run the read callback in this dispatch, after the callbacks
  // already active (so one connection's read-ahead does not starve the others).
  if (connection.has_pending()) event_active(slot.read.get(), EV_READ, 0);
}

void LibeventLoop::arm(Slot& slot, Clock::time_point deadline) {
  Clock::time_point now = Clock::now();
  slot.deadline = std::min(deadline, now + kLongestTimer);
  timeval tv = timeval_of(slot.deadline - now);
  event_add(slot.timer.get(), &tv);  // replaces the timeout it had
}

void LibeventLoop::close(int fd) {
  Slot& slot = slots_[fd];
  // Before the fd closes: libevent takes it out of the backend, and out of the active queue.
  event_del(slot.read.get());
  event_del(slot.write.get());
  event_del(slot.timer.get());
  slot.connection.reset();  // closes the fd
  slot.reading = slot.writing = false;
  --live_;
}

LibeventLoop::EventPtr LibeventLoop::make_event(int fd, short what,
                                                void (*callback)(evutil_socket_t, short, void*),
                                                void* arg) {
  event* ev = event_new(base_, fd, what, callback, arg);
  if (ev == nullptr) throw std::bad_alloc();
  return EventPtr(ev);
}

}  // namespace srv
