// The workload factory, option parsing helpers, and the two protocols whose replies are plain
// bytes: echo (the reply is the request) and template (a fixed request, a fixed reply).
#include "loadtest/workload.h"

#include <cstring>
#include <deque>
#include <stdexcept>

#include <fmt/format.h>

#include "loadtest/workload_protocols.h"

namespace srv::loadtest {
namespace {

// Echo replies carry no framing, so each request is stamped with its sequence number: a server
// that loses, repeats or reorders bytes fails the comparison instead of passing by luck.
class EchoConversation : public Conversation {
 public:
  EchoConversation(std::size_t size, std::uint64_t index) : payload_(size, 'e'), seq_(index << 40) {
    for (std::size_t i = 0; i < size; ++i) payload_[i] = static_cast<char>('a' + (index + i) % 26);
  }
  void write_request(std::string& out) override {
    const std::size_t at = out.size();
    out += payload_;
    stamp(out.data() + at, seq_);
    outstanding_.push_back(seq_++);
  }
  ReplyCheck check_reply(std::string_view in) override {
    if (in.size() < payload_.size()) return {};
    std::string expected = payload_;
    stamp(expected.data(), outstanding_.front());
    if (in.substr(0, payload_.size()) != expected) {
      return {0, ReplyStatus::kBad, "echo: reply differs from the request"};
    }
    outstanding_.pop_front();
    return {payload_.size(), ReplyStatus::kOk, {}};
  }
  void reset() override { outstanding_.clear(); }

 private:
  void stamp(char* at, std::uint64_t seq) const {
    std::memcpy(at, &seq, std::min(sizeof seq, payload_.size()));
  }
  std::string payload_;
  std::uint64_t seq_;
  std::deque<std::uint64_t> outstanding_;
};

class EchoWorkload : public Workload {
 public:
  explicit EchoWorkload(std::size_t size) : size_(size) {}
  std::unique_ptr<Conversation> start(std::uint64_t index) const override {
    return std::make_unique<EchoConversation>(size_, index);
  }
  std::size_t size() const override { return size_; }

 private:
  std::size_t size_;
};

class TemplateConversation : public Conversation {
 public:
  TemplateConversation(const std::string& request, const std::string& reply)
      : request_(request), reply_(reply) {}
  void write_request(std::string& out) override { out += request_; }
  ReplyCheck check_reply(std::string_view in) override {
    const std::size_t n = std::min(in.size(), reply_.size());
    if (in.substr(0, n) != std::string_view(reply_).substr(0, n)) {
      return {0, ReplyStatus::kBad,
              fmt::format("template: expected {:?}, got {:?}", reply_, in.substr(0, 80))};
    }
    if (n < reply_.size()) return {};
    return {reply_.size(), ReplyStatus::kOk, {}};
  }
  void reset() override {}

 private:
  const std::string& request_;
  const std::string& reply_;
};

class TemplateWorkload : public Workload {
 public:
  TemplateWorkload(std::string request, std::string reply)
      : request_(std::move(request)), reply_(std::move(reply)) {}
  std::unique_ptr<Conversation> start(std::uint64_t) const override {
    return std::make_unique<TemplateConversation>(request_, reply_);
  }
  std::size_t size() const override { return request_.size(); }

 private:
  std::string request_;
  std::string reply_;
};

}  // namespace

std::vector<MixEntry> parse_mix(std::string_view text) {
  std::vector<MixEntry> mix;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    const std::string_view part = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    const std::size_t colon = part.find(':');
    MixEntry entry{std::string(part.substr(0, colon)), 1};
    if (colon != std::string_view::npos) {
      const std::string weight(part.substr(colon + 1));
      char* end = nullptr;
      const unsigned long w = std::strtoul(weight.c_str(), &end, 10);
      if (weight.empty() || *end != '\0' || w == 0 || w > 1000) {
        throw std::invalid_argument(fmt::format("--mix: bad weight in '{}' (1..1000)", part));
      }
      entry.weight = static_cast<unsigned>(w);
    }
    if (entry.command != "ping" && entry.command != "set" && entry.command != "get") {
      throw std::invalid_argument(
          fmt::format("--mix: unknown command '{}' (known: ping, set, get)", entry.command));
    }
    mix.push_back(std::move(entry));
  }
  if (mix.empty()) throw std::invalid_argument("--mix: empty (e.g. ping:1,set:1,get:1)");
  return mix;
}

std::string decode_escapes(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    const char c = text[++i];
    switch (c) {
      case 'r':
        out += '\r';
        break;
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case '0':
        out += '\0';
        break;
      case '\\':
        out += '\\';
        break;
      case 'x':
        if (i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
          out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
          i += 2;
          break;
        }
        throw std::invalid_argument("\\x needs two hex digits");
      default:
        throw std::invalid_argument(fmt::format("unknown escape \\{}", c));
    }
  }
  return out;
}

std::unique_ptr<Workload> make_workload(const WorkloadOptions& options) {
  if (options.size < -1 || options.size > (64 << 20)) {
    throw std::invalid_argument("--size: 0..67108864 bytes");
  }
  const auto size_or = [&](std::size_t fallback) {
    return options.size < 0 ? fallback : static_cast<std::size_t>(options.size);
  };
  if (options.protocol == "echo") {
    if (options.size == 0) throw std::invalid_argument("--size: echo needs at least 1 byte");
    return std::make_unique<EchoWorkload>(size_or(64));
  }
  if (options.protocol == "http") return make_http_workload(options, size_or(0));
  if (options.protocol == "resp") return make_resp_workload(options, size_or(3));
  if (options.protocol == "template") {
    if (options.request_template.empty() || options.expected_reply.empty()) {
      throw std::invalid_argument("template: needs --request and --expect");
    }
    return std::make_unique<TemplateWorkload>(decode_escapes(options.request_template),
                                              decode_escapes(options.expected_reply));
  }
  throw std::invalid_argument(fmt::format(
      "--protocol: unknown '{}' (known: echo, http, resp, template)", options.protocol));
}

}  // namespace srv::loadtest
