// Reply tables for the list commands that work inside a list or between lists. Expected replies
// are Redis 7.0.15's (resp_test.cc runs them through the handler and against a redis-server).

#include <string>
#include <vector>

#include "tests/resp_cases.h"
#include "tests/resp_test_util.h"

namespace srv::test {
namespace {

const std::string kNoSuchKey = err("ERR no such key");
const std::string kOutOfRange = err("ERR index out of range");
const std::string kRankZero =
    err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use "
        "negative to start from the end of the list");

std::string all(std::string_view list) {
  return "LRANGE " + std::string(list) + " 0 -1";
}

}  // namespace

std::vector<RespCase> list_edit_cases() {
  return {
      {"PushX",
       lines({"LPUSHX l a", "RPUSHX l a b", "EXISTS l", "RPUSH l m", "LPUSHX l b a", "RPUSHX l y z",
              all("l")}),
       integer(0) + integer(0) + integer(0) + integer(1) + integer(3) + integer(5) +
           bulks({"a", "b", "m", "y", "z"})},
      {"PushXWrongTypeAndArity",
       lines({"SET s v", "LPUSHX s a", "RPUSHX s a", "LPUSHX l", "RPUSHX"}),
       kOk + kWrongType + kWrongType + arity("lpushx") + arity("rpushx")},
      {"Lindex",
       lines({"RPUSH l a b c", "LINDEX l 0", "LINDEX l 2", "LINDEX l 3", "LINDEX l -1",
              "LINDEX l -3", "LINDEX l -4", "LINDEX l 9223372036854775807",
              "LINDEX l -9223372036854775808", "LINDEX nokey 0"}),
       integer(3) + bulk("a") + bulk("c") + kNil + bulk("c") + bulk("a") + kNil + kNil + kNil +
           kNil},
      // The key is looked up before the index is parsed: the key's error wins.
      {"LindexErrors",
       lines({"RPUSH l a", "LINDEX l x", "LINDEX nokey x", "SET s v", "LINDEX s x", "LINDEX l",
              "LINDEX l 0 1"}),
       integer(1) + kNotInteger + kNil + kOk + kWrongType + arity("lindex") + arity("lindex")},
      {"Lset",
       lines({"RPUSH l a b c", "LSET l 0 x", "LSET l -1 z", "LSET l 1 " + std::string(300, 'y'),
              "LSET l 3 w", "LSET l -4 w", all("l")}),
       integer(3) + kOk + kOk + kOk + kOutOfRange + kOutOfRange +
           bulks({"x", std::string(300, 'y'), "z"})},
      {"LsetErrors",
       lines({"LSET nokey 0 a", "LSET nokey x a", "SET s v", "LSET s x a", "RPUSH l a",
              "LSET l x a", "LSET l 0", "LSET l 0 a b"}),
       kNoSuchKey + kNoSuchKey + kOk + kWrongType + integer(1) + kNotInteger + arity("lset") +
           arity("lset")},
      {"LremFromHead",
       lines({"RPUSH l a b a c a b a", "LREM l 2 a", all("l"), "LREM l 0 b", all("l"),
              "LREM l 1 nothere", "LREM l 0 a", "EXISTS l"}),
       integer(7) + integer(2) + bulks({"b", "c", "a", "b", "a"}) + integer(2) +
           bulks({"c", "a", "a"}) + integer(0) + integer(2) + integer(1)},
      {"LremFromTail",
       lines({"RPUSH l a b a c a b a", "LREM l -2 a", all("l"), "LREM l -100 b", all("l"),
              "LREM l -9223372036854775808 a", all("l"), "LREM l 0 c", "EXISTS l"}),
       integer(7) + integer(2) + bulks({"a", "b", "a", "c", "b"}) + integer(2) +
           bulks({"a", "a", "c"}) + integer(2) + bulks({"c"}) + integer(1) + integer(0)},
      {"LremErrors",
       lines(
           {"LREM nokey 1 a", "LREM nokey x a", "SET s v", "LREM s 1 a", "LREM s x a", "LREM l 1"}),
       integer(0) + kNotInteger + kOk + kWrongType + kNotInteger + arity("lrem")},
      {"Lpos",
       lines({"RPUSH l a b c 1 2 3 c c", "LPOS l c", "LPOS l c RANK 2", "LPOS l c RANK -1",
              "LPOS l c RANK -3", "LPOS l c RANK 4", "LPOS l x", "LPOS l c COUNT 0",
              "LPOS l c COUNT 2", "LPOS l c COUNT 2 RANK -1", "LPOS l c COUNT 0 RANK 2",
              "LPOS l c MAXLEN 1", "LPOS l c MAXLEN 3", "LPOS l c COUNT 0 MAXLEN 7",
              "LPOS l c rank -1 maxlen 1 count 5", "LPOS l x COUNT 1", "LPOS nokey a",
              "LPOS nokey a COUNT 0"}),
       integer(8) + integer(2) + integer(6) + integer(7) + integer(2) + kNil + kNil +
           array({integer(2), integer(6), integer(7)}) + array({integer(2), integer(6)}) +
           array({integer(7), integer(6)}) + array({integer(6), integer(7)}) + kNil + integer(2) +
           array({integer(2), integer(6)}) + array({integer(7)}) + kEmptyArray + kNil +
           kEmptyArray},
      // RANK of LONG_MIN: Redis negates it in two's complement, and so counts every match from
      // the tail whatever COUNT says.
      {"LposRankLongMin",
       lines({"RPUSH l a b a", "LPOS l a RANK -9223372036854775808",
              "LPOS l a RANK -9223372036854775808 COUNT 1", "LPOS l a RANK 9223372036854775807",
              "LPOS l a RANK -9223372036854775807 COUNT 1"}),
       integer(3) + integer(2) + array({integer(2), integer(0)}) + kNil + kEmptyArray},
      {"LposErrors",
       lines({"RPUSH l a", "LPOS l a RANK 0", "LPOS l a RANK x", "LPOS l a COUNT -1",
              "LPOS l a COUNT x", "LPOS l a MAXLEN -1", "LPOS l a MAXLEN x", "LPOS l a RANK",
              "LPOS l a FOO 1", "LPOS nokey a RANK 0", "SET s v", "LPOS s a", "LPOS s a COUNT 1",
              "LPOS s a COUNT -1", "LPOS l"}),
       integer(1) + kRankZero + kNotInteger + err("ERR COUNT can't be negative") +
           err("ERR COUNT can't be negative") + err("ERR MAXLEN can't be negative") +
           err("ERR MAXLEN can't be negative") + kSyntax + kSyntax + kRankZero + kOk + kWrongType +
           kWrongType + err("ERR COUNT can't be negative") + arity("lpos")},
      {"Ltrim",
       lines({"RPUSH l a b c d e", "LTRIM l 1 -2", all("l"), "LTRIM l -100 100", all("l"),
              "LTRIM l 1 1", all("l"), "LTRIM l 1 0", "EXISTS l", "LTRIM nokey 0 1"}),
       integer(5) + kOk + bulks({"b", "c", "d"}) + kOk + bulks({"b", "c", "d"}) + kOk +
           bulks({"c"}) + kOk + integer(0) + kOk},
      {"LtrimEmptyRanges",
       lines({"RPUSH l a b", "LTRIM l 2 5", "EXISTS l", "RPUSH l a b", "LTRIM l 0 -3", "EXISTS l",
              "RPUSH l a b", "LTRIM l -9223372036854775808 9223372036854775807", all("l")}),
       integer(2) + kOk + integer(0) + integer(2) + kOk + integer(0) + integer(2) + kOk +
           bulks({"a", "b"})},
      {"LtrimErrors",
       lines({"LTRIM l x 1", "LTRIM l 1 x", "SET s v", "LTRIM s 0 1", "LTRIM s x 1", "LTRIM l 0"}),
       kNotInteger + kNotInteger + kOk + kWrongType + kNotInteger + arity("ltrim")},
      {"Linsert",
       lines({"RPUSH l a b c", "LINSERT l BEFORE a x", "LINSERT l after c y", "LINSERT l After b z",
              "LINSERT l bEfOrE b w", all("l"), "LINSERT l BEFORE q r", "RPUSH l b",
              "LINSERT l AFTER b v", all("l")}),
       integer(3) + integer(4) + integer(5) + integer(6) + integer(7) +
           bulks({"x", "a", "w", "b", "z", "c", "y"}) + integer(-1) + integer(8) + integer(9) +
           bulks({"x", "a", "w", "b", "v", "z", "c", "y", "b"})},
      {"LinsertErrors",
       lines({"LINSERT nokey BEFORE a b", "LINSERT nokey MIDDLE a b", "SET s v",
              "LINSERT s BEFORE a b", "LINSERT s MIDDLE a b", "LINSERT l BEFORE a",
              "LINSERT l BEFORE a b c"}),
       integer(0) + kSyntax + kOk + kWrongType + kSyntax + arity("linsert") + arity("linsert")},
  };
}

std::vector<RespCase> list_move_cases() {
  return {
      {"Lmove",
       lines({"RPUSH src a b c", "LMOVE src dst LEFT RIGHT", "LMOVE src dst RIGHT LEFT",
              "LMOVE src dst left left", "EXISTS src", "LRANGE dst 0 -1", "LMOVE src dst LEFT LEFT",
              "LMOVE dst dst RIGHT RIGHT", "LMOVE dst dst LEFT LEFT", "LRANGE dst 0 -1"}),
       integer(3) + bulk("a") + bulk("c") + bulk("b") + integer(0) + bulks({"b", "c", "a"}) + kNil +
           bulk("a") + bulk("b") + bulks({"b", "c", "a"})},
      {"LmoveRotates",
       lines({"RPUSH l a b c", "LMOVE l l LEFT RIGHT", all("l"), "LMOVE l l RIGHT LEFT", all("l"),
              "DEL l", "RPUSH l x", "LMOVE l l RIGHT LEFT", all("l")}),
       integer(3) + bulk("a") + bulks({"b", "c", "a"}) + bulk("a") + bulks({"a", "b", "c"}) +
           integer(1) + integer(1) + bulk("x") + bulks({"x"})},
      {"LmoveErrors",
       lines({"SET s v", "RPUSH l a", "LMOVE l s LEFT LEFT", "LMOVE s l LEFT LEFT",
              "LMOVE nokey s LEFT LEFT", "LMOVE l d UP LEFT", "LMOVE l d LEFT DOWN",
              "LMOVE s l UP LEFT", all("l"), "GET s", "LMOVE l d LEFT", "LMOVE l d LEFT LEFT x"}),
       kOk + integer(1) + kWrongType + kWrongType + kNil + kSyntax + kSyntax + kSyntax +
           bulks({"a"}) + bulk("v") + arity("lmove") + arity("lmove")},
      {"Rpoplpush",
       lines({"RPUSH src a b", "RPOPLPUSH src dst", "RPOPLPUSH src dst", "RPOPLPUSH src dst",
              "LRANGE dst 0 -1", "RPUSH l x y", "RPOPLPUSH l l", all("l")}),
       integer(2) + bulk("b") + bulk("a") + kNil + bulks({"a", "b"}) + integer(2) + bulk("y") +
           bulks({"y", "x"})},
      {"RpoplpushErrors",
       lines({"SET s v", "RPUSH l a", "RPOPLPUSH l s", "RPOPLPUSH s l", "RPOPLPUSH nokey s",
              "RPOPLPUSH l", "RPOPLPUSH l d x"}),
       kOk + integer(1) + kWrongType + kWrongType + kNil + arity("rpoplpush") + arity("rpoplpush")},
      {"Lmpop",
       lines({"RPUSH b 1 2 3 4", "RPUSH c x", "LMPOP 3 a b c LEFT", "LMPOP 3 a b c RIGHT COUNT 2",
              "LMPOP 2 b c left count 10", "EXISTS b", "LMPOP 2 b c Right", "LMPOP 3 a b c LEFT",
              "LMPOP 1 a RIGHT COUNT 9223372036854775807"}),
       integer(4) + integer(1) + array({bulk("b"), bulks({"1"})}) +
           array({bulk("b"), bulks({"4", "3"})}) + array({bulk("b"), bulks({"2"})}) + integer(0) +
           array({bulk("c"), bulks({"x"})}) + kNilArray + kNilArray},
      {"LmpopWrongTypeStopsTheSearch",
       lines({"SET s v", "RPUSH l a", "LMPOP 2 s l LEFT", "LMPOP 2 l s LEFT",
              "LMPOP 2 nokey s LEFT"}),
       kOk + integer(1) + kWrongType + array({bulk("l"), bulks({"a"})}) + kWrongType},
      {"LmpopErrors",
       lines({"LMPOP 0 a LEFT", "LMPOP -1 a LEFT", "LMPOP x a LEFT", "LMPOP 2 a LEFT",
              "LMPOP 9223372036854775806 a LEFT", "LMPOP 1 a MIDDLE", "LMPOP 1 a LEFT COUNT 0",
              "LMPOP 1 a LEFT COUNT -1", "LMPOP 1 a LEFT COUNT x", "LMPOP 1 a LEFT COUNT",
              "LMPOP 1 a LEFT COUNT 1 COUNT 1", "LMPOP 1 a LEFT FOO", "LMPOP 1 a", "LMPOP 1"}),
       repeat(err("ERR numkeys should be greater than 0"), 3) + kSyntax + kSyntax + kSyntax +
           repeat(err("ERR count should be greater than 0"), 3) + kSyntax + kSyntax + kSyntax +
           arity("lmpop") + arity("lmpop")},
  };
}

}  // namespace srv::test
