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
  bool differs = false;  // srv differs from redis-server here on purpose, or cannot be compared
  bool parks = false;    // the last command blocks (BLPOP on nothing): nothing more is answered
};

/// `c` marked as ending in a command that parks the connection: the handler must return kPark
/// there, and redis-server must send nothing more within RespReference's grace.
inline RespCase parks(RespCase c) {
  c.parks = true;
  return c;
}

/// `c` marked as not compared with redis-server (the reason goes in a comment beside it).
inline RespCase uncompared(RespCase c) {
  c.differs = true;
  return c;
}

inline void PrintTo(const RespCase& c, std::ostream* os) {
  *os << c.name;
}

/// LPUSHX, RPUSHX, LINDEX, LSET, LREM, LPOS, LTRIM, LINSERT (resp_list_test.cc).
std::vector<RespCase> list_edit_cases();
/// LMOVE, RPOPLPUSH, LMPOP (resp_list_test.cc).
std::vector<RespCase> list_move_cases();
/// BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, CLIENT UNBLOCK when nothing wakes them
/// (resp_blocking_test.cc).
std::vector<RespCase> blocking_cases();
/// SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, PUBSUB and subscriber mode on one
/// connection (resp_blocking_test.cc).
std::vector<RespCase> pubsub_cases();

}  // namespace srv::test
