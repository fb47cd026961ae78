#pragma once

// The resp reply tables: one case is request bytes and the exact reply bytes Redis 7.0 gives.
// resp_test.cc feeds every case whole, split at every point and byte by byte, and compares the
// whole table with a live redis-server; groups of cases live beside the commands they cover.

#include <ostream>
#include <string>
#include <vector>

namespace srv::test {

struct RespCase {
  std::string name;
  std::string input;
  std::string output;
  bool closes = false;  // the handler ends the connection (QUIT, protocol error)
  std::string requirepass = {};
  bool differs = false;  // srv differs from redis-server here on purpose
};

inline void PrintTo(const RespCase& c, std::ostream* os) {
  *os << c.name;
}

/// LPUSHX, RPUSHX, LINDEX, LSET, LREM, LPOS, LTRIM, LINSERT (resp_list_test.cc).
std::vector<RespCase> list_edit_cases();
/// LMOVE, RPOPLPUSH, LMPOP (resp_list_test.cc).
std::vector<RespCase> list_move_cases();

}  // namespace srv::test
