#include "server/connection.h"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "server/buffer_pool.h"
#include "server/counters.h"
#include "server/doorbell.h"
#include "server/drain_notice.h"

namespace srv {
namespace {

/// Output storage taken before a handler writes: most replies fit without growing it.
constexpr std::size_t kOutputBlock = 4096;

}  // namespace

Connection::Connection(std::unique_ptr<Transport> transport, ProtocolFactory& factory,
                       const Origin& origin, Doorbell* doorbell, const ConnectionLimits& limits)
    : transport_(std::move(transport)),
      doorbell_(doorbell),
      id_(origin.id),
      meter_(origin.metrics, {origin.access_log, origin.peer, origin.local}),
      handler_(factory.create(ConnectionContext{origin.id, origin.peer, origin.local, *this, meter_,
                                                &process_draining()})),
      limits_(limits),
      last_activity_(Clock::now()) {}

Connection::Connection(std::unique_ptr<Transport> transport,
                       std::unique_ptr<ProtocolHandler> handler, const ConnectionLimits& limits)
    : transport_(std::move(transport)),
      meter_(nullptr),
      handler_(std::move(handler)),
      limits_(limits),
      last_activity_(Clock::now()) {}

Connection::~Connection() {
  if (enrolled_) doorbell_->withdraw(id_);  // the transport closes the fd
  input_.clear();
  output_.clear();
  release_idle_buffers();
}

void Connection::release_idle_buffers() {
  if (input_.empty() && input_.capacity() > 0) give_back(input_.release_storage());
  if (output_.empty() && output_.capacity() > 0) give_back(output_.release_storage());
}

void Connection::prime_output() {
  if (output_.capacity() == 0) output_.adopt_storage(take_spare(kOutputBlock));
}

WakeAddress Connection::address() {
  if (doorbell_ == nullptr) return {};
  WakeAddress address = doorbell_->enrol(id_, fd());
  enrolled_ = enrolled_ || address.valid();
  return address;
}

void Connection::wake(const WakeAddress& to) {
  srv::wake(to);
}

void Connection::wake_all(std::span<const WakeAddress> to) {
  srv::wake_all(to);
}

bool Connection::reading() const {
  if (state_ == State::kLingering) return true;
  if (state_ != State::kOpen || output_.size() >= limits_.output_high_water) return false;
  // Parked, the handler takes nothing: input is held up to max_input_buffer, then reading
  // stops (backpressure) until it unparks. Reading on that far notices a client that leaves.
  return !parked_ || input_.size() < limits_.max_input_buffer;
}

bool Connection::writing() const {
  switch (state_) {
    case State::kOpen:
    case State::kReadClosed:
      return !output_.empty();
    case State::kClosing:
      return true;  // output to flush, or a shutdown (TLS close_notify) still to finish
    default:
      return false;
  }
}

bool Connection::wants_read() const {
  return (reading() && read_waits_ == Readiness::kReadable) ||
         (writing() && write_waits_ == Readiness::kReadable);
}

bool Connection::wants_write() const {
  return (writing() && write_waits_ == Readiness::kWritable) ||
         (reading() && read_waits_ == Readiness::kWritable);
}

bool Connection::has_pending() const {
  return reading() && transport_->has_pending();
}

Clock::time_point Connection::deadline() const {
  Clock::time_point own = last_activity_ + (state_ == State::kLingering ? limits_.linger_timeout
                                                                        : limits_.idle_timeout);
  // Parked or subscribed with nothing to write, it waits for other connections, not for its
  // client (Redis spares blocked clients and subscribers its timeout too).
  if (state_ == State::kOpen && (parked_ || handler_->waits_for_others()) && output_.empty()) {
    own = Clock::time_point::max();
  }
  own = std::min({own, transport_->deadline(), reply_deadline()});
  if (state_ != State::kOpen) return own;
  return std::min({own, handler_->deadline(), request_deadline()});
}

Clock::time_point Connection::request_deadline() const {
  if (state_ != State::kOpen || parked_) return Clock::time_point::max();
  return std::min(request_.timeout_deadline(limits_.read_timeout),
                  request_.rate_deadline(limits_.min_rate));
}

Clock::time_point Connection::reply_deadline() const {
  if (output_.empty() || state_ == State::kLingering || state_ == State::kDone) {
    return Clock::time_point::max();
  }
  return std::min(write_timeout_deadline(), reply_.rate_deadline(limits_.min_rate));
}

Clock::time_point Connection::write_timeout_deadline() const {
  if (output_full_since_ == Clock::time_point::max() || limits_.write_timeout.count() == 0) {
    return Clock::time_point::max();
  }
  return output_full_since_ + limits_.write_timeout;
}

void Connection::on_timeout() {
  Clock::time_point now = Clock::now();
  if (transport_->deadline() <= now) {
    transport_->on_deadline();  // an unfinished handshake: the transport says why
    meter_.timed_out(TimeoutKind::kHandshake);
    state_ = State::kDone;
    return;
  }
  if (state_ == State::kOpen && handler_->deadline() <= now) {
    apply(handler_->on_deadline(output_));
    if (state_ != State::kOpen) meter_.timed_out(TimeoutKind::kRead);  // HTTP's header timeout
  } else if (request_deadline() <= now) {
    report_slow(true, now);
    meter_.timed_out(TimeoutKind::kRead);
    handler_->on_read_timeout(output_);
    apply(Verdict::kCloseAfterFlush);
  } else {
    if (reply_deadline() <= now) {
      report_slow(false, now);
      meter_.timed_out(TimeoutKind::kWrite);
    } else if (state_ != State::kLingering) {
      meter_.timed_out(TimeoutKind::kIdle);  // a linger timeout is the end of a close, not one
    }
    state_ = State::kDone;  // a slow reader, or the idle or linger timeout
    return;
  }
  if (state_ != State::kDone) pump();  // unparked: what arrived meanwhile is offered now
  if (!finished() && deadline() <= now) state_ = State::kDone;  // the handler did not move on
  release_idle_buffers();
}

void Connection::report_slow(bool request, Clock::time_point now) const {
  const TransferClock& clock = request ? request_ : reply_;
  Counter counter = request ? Counter::kSlowRequests : Counter::kSlowReaders;
  std::uint64_t total = count(counter);
  if (!log_allowed(counter)) return;
  auto took = std::chrono::duration_cast<milliseconds>(now - clock.since()).count();
  bool too_long =
      (request ? request_.timeout_deadline(limits_.read_timeout) : write_timeout_deadline()) <= now;
  std::string why =
      too_long ? fmt::format("{} {} ms", request ? "read_timeout" : "write_timeout",
                             (request ? limits_.read_timeout : limits_.write_timeout).count())
               : fmt::format("min_rate {} bytes/s after {} ms", limits_.min_rate.bytes_per_second,
                             limits_.min_rate.grace.count());
  spdlog::info("connection {} closed: {} {} bytes in {} ms ({}; {} {} so far)", id_,
               request ? "a request still arriving had sent" : "a client slow to read took",
               clock.bytes(), took, why, counter_name(counter), total);
}

void Connection::on_wake() {
  if (state_ != State::kOpen) return;
  prime_output();
  apply(handler_->on_wake(output_));
  if (state_ != State::kDone) pump();
  release_idle_buffers();
}

void Connection::on_ready(bool readable, bool writable) {
  bool ready_for_read = read_waits_ == Readiness::kReadable ? readable : writable;
  bool can_read = reading() && (ready_for_read || transport_->has_pending());
  if (state_ == State::kLingering) {
    if (can_read) discard_input();
    return;
  }
  if (can_read) read_input();
  // After a read this is the optimistic write (most replies fit in the socket buffer, saving a
  // poll round trip); otherwise the write the readiness was for.
  if (state_ != State::kDone) pump();
  release_idle_buffers();
}

void Connection::read_input() {
  if (input_.capacity() == 0) input_.adopt_storage(take_spare(limits_.read_chunk));
  auto room = input_.prepare_up_to(limits_.read_chunk);
  IoResult result = transport_->read(room);
  switch (result.status) {
    case IoStatus::kWouldBlock:
      read_waits_ = result.waits_for;
      return;
    case IoStatus::kError:
      state_ = State::kDone;  // reset or worse: nothing to flush to
      return;
    case IoStatus::kEof: {
      touch();
      Verdict verdict = handler_->on_eof(input_.readable(), output_);
      input_.clear();
      state_ = verdict == Verdict::kCloseNow ? State::kDone : State::kReadClosed;
      return;
    }
    case IoStatus::kDone:
      read_waits_ = Readiness::kReadable;
      touch();
      meter_.received(result.bytes);
      if (input_.empty()) meter_.request_began(last_activity_);
      if (state_ == State::kOpen && !parked_) request_.start(last_activity_);
      request_.add(result.bytes);
      input_.commit(result.bytes);
      handler_waits_for_bytes_ = false;
      run_handler();
      return;
  }
}

void Connection::pump() {
  for (;;) {
    flush();
    // The handler stopped at the high-water mark with input left; once the output has gone
    // out, offer it the rest. Nothing else would: no new bytes need arrive, and with the
    // output flushed the socket is not watched for writing either.
    bool offer = state_ == State::kOpen && !parked_ && !input_.empty() &&
                 !handler_waits_for_bytes_ && output_.size() < limits_.output_high_water;
    if (!offer) return;
    std::size_t before = input_.size();
    run_handler();
    if (state_ == State::kOpen && input_.size() == before) return flush();  // no progress
  }
}

void Connection::run_handler() {
  prime_output();
  while (state_ == State::kOpen && !parked_ && !input_.empty() &&
         output_.size() < limits_.output_high_water) {
    Step step = handler_->on_data(input_.readable(), output_);
    if (step.consumed > input_.size()) {
      spdlog::error("protocol handler consumed {} of {} bytes; closing", step.consumed,
                    input_.size());
      state_ = State::kDone;
      return;
    }
    input_.consume(step.consumed);
    if (step.consumed > 0) note_consumed();
    apply(step.verdict);
    if (state_ != State::kOpen || parked_) return;  // parked: what is left waits, however much
    if (step.consumed == 0) {
      handler_waits_for_bytes_ = true;
      break;
    }
  }
  if (state_ == State::kOpen && handler_waits_for_bytes_ &&
      input_.size() > limits_.max_input_buffer) {
    // The handler keeps asking for more without consuming: a request larger than we hold. (A
    // parked handler was not asked: what it holds then is backpressure, not a large request.)
    spdlog::debug("fd {}: {} unconsumed input bytes exceed max_input_buffer; closing", fd(),
                  input_.size());
    state_ = State::kDone;
  }
}

void Connection::note_consumed() {
  if (handler_->request_unfinished()) return;  // a body taken in pieces: the clock runs on
  if (input_.empty()) {
    request_.stop();
  } else {
    request_.restart(Clock::now(), input_.size());  // the next request (pipelined) began
  }
}

void Connection::apply(Verdict verdict) {
  switch (verdict) {
    case Verdict::kContinue:
      if (!parked_) return;
      // Unparked: offer the input again (the handler's state has moved on), and the wait for
      // another connection does not count as the client's idleness.
      parked_ = false;
      handler_waits_for_bytes_ = false;
      touch();
      // What arrived while it was parked is a request from now on.
      if (!input_.empty()) request_.restart(last_activity_, input_.size());
      return;
    case Verdict::kPark:
      parked_ = true;
      request_.stop();  // taken: waiting for others is not the client's slowness
      return;
    case Verdict::kCloseAfterFlush:
      state_ = State::kClosing;
      input_.clear();
      return;
    case Verdict::kCloseNow:
      state_ = State::kDone;
      return;
  }
}

void Connection::flush() {
  if (!output_.empty() && !reply_.running()) reply_.start(Clock::now());
  while (!output_.empty() && writing()) {
    IoResult result = transport_->write(output_.readable());
    if (result.status == IoStatus::kDone) {
      output_.consume(result.bytes);
      meter_.sent(result.bytes);
      reply_.add(result.bytes);
      write_waits_ = Readiness::kWritable;
      touch();
    } else if (result.status == IoStatus::kWouldBlock) {
      write_waits_ = result.waits_for;
      break;
    } else {
      state_ = State::kDone;  // EPIPE/ECONNRESET: the peer is gone
      return;
    }
  }
  note_output_level();
  if (output_.empty()) {
    after_flush();
  } else if (limits_.max_output_bytes != 0 && output_.size() > limits_.max_output_bytes &&
             state_ != State::kDone) {
    cut_at_output_limit();
  }
}

void Connection::cut_at_output_limit() {
  meter_.output_limited();
  std::uint64_t total = count(Counter::kOutputLimited);
  if (log_allowed(Counter::kOutputLimited)) {
    spdlog::info(
        "connection {} closed: {} bytes of output unsent, over limits.max_output_bytes "
        "{} ({} {} so far)",
        id_, output_.size(), limits_.max_output_bytes, counter_name(Counter::kOutputLimited),
        total);
  }
  state_ = State::kDone;
}

void Connection::note_output_level() {
  if (output_.empty()) {
    reply_.stop();
    output_full_since_ = Clock::time_point::max();
  } else if (output_.size() < limits_.output_high_water) {
    output_full_since_ = Clock::time_point::max();
  } else if (output_full_since_ == Clock::time_point::max()) {
    output_full_since_ = Clock::now();
  }
}

void Connection::after_flush() {
  if (state_ == State::kReadClosed) {
    transport_->close_notify();
    state_ = State::kDone;
  } else if (state_ == State::kClosing) {
    // Half-close and drain what the peer still sends, so it reads our last reply instead of a
    // reset caused by closing a socket with unread input.
    IoResult result = transport_->shutdown_write();
    if (result.status == IoStatus::kWouldBlock) {
      write_waits_ = result.waits_for;
      return;
    }
    write_waits_ = Readiness::kWritable;
    bool linger = result.status == IoStatus::kDone && limits_.linger_timeout.count() > 0;
    state_ = linger ? State::kLingering : State::kDone;
    touch();
  }
}

void Connection::discard_input() {
  char scratch[16 * 1024];
  for (int i = 0; i < 4; ++i) {  // bounded: a peer that keeps sending is cut at the timeout
    IoResult result = transport_->read(scratch);
    if (result.status == IoStatus::kDone) {
      read_waits_ = Readiness::kReadable;
      continue;
    }
    if (result.status == IoStatus::kWouldBlock) {
      read_waits_ = result.waits_for;
      return;
    }
    state_ = State::kDone;  // EOF or error: the peer has read what it will read
    return;
  }
}

}  // namespace srv
