#include "server/connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <spdlog/spdlog.h>

namespace srv {

Connection::Connection(int fd, std::unique_ptr<ProtocolHandler> handler,
                       const ConnectionLimits& limits)
    : fd_(fd), handler_(std::move(handler)), limits_(limits), last_activity_(Clock::now()) {}

Connection::~Connection() {
  ::close(fd_);
}

bool Connection::wants_read() const {
  if (state_ == State::kLingering) return true;
  return state_ == State::kOpen && output_.size() < limits_.output_high_water;
}

bool Connection::wants_write() const {
  return !output_.empty() &&
         (state_ == State::kOpen || state_ == State::kReadClosed || state_ == State::kClosing);
}

Clock::time_point Connection::deadline() const {
  Clock::time_point own = last_activity_ + (state_ == State::kLingering ? limits_.linger_timeout
                                                                        : limits_.idle_timeout);
  return state_ == State::kOpen ? std::min(own, handler_->deadline()) : own;
}

void Connection::on_timeout() {
  Clock::time_point now = Clock::now();
  if (state_ != State::kOpen || handler_->deadline() > now) {
    state_ = State::kDone;  // idle or linger timeout
    return;
  }
  apply(handler_->on_deadline(output_));
  flush();
  if (!finished() && deadline() <= now) state_ = State::kDone;  // the handler did not move on
}

void Connection::on_readable() {
  if (state_ == State::kLingering) return discard_input();
  if (!wants_read()) return;
  auto room = input_.prepare(limits_.read_chunk);
  ssize_t n = ::recv(fd_, room.data(), limits_.read_chunk, 0);
  if (n < 0) {
    if (errno != EAGAIN && errno != EINTR)
      state_ = State::kDone;  // reset or worse: nothing to flush to
    return;
  }
  touch();
  if (n == 0) {
    Verdict verdict = handler_->on_eof(input_.readable(), output_);
    input_.clear();
    state_ = verdict == Verdict::kCloseNow ? State::kDone : State::kReadClosed;
  } else {
    input_.commit(static_cast<std::size_t>(n));
    handler_waits_for_bytes_ = false;
    run_handler();
  }
  pump();  // optimistic write: most replies fit in the socket buffer, saving a poll round trip
}

void Connection::on_writable() {
  pump();
}

void Connection::pump() {
  for (;;) {
    flush();
    // The handler stopped at the high-water mark with input left; once the output has gone
    // out, offer it the rest. Nothing else would: no new bytes need arrive, and with the
    // output flushed the socket is not watched for writing either.
    bool offer = state_ == State::kOpen && !input_.empty() && !handler_waits_for_bytes_ &&
                 output_.size() < limits_.output_high_water;
    if (!offer) return;
    std::size_t before = input_.size();
    run_handler();
    if (state_ == State::kOpen && input_.size() == before) return flush();  // no progress
  }
}

void Connection::run_handler() {
  while (state_ == State::kOpen && !input_.empty() && output_.size() < limits_.output_high_water) {
    Step step = handler_->on_data(input_.readable(), output_);
    if (step.consumed > input_.size()) {
      spdlog::error("protocol handler consumed {} of {} bytes; closing", step.consumed,
                    input_.size());
      state_ = State::kDone;
      return;
    }
    input_.consume(step.consumed);
    apply(step.verdict);
    if (state_ != State::kOpen) return;
    if (step.consumed == 0) {
      handler_waits_for_bytes_ = true;
      break;
    }
  }
  if (state_ == State::kOpen && input_.size() > limits_.max_input_buffer) {
    // The handler keeps asking for more without consuming: a request larger than we hold.
    spdlog::debug("fd {}: {} unconsumed input bytes exceed max_input_buffer; closing", fd_,
                  input_.size());
    state_ = State::kDone;
  }
}

void Connection::apply(Verdict verdict) {
  if (verdict == Verdict::kCloseNow) {
    state_ = State::kDone;
  } else if (verdict == Verdict::kCloseAfterFlush) {
    state_ = State::kClosing;
    input_.clear();
  }
}

void Connection::flush() {
  while (wants_write()) {
    std::string_view pending = output_.readable();
    ssize_t n = ::send(fd_, pending.data(), pending.size(), MSG_NOSIGNAL);
    if (n > 0) {
      output_.consume(static_cast<std::size_t>(n));
      touch();
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      return;
    } else {
      state_ = State::kDone;  // EPIPE/ECONNRESET: the peer is gone
      return;
    }
  }
  after_flush();
}

void Connection::after_flush() {
  if (!output_.empty()) return;
  if (state_ == State::kReadClosed) {
    state_ = State::kDone;
  } else if (state_ == State::kClosing) {
    // Half-close and drain what the peer still sends, so it reads our last reply instead of a
    // reset caused by closing a socket with unread input.
    ::shutdown(fd_, SHUT_WR);
    state_ = limits_.linger_timeout.count() > 0 ? State::kLingering : State::kDone;
    touch();
  }
}

void Connection::discard_input() {
  char scratch[16 * 1024];
  for (int i = 0; i < 4; ++i) {  // bounded: a peer that keeps sending is cut at the timeout
    ssize_t n = ::recv(fd_, scratch, sizeof scratch, 0);
    if (n > 0) continue;
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    state_ = State::kDone;  // EOF or error: the peer has read what it will read
    return;
  }
}

}  // namespace srv
