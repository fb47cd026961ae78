#include "protocols/resp.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "protocols/resp_commands_impl.h"
#include "protocols/resp_reply.h"
#include "server/counters.h"

namespace srv {
namespace {

// Replies a handler produces in one call before it lets the driver write them: pipelined
// requests are many, and each can ask for a large reply.
constexpr std::size_t kReplyBatchBytes = 64 * 1024;

// A command name in the access log is cut at this length (a client may send any bytes there).
constexpr std::size_t kLoggedNameBytes = 32;

constexpr std::int64_t kKiB = 1024;
constexpr std::int64_t kMiB = 1024 * kKiB;
constexpr std::int64_t kGiB = 1024 * kMiB;

// An HTTP request sent to the resp port parses as inline commands, and a browser page can make
// one (cross-protocol scripting): "POST /" or a "Host:" header line means HTTP, and Redis drops
// such a connection at once without answering; so does srv.
bool is_http_request_line(std::span<const std::string_view> args) {
  if (args.empty()) return false;
  return resp_impl::equals_ignore_case(args[0], "post") ||
         resp_impl::equals_ignore_case(args[0], "host:");
}

void log_cross_protocol() {
  const std::uint64_t total = count(Counter::kRespCrossProtocol);
  if (log_allowed(Counter::kRespCrossProtocol)) {
    spdlog::warn(
        "resp: a client sent POST or Host: (an HTTP request, possibly cross-protocol scripting); "
        "connection closed ({} so far)",
        total);
  }
}

}  // namespace

RespHandler::RespHandler(std::shared_ptr<RespState> state, Waker* waker, RequestMeter& meter)
    : state_(std::move(state)), meter_(meter) {
  session_.client_id = state_->keyspace.next_client_id();
  session_.waker = waker;
  session_.authenticated = state_->settings.requirepass.empty();
  state_->keyspace.client_connected();
}

RespHandler::~RespHandler() {
  leave_registry(state_->keyspace, session_);
  state_->keyspace.client_disconnected();
}

Verdict RespHandler::on_deadline(Buffer& out) {
  if (!session_.blocked) return Verdict::kCloseNow;  // no other deadline is ever set
  time_out_blocked(state_->keyspace, session_, out);
  return Verdict::kContinue;
}

Verdict RespHandler::on_wake(Buffer& out) {
  Mail mail = collect_mail(state_->keyspace, session_, state_->settings.pubsub_output_limit, out);
  if (mail.cut) {
    spdlog::info("resp: client {} closed: its replies passed pubsub_output_limit",
                 session_.client_id);
    return Verdict::kCloseNow;
  }
  if (session_.blocked && !mail.still_blocked) {
    session_.blocked = false;
    session_.block_deadline = Clock::time_point::max();
  }
  return session_.blocked ? Verdict::kPark : Verdict::kContinue;
}

Step RespHandler::on_data(std::string_view in, Buffer& out) {
  const RespSettings& settings = state_->settings;
  ParseLimits limits{settings.max_bulk_length, settings.max_args, !session_.authenticated};
  std::size_t used = 0;
  while (used < in.size()) {
    ParseResult result = parser_.parse(in.substr(used), limits);
    switch (result.status) {
      case ParseStatus::kIncomplete:
        return {used, Verdict::kContinue};
      case ParseStatus::kEmpty:
        used += result.consumed;
        continue;
      case ParseStatus::kError: {
        const std::size_t reply_at = out.size();
        resp::error(out, "ERR " + parser_.error());
        meter_.request_error(RequestError::kErr,
                             {"", "error", in.size() - used, out.size() - reply_at});
        return {used, Verdict::kCloseAfterFlush};
      }
      case ParseStatus::kCommand:
        break;
    }
    used += result.consumed;
    if (is_http_request_line(parser_.args())) {
      log_cross_protocol();
      return {used, Verdict::kCloseNow};
    }
    CommandContext context{parser_.args(), out, state_->keyspace, session_, settings};
    const std::size_t reply_at = out.size();
    try {
      execute_command(context);
    } catch (const std::exception& e) {
      // Not a client mistake (the keyspace lock is unrecoverable, say): report and hang up.
      spdlog::error("resp: command failed: {}", e.what());
      resp::error(out, "ERR internal error");
      meter_.request_error(RequestError::kServer, {{}, "error", result.consumed, 0});
      return {used, Verdict::kCloseAfterFlush};
    }
    count_reply(out, reply_at, result.consumed);
    if (session_.quit) return {used, Verdict::kCloseAfterFlush};
    if (session_.blocked) return {used, Verdict::kPark};
    // AUTH may have lifted the limits for unauthenticated clients.
    limits.unauthenticated = !session_.authenticated;
    if (out.size() >= kReplyBatchBytes) break;
  }
  return {used, Verdict::kContinue};
}

void RespHandler::count_reply(const Buffer& out, std::size_t reply_at, std::size_t request_bytes) {
  std::string_view reply = out.readable().substr(reply_at);
  bool failed = !reply.empty() && reply.front() == '-';
  RequestSummary summary{{}, failed ? "error" : "ok", request_bytes, reply.size()};
  // The command's name, upper-cased as Redis shows it: copied only for an access log.
  char name[kLoggedNameBytes];
  if (meter_.logs_requests() && !parser_.args().empty()) {
    std::string_view sent = parser_.args()[0].substr(0, sizeof name);
    std::transform(sent.begin(), sent.end(), name, [](char c) {
      return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    });
    summary.request = {name, sent.size()};
  }
  if (!failed) return meter_.request_done(summary);
  std::string_view prefix = reply.substr(1, reply.find_first_of(" \r", 1) - 1);
  RequestError kind = prefix == "ERR"         ? RequestError::kErr
                      : prefix == "WRONGTYPE" ? RequestError::kWrongType
                      : prefix == "NOAUTH"    ? RequestError::kNoAuth
                                              : RequestError::kOther;
  meter_.request_error(kind, summary);
}

RespFactory::RespFactory(const RespSettings& settings)
    : RespFactory(settings, std::make_shared<Keyspace>(settings.max_memory)) {}

RespFactory::RespFactory(const RespSettings& settings, std::shared_ptr<Keyspace> keyspace)
    : state_(std::make_shared<RespState>(settings, std::move(keyspace))) {}

std::shared_ptr<Keyspace> server_keyspace(std::size_t max_memory) {
  static std::weak_ptr<Keyspace> current;
  static std::size_t current_size = 0;
  if (std::shared_ptr<Keyspace> kept = current.lock()) {
    if (current_size != max_memory) {
      throw std::invalid_argument(fmt::format(
          "the keyspace is kept while srv runs and has max_memory {} bytes; a new size needs a "
          "restart (every resp listener shares it, so they must agree)",
          current_size));
    }
    return kept;
  }
  auto made = std::make_shared<Keyspace>(max_memory);
  current = made;
  current_size = max_memory;
  return made;
}

std::unique_ptr<ProtocolHandler> RespFactory::create(const ConnectionContext& context) {
  return std::make_unique<RespHandler>(state_, &context.waker, context.meter);
}

std::string_view RespFactory::refusal() const {
  return "-ERR max number of clients reached\r\n";
}

std::unique_ptr<ProtocolFactory> make_resp_protocol(Section& options) {
  RespSettings settings;
  settings.max_memory =
      static_cast<std::size_t>(options.bytes("max_memory", 64 * kMiB, 1 * kMiB, 1024 * kGiB));
  settings.requirepass = options.string("requirepass", "");
  settings.max_bulk_length = options.bytes("max_bulk_length", 512 * kKiB, 1, 512 * kMiB);
  settings.max_args = options.integer("max_args", 1024 * 1024, 1, 1024 * 1024 * 1024);
  settings.pubsub_output_limit = static_cast<std::size_t>(
      options.bytes("pubsub_output_limit", 32 * kMiB, 1 * kKiB, 1024 * kGiB));
  options.finish();
  using namespace std::chrono;
  settings.start_time_ms =
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  try {
    return std::make_unique<RespFactory>(settings, server_keyspace(settings.max_memory));
  } catch (const std::invalid_argument& e) {
    options.fail("max_memory", e.what());
  } catch (const std::system_error& e) {
    options.fail("max_memory", fmt::format("cannot map {} bytes of shared memory for the "
                                           "keyspace: {}",
                                           settings.max_memory, e.what()));
  }
}

}  // namespace srv
