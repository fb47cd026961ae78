// HTTP/1.1 keep-alive requests and the checks on their replies: status 200, framing by
// Content-Length, and for POST /echo the body that was sent.
#include <algorithm>
#include <cstring>
#include <deque>
#include <stdexcept>

#include <fmt/format.h>

#include "loadtest/workload_protocols.h"

namespace srv::loadtest {
namespace {

constexpr std::size_t kMaxHead = 64 * 1024;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

ReplyCheck bad(std::string why) {
  return {0, ReplyStatus::kBad, std::move(why)};
}

// The head of a reply: where the body starts and how long it is.
struct Head {
  std::size_t body_at = 0;
  std::size_t length = 0;
};

// nullopt-like: returns kIncomplete/kBad through `check` when the head is not usable.
bool parse_head(std::string_view in, Head& head, ReplyCheck& check) {
  const std::size_t end = in.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (in.size() > kMaxHead) check = bad("http: reply head longer than 64 KiB");
    return false;
  }
  std::string_view lines = in.substr(0, end + 2);
  const std::size_t eol = lines.find("\r\n");
  const std::string_view status = lines.substr(0, eol);
  if (!(status.starts_with("HTTP/1.1 ") || status.starts_with("HTTP/1.0 ")) || status.size() < 12) {
    check = bad(fmt::format("http: not a status line: {:?}", status.substr(0, 80)));
    return false;
  }
  if (status.substr(9, 3) != "200") {
    check = bad(fmt::format("http: {:?}", status.substr(0, 80)));
    return false;
  }
  bool have_length = false;
  for (lines.remove_prefix(eol + 2); !lines.empty();) {
    const std::size_t next = lines.find("\r\n");
    const std::string_view line = lines.substr(0, next);
    lines.remove_prefix(next + 2);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "Content-Length")) {
      std::size_t n = 0;
      for (char c : value) {
        if (c < '0' || c > '9' || n > (std::size_t{1} << 40)) {
          check = bad(fmt::format("http: bad Content-Length {:?}", value));
          return false;
        }
        n = n * 10 + static_cast<std::size_t>(c - '0');
      }
      head.length = n;
      have_length = !value.empty();
    } else if (iequals(name, "Transfer-Encoding")) {
      check = bad("http: chunked replies are not checked; serve with a Content-Length");
      return false;
    }
  }
  if (!have_length) {
    check = bad("http: reply without Content-Length");
    return false;
  }
  head.body_at = end + 4;
  return true;
}

class HttpConversation : public Conversation {
 public:
  HttpConversation(const std::string& get, std::size_t size, std::string_view host,
                   std::uint64_t index)
      : get_(get), seq_(index << 40) {
    if (size > 0) {
      post_head_ = fmt::format(
          "POST /echo HTTP/1.1\r\nHost: {}\r\nContent-Type: application/octet-stream\r\n"
          "Content-Length: {}\r\n\r\n",
          host, size);
      body_.assign(size, 'b');
      for (std::size_t i = 0; i < size; ++i) body_[i] = static_cast<char>('a' + (index + i) % 26);
    }
  }

  void write_request(std::string& out) override {
    if (body_.empty()) {
      out += get_;
      ++outstanding_get_;
      return;
    }
    out += post_head_;
    const std::size_t at = out.size();
    out += body_;
    std::memcpy(out.data() + at, &seq_, std::min(sizeof seq_, body_.size()));
    outstanding_.push_back(seq_++);
  }

  ReplyCheck check_reply(std::string_view in) override {
    Head head;
    ReplyCheck check;
    if (!parse_head(in, head, check)) return check;
    if (in.size() - head.body_at < head.length) return {};
    const std::size_t consumed = head.body_at + head.length;
    if (body_.empty()) {
      --outstanding_get_;
      return {consumed, ReplyStatus::kOk, {}};
    }
    std::string expected = body_;
    std::memcpy(expected.data(), &outstanding_.front(), std::min(sizeof seq_, body_.size()));
    if (in.substr(head.body_at, head.length) != expected) {
      return bad(fmt::format("http: POST /echo body of {} bytes differs from the {} sent",
                             head.length, expected.size()));
    }
    outstanding_.pop_front();
    return {consumed, ReplyStatus::kOk, {}};
  }

  void reset() override {
    outstanding_.clear();
    outstanding_get_ = 0;
  }

 private:
  const std::string& get_;
  std::string post_head_;
  std::string body_;
  std::uint64_t seq_;
  std::deque<std::uint64_t> outstanding_;
  std::size_t outstanding_get_ = 0;
};

class HttpWorkload : public Workload {
 public:
  HttpWorkload(const WorkloadOptions& options, std::size_t size)
      : get_(fmt::format("GET {} HTTP/1.1\r\nHost: {}\r\n\r\n", options.http_path, options.host)),
        host_(options.host),
        size_(size) {
    if (!options.http_path.starts_with('/')) {
      throw std::invalid_argument("--path: must start with '/'");
    }
  }
  std::unique_ptr<Conversation> start(std::uint64_t index) const override {
    return std::make_unique<HttpConversation>(get_, size_, host_, index);
  }
  std::size_t size() const override { return size_; }

 private:
  std::string get_;
  std::string host_;
  std::size_t size_;
};

}  // namespace

std::unique_ptr<Workload> make_http_workload(const WorkloadOptions& options, std::size_t size) {
  return std::make_unique<HttpWorkload>(options, size);
}

}  // namespace srv::loadtest
