// Fuzzes the RESP parser (and, through it, the resp handler) with arbitrary bytes. Beyond "no
// crash and no sanitizer report", it checks properties that hold for every input:
// - the parser yields the same commands, skips and error whether the input comes whole or in
//   pieces (the first input byte seeds the split), so resuming after kIncomplete is exact;
// - every result consumes no more than it was given; a command's multibulk arguments lie inside
//   the input; the same bytes cut right after a command parse to the same command, and one byte
//   less is incomplete (or, for an over-long line, an error);
// - the handler's replies and its decision to close do not depend on the split, every reply
//   starts with a RESP type byte, and no call consumes too much or asks to close at once.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/resp.h"
#include "protocols/resp_parser.h"
#include "server/buffer.h"
#include "tests/handler_driver.h"
#include "tests/test_context.h"

namespace {

using srv::ParseResult;
using srv::ParseStatus;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "resp_fuzz: %s\n", what);
  std::abort();
}

// Small limits so that the fuzzer reaches them.
srv::ParseLimits small_limits(bool unauthenticated) {
  srv::ParseLimits limits;
  limits.max_bulk_length = 64;
  limits.max_args = 8;
  limits.unauthenticated = unauthenticated;
  return limits;
}

struct Parsed {
  std::vector<std::vector<std::string>> commands;
  std::size_t empties = 0;
  std::string error;
  bool operator==(const Parsed&) const = default;
};

std::vector<std::string_view> split(std::string_view input, std::uint8_t seed) {
  std::vector<std::string_view> pieces;
  std::uint32_t state = seed * 2654435761u + 1;
  for (std::size_t at = 0; at < input.size();) {
    state = state * 1664525u + 1013904223u;
    std::size_t size = 1 + (state >> 24) % 13;
    pieces.push_back(input.substr(at, size));
    at += size;
  }
  return pieces;
}

// Checks one complete result against a fresh parse of exactly its bytes.
void check_prefix(std::string_view in, const ParseResult& result, const srv::ParseLimits& limits,
                  const std::vector<std::string>& args) {
  srv::RespParser fresh;
  ParseResult again = fresh.parse(in.substr(0, result.consumed), limits);
  if (again.status != result.status || again.consumed != result.consumed) {
    fail("the bytes of a command alone parse differently");
  }
  if (result.status == ParseStatus::kCommand) {
    std::vector<std::string> same(fresh.args().begin(), fresh.args().end());
    if (same != args) fail("the bytes of a command alone give other arguments");
  }
  srv::RespParser shorter;
  ParseResult less = shorter.parse(in.substr(0, result.consumed - 1), limits);
  if (less.status != ParseStatus::kIncomplete &&
      !(less.status == ParseStatus::kError && result.consumed - 1 > srv::kMaxInlineLength)) {
    fail("a command one byte short is not incomplete");
  }
}

Parsed parse_pieces(const std::vector<std::string_view>& pieces, const srv::ParseLimits& limits,
                    bool check) {
  srv::RespParser parser;
  srv::Buffer input;
  Parsed parsed;
  for (std::string_view piece : pieces) {
    input.append(piece);
    for (;;) {
      std::string_view in = input.readable();
      ParseResult result = parser.parse(in, limits);
      if (result.consumed > in.size()) fail("consumed more than given");
      if (result.status == ParseStatus::kIncomplete) {
        if (result.consumed != 0) fail("kIncomplete consumed bytes");
        break;
      }
      if (result.status == ParseStatus::kError) {
        if (parser.error().rfind("Protocol error: ", 0) != 0) fail("error text");
        parsed.error = parser.error();
        return parsed;
      }
      if (result.consumed == 0) fail("a command of no bytes");
      std::vector<std::string> args;
      if (result.status == ParseStatus::kCommand) {
        if (parser.args().empty()) fail("a command without arguments");
        bool multibulk = in[0] == '*';
        for (std::string_view arg : parser.args()) {
          if (multibulk &&
              (arg.data() < in.data() || arg.data() + arg.size() > in.data() + in.size())) {
            fail("a multibulk argument outside the input");
          }
          args.emplace_back(arg);
        }
        parsed.commands.push_back(args);
      } else {
        ++parsed.empties;
      }
      if (check) check_prefix(in, result, limits, args);
      input.consume(result.consumed);
    }
  }
  return parsed;
}

struct Run {
  std::string output;
  bool closes = false;
};

Run run_handler(const std::vector<std::string_view>& pieces) {
  srv::RespSettings settings;
  settings.max_memory = 64 * 1024;  // small: OOM paths too
  settings.max_bulk_length = 256;
  settings.max_args = 16;
  srv::RespFactory factory(settings);
  factory.keyspace().set_clock_for_testing([] { return std::int64_t{1'700'000'000'000}; });
  auto handler = factory.create(srv::test::test_context());
  srv::test::HandlerDriver driver = srv::test::drive(*handler, pieces);
  if (driver.overconsumed()) fail("the handler consumed more than it was given");
  Run run{driver.sent(), false};
  for (srv::Verdict v : driver.data_verdicts()) {
    if (v == srv::Verdict::kCloseNow) fail("on_data returned kCloseNow");
    run.closes = run.closes || v == srv::Verdict::kCloseAfterFlush;
  }
  if (!run.output.empty() && std::string_view("+-:$*").find(run.output[0]) == std::string::npos) {
    fail("a reply without a RESP type byte");
  }
  // INFO's uptime may tick between two runs.
  constexpr std::string_view kUptime = "uptime_in_seconds:";
  for (std::size_t at = run.output.find(kUptime); at != std::string::npos;
       at = run.output.find(kUptime, at + 1)) {
    for (std::size_t i = at + kUptime.size(); i < run.output.size() && run.output[i] != '\r'; ++i) {
      run.output[i] = '#';
    }
  }
  return run;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::uint8_t seed = data[0];
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  for (bool unauthenticated : {false, true}) {
    srv::ParseLimits limits = small_limits(unauthenticated);
    Parsed whole = parse_pieces({input}, limits, /*check=*/true);
    Parsed pieces = parse_pieces(split(input, seed), limits, /*check=*/false);
    if (!(whole == pieces)) fail("parsing depends on how the input was split");
  }
  Run whole = run_handler({input});
  Run pieces = run_handler(split(input, seed));
  if (whole.output != pieces.output) fail("replies depend on how the input was split");
  if (whole.closes != pieces.closes) fail("closing depends on how the input was split");
  return 0;
}
