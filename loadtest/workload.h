// The client side of each protocol, sans-IO like the server's handlers: a Conversation writes
// requests into a string and checks the bytes that come back, in order, never touching a socket.
// The load engine owns the sockets and the clock.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace srv::loadtest {

enum class ReplyStatus {
  kIncomplete,  ///< not all of the reply is there yet; nothing consumed
  kOk,          ///< the oldest outstanding reply is complete and right
  kBad,         ///< wrong reply: the connection cannot be trusted any more
};

/// What checking the front of the input found: `consumed` bytes form one whole reply.
struct ReplyCheck {
  std::size_t consumed = 0;
  ReplyStatus status = ReplyStatus::kIncomplete;
  std::string why;  ///< for kBad: what was expected and what came
};

/// One connection's requests and the replies they must get. Owned by one load thread.
class Conversation {
 public:
  virtual ~Conversation() = default;
  /// Appends the next request to `out` and remembers the reply it needs.
  virtual void write_request(std::string& out) = 0;
  /// Checks the reply to the oldest request still outstanding against the start of `in`.
  /// Must not be called with no request outstanding.
  virtual ReplyCheck check_reply(std::string_view in) = 0;
  /// Forgets outstanding requests (the connection was closed and is opened anew).
  virtual void reset() = 0;
};

struct MixEntry {
  std::string command;  ///< ping, set or get
  unsigned weight = 1;
};

struct WorkloadOptions {
  std::string protocol = "http";   ///< echo, http, resp or template
  long size = -1;                  ///< payload bytes; -1 = the protocol's default
  std::string http_path = "/";     ///< GET target when size is 0
  std::string host = "127.0.0.1";  ///< Host header
  std::vector<MixEntry> mix;       ///< resp commands; empty = ping:1,set:1,get:1
  std::uint64_t keys = 10000;      ///< resp key space
  std::string request_template;    ///< template protocol: request bytes (escapes decoded)
  std::string expected_reply;      ///< template protocol: the exact reply
};

/// Makes conversations of one kind; shared read-only by every load thread.
class Workload {
 public:
  virtual ~Workload() = default;
  /// A new conversation for connection number `index` (seeds its key choice and payloads).
  virtual std::unique_ptr<Conversation> start(std::uint64_t index) const = 0;
  /// The payload size in effect, after the protocol's default was applied.
  virtual std::size_t size() const = 0;
  /// The mix as text ("ping:1,set:1,get:1"), empty if the protocol has none.
  virtual std::string mix() const { return {}; }
};

/// Builds the workload for `options`; throws std::invalid_argument with a message for the user.
std::unique_ptr<Workload> make_workload(const WorkloadOptions& options);

/// "ping:1,set:2" -> entries; throws std::invalid_argument naming the bad part.
std::vector<MixEntry> parse_mix(std::string_view text);

/// Decodes \r \n \t \\ \0 and \xHH, so requests can be given on a command line.
std::string decode_escapes(std::string_view text);

}  // namespace srv::loadtest
