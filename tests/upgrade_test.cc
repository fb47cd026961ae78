#include "server/upgrade.h"

#include <unistd.h>

#include <cstdlib>
#include <map>
#include <string>

#include <gtest/gtest.h>

namespace srv {
namespace {

struct InheritanceCase {
  const char* name;
  const char* sockets;  // SRV_INHERITED_SOCKETS
  std::map<std::string, int> expected;
};

class InheritanceTable : public ::testing::TestWithParam<InheritanceCase> {};

TEST_P(InheritanceTable, ParsesTheEnvironmentAndRemovesIt) {
  ::setenv("SRV_INHERITED_SOCKETS", GetParam().sockets, 1);
  Inheritance got = take_inheritance();
  EXPECT_EQ(got.sockets, GetParam().expected);
  EXPECT_EQ(std::getenv("SRV_INHERITED_SOCKETS"), nullptr)
      << "removed: generations must not see it";
}

INSTANTIATE_TEST_SUITE_P(
    Upgrade, InheritanceTable,
    ::testing::Values(
        InheritanceCase{"One", "6=127.0.0.1:80", {{"127.0.0.1:80", 6}}},
        InheritanceCase{"Several",
                        "6=127.0.0.1:80;7=[::1]:0 #0;9=admin 127.0.0.1:9100",
                        {{"127.0.0.1:80", 6}, {"[::1]:0 #0", 7}, {"admin 127.0.0.1:9100", 9}}},
        InheritanceCase{"Empty", "", {}},
        // Malformed entries are skipped, the rest kept; stdio is never a socket to adopt.
        InheritanceCase{"Malformed",
                        "x=1.2.3.4:5;6;=1.2.3.4:5;2=127.0.0.1:1;7=;8=127.0.0.1:8;;",
                        {{"127.0.0.1:8", 8}}},
        InheritanceCase{"HugeDescriptor", "99999999999=127.0.0.1:80", {}}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(Upgrade, AnOldMasterIsOnlyBelievedWhenItIsTheParent) {
  ::setenv("SRV_OLD_MASTER", std::to_string(::getppid()).c_str(), 1);
  EXPECT_EQ(take_inheritance().old_master, ::getppid());
  EXPECT_EQ(std::getenv("SRV_OLD_MASTER"), nullptr);
  // A variable left in a shell's environment must not make srv signal some other process.
  ::setenv("SRV_OLD_MASTER", std::to_string(::getpid()).c_str(), 1);
  EXPECT_EQ(take_inheritance().old_master, 0);
  ::setenv("SRV_OLD_MASTER", "1", 1);
  EXPECT_EQ(take_inheritance().old_master, 0);
}

}  // namespace
}  // namespace srv
