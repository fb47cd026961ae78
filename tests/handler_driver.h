#pragma once

// A socket-free stand-in for srv::Connection, for testing protocol handlers. It feeds bytes to a
// ProtocolHandler exactly the way Connection::run_handler does: every chunk "received" is
// appended to an input buffer, then the handler is offered the whole unconsumed input again and
// again while it consumes something; unconsumed bytes stay at the front and are re-offered with
// the next chunk appended. A verdict other than kContinue stops the feeding, as it stops reading
// on a real connection. End of input calls on_eof with the bytes never consumed.
//
// Output is "flushed" (moved out of the handler's Buffer into sent()) after every chunk, like a
// writable socket would, so a handler cannot rely on finding its earlier replies in `out`.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "server/buffer.h"
#include "server/protocol.h"

namespace srv::test {

inline const char* verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::kContinue:
      return "kContinue";
    case Verdict::kCloseAfterFlush:
      return "kCloseAfterFlush";
    case Verdict::kCloseNow:
      return "kCloseNow";
    case Verdict::kPark:
      return "kPark";
  }
  return "(invalid verdict)";
}

class HandlerDriver {
 public:
  explicit HandlerDriver(ProtocolHandler& handler) : handler_(handler) {}

  /// One chunk arrives from the peer (one successful recv). An empty chunk is not a recv that
  /// returned data, so nothing is offered. Ignored once the connection stopped reading.
  void feed(std::string_view chunk) {
    if (!reading() || chunk.empty()) return;
    input_.append(chunk);
    run_handler();
    flush();
  }

  /// The peer half-closed (recv returned 0). Calls on_eof once with the unconsumed bytes.
  /// Does nothing if the connection already stopped reading (a handler verdict closed it).
  void finish() {
    if (!reading()) return;
    eof_rest_ = std::string(input_.readable());
    eof_verdict_ = handler_.on_eof(input_.readable(), output_);
    input_.clear();
    eof_called_ = true;
    state_ = *eof_verdict_ == Verdict::kCloseNow ? State::kClosedNow : State::kClosing;
    flush();
  }

  /// Everything the handler wrote, in order (including output a kCloseNow would discard; see
  /// closed_now()).
  const std::string& sent() const { return sent_; }
  /// The verdict of every on_data call, in order.
  const std::vector<Verdict>& data_verdicts() const { return data_verdicts_; }
  /// The `consumed` of every on_data call, in order.
  const std::vector<std::size_t>& consumed() const { return consumed_; }
  std::size_t on_data_calls() const { return consumed_.size(); }
  /// Bytes received and not consumed yet.
  std::string_view pending_input() const { return input_.readable(); }

  bool eof_called() const { return eof_called_; }
  /// What on_eof returned; only meaningful when eof_called().
  Verdict eof_verdict() const { return eof_verdict_.value_or(Verdict::kContinue); }
  /// The `rest` given to on_eof.
  const std::string& eof_rest() const { return eof_rest_; }

  /// True while the connection would still read (no close verdict and no EOF yet).
  bool reading() const { return state_ == State::kOpen; }
  /// A handler returned kCloseNow (from on_data or on_eof).
  bool closed_now() const { return state_ == State::kClosedNow; }
  /// A handler reported consuming more bytes than it was given (Connection closes at once).
  bool overconsumed() const { return overconsumed_; }
  /// on_data returned kPark: no more input is offered (the driver never wakes a handler).
  bool parked() const { return parked_; }

 private:
  enum class State { kOpen, kClosing, kClosedNow };

  // Mirrors Connection::run_handler (without the output high-water mark: output is flushed
  // after every chunk, so it never builds up).
  void run_handler() {
    while (state_ == State::kOpen && !parked_ && !input_.empty()) {
      Step step = handler_.on_data(input_.readable(), output_);
      consumed_.push_back(step.consumed);
      data_verdicts_.push_back(step.verdict);
      if (step.consumed > input_.size()) {
        overconsumed_ = true;
        state_ = State::kClosedNow;
        return;
      }
      input_.consume(step.consumed);
      if (step.verdict == Verdict::kCloseNow) {
        state_ = State::kClosedNow;
        return;
      }
      if (step.verdict == Verdict::kCloseAfterFlush) {
        state_ = State::kClosing;
        input_.clear();
        return;
      }
      if (step.verdict == Verdict::kPark) {
        parked_ = true;  // as Connection: what is left waits for a wake-up nobody sends here
        return;
      }
      if (step.consumed == 0) break;  // the handler waits for more bytes
    }
  }

  void flush() {
    sent_.append(output_.readable());
    output_.clear();
  }

  ProtocolHandler& handler_;
  Buffer input_;
  Buffer output_;
  std::string sent_;
  std::vector<Verdict> data_verdicts_;
  std::vector<std::size_t> consumed_;
  State state_ = State::kOpen;
  bool overconsumed_ = false;
  bool parked_ = false;
  bool eof_called_ = false;
  std::optional<Verdict> eof_verdict_;
  std::string eof_rest_;
};

/// Feeds `chunks` in order to `handler`, then (if `eof`) signals end of input. Returns the driver
/// for inspection.
inline HandlerDriver drive(ProtocolHandler& handler, std::span<const std::string_view> chunks,
                           bool eof = true) {
  HandlerDriver driver(handler);
  for (std::string_view chunk : chunks) driver.feed(chunk);
  if (eof) driver.finish();
  return driver;
}

/// `input` cut in two at `at` (0 and input.size() give an empty piece).
inline std::vector<std::string_view> split_in_two(std::string_view input, std::size_t at) {
  return {input.substr(0, at), input.substr(at)};
}

/// `input` cut into one-byte pieces.
inline std::vector<std::string_view> split_bytes(std::string_view input) {
  std::vector<std::string_view> pieces;
  pieces.reserve(input.size());
  for (std::size_t i = 0; i < input.size(); ++i) pieces.push_back(input.substr(i, 1));
  return pieces;
}

/// `input` cut into pieces of `size` bytes (the last one may be shorter).
inline std::vector<std::string_view> split_every(std::string_view input, std::size_t size) {
  std::vector<std::string_view> pieces;
  for (std::size_t i = 0; i < input.size(); i += size) pieces.push_back(input.substr(i, size));
  return pieces;
}

}  // namespace srv::test
