#include "protocols/admin.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

#include "protocols/http_parser.h"
#include "server/metrics.h"
#include "server/process_figures.h"

namespace srv {
namespace {

// A head larger than this is refused: admin requests are a line and a few headers.
constexpr std::size_t kMaxHead = 8 * 1024;

struct Reply {
  std::string_view status;  // "200 OK"
  std::string_view type;    // Content-Type
  std::string body;
  std::string_view extra = {};  // further header lines, each ending in CRLF
};

void write_reply(Buffer& out, const Reply& reply, bool head_method) {
  out.append(
      fmt::format("HTTP/1.1 {}\r\nServer: srv\r\nContent-Type: {}\r\nContent-Length: {}\r\n{}"
                  "Connection: close\r\n\r\n",
                  reply.status, reply.type, reply.body.size(), reply.extra));
  if (!head_method) out.append(reply.body);
}

Reply text(std::string_view status, std::string body) {
  return {status, "text/plain; charset=utf-8", std::move(body)};
}

Reply answer(std::string_view path, const StatusSource& source) {
  if (path == "/healthz") {
    return source().draining ? text("503 Service Unavailable", "draining\n")
                             : text("200 OK", "ok\n");
  }
  if (path == "/metrics") {
    StatusInfo status = source();
    return {"200 OK", "text/plain; version=0.0.4; charset=utf-8",
            render_prometheus(snapshot_metrics(), status,
                              process_group_figures(status.pgid, status.root))};
  }
  if (path == "/status") {
    StatusInfo status = source();
    return {"200 OK", "application/json",
            render_status_json(status, process_group_figures(status.pgid, status.root),
                               std::chrono::system_clock::now())};
  }
  return text("404 Not Found", "Not Found: try /metrics, /status or /healthz\n");
}

class AdminHandler final : public ProtocolHandler {
 public:
  AdminHandler(bool allowed, const StatusSource& status) : allowed_(allowed), status_(status) {}

  // One request per connection: every answer closes it, which scrapers handle.
  Step on_data(std::string_view in, Buffer& out) override {
    if (!allowed_) {
      write_reply(out, text("403 Forbidden", "Forbidden\n"), false);
      return {in.size(), Verdict::kCloseAfterFlush};
    }
    thread_local http::RequestHead head;
    http::ParseResult parsed = http::parse_request_head(in.substr(0, kMaxHead), head);
    if (parsed.status == http::ParseStatus::kIncomplete && in.size() <= kMaxHead) {
      return {0, Verdict::kContinue};
    }
    if (parsed.status != http::ParseStatus::kComplete) {
      write_reply(out, text("400 Bad Request", "Bad Request\n"), false);
      return {in.size(), Verdict::kCloseAfterFlush};
    }
    bool head_method = head.method == "HEAD";
    if (head.method != "GET" && !head_method) {
      Reply refused = text("405 Method Not Allowed", "Method Not Allowed\n");
      refused.extra = "Allow: GET, HEAD\r\n";
      write_reply(out, refused, false);
    } else {
      std::string_view path = head.target.substr(0, head.target.find('?'));
      write_reply(out, answer(path, status_), head_method);
    }
    return {in.size(), Verdict::kCloseAfterFlush};
  }

 private:
  bool allowed_;
  const StatusSource& status_;  // the factory's, which outlives its handlers
};

class AdminFactory final : public ProtocolFactory {
 public:
  AdminFactory(std::vector<AddressRange> allow, StatusSource status)
      : allow_(std::move(allow)), status_(std::move(status)) {}
  std::unique_ptr<ProtocolHandler> create(const ConnectionContext& context) override {
    return std::make_unique<AdminHandler>(peer_allowed(context.peer, allow_), status_);
  }

 private:
  std::vector<AddressRange> allow_;
  StatusSource status_;
};

// The address part of "HOST:PORT" or "[V6]:PORT".
std::string_view host_of(std::string_view peer) {
  if (!peer.empty() && peer.front() == '[') {
    std::size_t close = peer.find(']');
    return close == std::string_view::npos ? std::string_view() : peer.substr(1, close - 1);
  }
  return peer.substr(0, peer.rfind(':'));
}

bool parse_address(std::string_view text, AddressRange& out) {
  std::string host(text);
  if (::inet_pton(AF_INET, host.c_str(), out.bytes.data()) == 1) {
    out.v6 = false;
    return true;
  }
  if (::inet_pton(AF_INET6, host.c_str(), out.bytes.data()) == 1) {
    out.v6 = true;
    return true;
  }
  return false;
}

bool contains(const AddressRange& range, const AddressRange& address) {
  if (range.v6 != address.v6) return false;
  int whole = range.prefix / 8;
  if (!std::equal(range.bytes.begin(), range.bytes.begin() + whole, address.bytes.begin())) {
    return false;
  }
  int bits = range.prefix % 8;
  if (bits == 0) return true;
  auto mask = static_cast<std::uint8_t>(0xff << (8 - bits));
  return (range.bytes[whole] & mask) == (address.bytes[whole] & mask);
}

}  // namespace

bool parse_address_range(std::string_view text, AddressRange& out, std::string& error) {
  std::size_t slash = text.find('/');
  out = AddressRange{};
  if (!parse_address(text.substr(0, slash), out)) {
    error = fmt::format("'{}' is not an IPv4 or IPv6 address (ADDRESS or ADDRESS/PREFIX)",
                        text.substr(0, slash));
    return false;
  }
  int max = out.v6 ? 128 : 32;
  out.prefix = max;
  if (slash == std::string_view::npos) return true;
  std::string_view digits = text.substr(slash + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out.prefix);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
      out.prefix < 0 || out.prefix > max) {
    error = fmt::format("'{}': the prefix length must be 0 to {}", text, max);
    return false;
  }
  return true;
}

bool peer_allowed(std::string_view peer, const std::vector<AddressRange>& allow) {
  AddressRange address;
  if (!parse_address(host_of(peer), address)) return false;
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (address.v6 && std::memcmp(address.bytes.data(), kMapped, sizeof kMapped) == 0) {
    std::memmove(address.bytes.data(), address.bytes.data() + 12, 4);
    address.v6 = false;
  }
  return std::any_of(allow.begin(), allow.end(),
                     [&](const AddressRange& range) { return contains(range, address); });
}

std::vector<AddressRange> loopback_ranges() {
  std::vector<AddressRange> ranges(2);
  std::string unused;
  parse_address_range("127.0.0.0/8", ranges[0], unused);
  parse_address_range("::1", ranges[1], unused);
  return ranges;
}

std::unique_ptr<ProtocolFactory> make_admin_protocol(std::vector<AddressRange> allow,
                                                     StatusSource status) {
  return std::make_unique<AdminFactory>(std::move(allow), std::move(status));
}

}  // namespace srv
