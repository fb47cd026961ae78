// RESP2 PING/SET/GET as redis-benchmark sends them (multi-bulk, "key:%012d" keys), with each
// reply checked: +PONG, +OK, and for GET either nil or a bulk of exactly the value SET writes.
#include <cstring>
#include <deque>
#include <stdexcept>

#include <fmt/format.h>

#include "loadtest/workload_protocols.h"

namespace srv::loadtest {
namespace {

enum class Command { kPing, kSet, kGet };

ReplyCheck bad(std::string_view expected, std::string_view in) {
  const std::size_t eol = in.find("\r\n");
  return {0, ReplyStatus::kBad,
          fmt::format("resp: expected {}, got {:?}", expected,
                      in.substr(0, std::min(eol, std::size_t{80})))};
}

// Checks that `in` starts with `want`; incomplete while it is a prefix of it.
ReplyCheck expect_exact(std::string_view in, std::string_view want) {
  const std::size_t n = std::min(in.size(), want.size());
  if (in.substr(0, n) != want.substr(0, n)) return bad(fmt::format("{:?}", want), in);
  if (n < want.size()) return {};
  return {want.size(), ReplyStatus::kOk, {}};
}

class RespConversation : public Conversation {
 public:
  RespConversation(const std::vector<Command>& cycle, const std::string& value,
                   const std::string& bulk_reply, std::uint64_t keys, std::uint64_t index)
      : cycle_(cycle),
        value_(value),
        bulk_reply_(bulk_reply),
        keys_(keys),
        next_(index % cycle.size()),
        rng_(index * 0x9E3779B97F4A7C15ULL + 1) {}

  void write_request(std::string& out) override {
    const Command command = cycle_[next_];
    next_ = (next_ + 1) % cycle_.size();
    outstanding_.push_back(command);
    if (command == Command::kPing) {
      out += "*1\r\n$4\r\nPING\r\n";
      return;
    }
    char key[24];
    const int n = std::snprintf(key, sizeof key, "key:%012llu",
                                static_cast<unsigned long long>(random() % keys_));
    if (command == Command::kGet) {
      fmt::format_to(std::back_inserter(out), "*2\r\n$3\r\nGET\r\n${}\r\n{}\r\n", n, key);
      return;
    }
    fmt::format_to(std::back_inserter(out), "*3\r\n$3\r\nSET\r\n${}\r\n{}\r\n${}\r\n", n, key,
                   value_.size());
    out += value_;
    out += "\r\n";
  }

  ReplyCheck check_reply(std::string_view in) override {
    ReplyCheck check;
    switch (outstanding_.front()) {
      case Command::kPing:
        check = expect_exact(in, "+PONG\r\n");
        break;
      case Command::kSet:
        check = expect_exact(in, "+OK\r\n");
        break;
      case Command::kGet:
        // A key nobody has SET yet answers nil; any other reply must be the value SET writes.
        if (in.size() < 2) return {};  // nil and a value look alike until the second byte
        check = in[1] == '-' ? expect_exact(in, "$-1\r\n") : expect_exact(in, bulk_reply_);
        break;
    }
    if (check.status == ReplyStatus::kOk) outstanding_.pop_front();
    return check;
  }

  void reset() override { outstanding_.clear(); }

 private:
  // splitmix64: cheap, and every connection gets its own sequence of keys.
  std::uint64_t random() {
    std::uint64_t z = (rng_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  const std::vector<Command>& cycle_;
  const std::string& value_;
  const std::string& bulk_reply_;
  std::uint64_t keys_;
  std::size_t next_;
  std::uint64_t rng_;
  std::deque<Command> outstanding_;
};

class RespWorkload : public Workload {
 public:
  RespWorkload(const WorkloadOptions& options, std::size_t size)
      : value_(size, 'x'), keys_(options.keys) {
    mix_ = options.mix.empty() ? parse_mix("ping:1,set:1,get:1") : options.mix;
    for (const MixEntry& entry : mix_) {
      const Command c = entry.command == "ping"  ? Command::kPing
                        : entry.command == "set" ? Command::kSet
                                                 : Command::kGet;
      cycle_.insert(cycle_.end(), entry.weight, c);
    }
    if (keys_ == 0) throw std::invalid_argument("--keys: at least 1");
    bulk_reply_ = fmt::format("${}\r\n{}\r\n", size, value_);
  }
  std::unique_ptr<Conversation> start(std::uint64_t index) const override {
    return std::make_unique<RespConversation>(cycle_, value_, bulk_reply_, keys_, index);
  }
  std::size_t size() const override { return value_.size(); }
  std::string mix() const override {
    std::string text;
    for (const MixEntry& e : mix_)
      text += fmt::format("{}{}:{}", text.empty() ? "" : ",", e.command, e.weight);
    return text;
  }

 private:
  std::vector<MixEntry> mix_;
  std::vector<Command> cycle_;
  std::string value_;
  std::string bulk_reply_;
  std::uint64_t keys_;
};

}  // namespace

std::unique_ptr<Workload> make_resp_workload(const WorkloadOptions& options, std::size_t size) {
  return std::make_unique<RespWorkload>(options, size);
}

}  // namespace srv::loadtest
