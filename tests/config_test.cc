#include "config/config.h"

#include <sys/select.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "config/section.h"
#include "protocols/registry.h"
#include "strategies/strategy.h"
#include "tests/tls_files.h"

namespace srv {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kAllStrategies =
    "fork, prefork, thread, threadpool, select, poll, epoll, libevent";

Config load(const std::string& text, const Overrides& overrides = {}) {
  return load_config_text(text, "test.yaml", overrides);
}

// Loading `text` must throw a ConfigError whose message starts with `prefix` (the location and
// key, e.g. "test.yaml:2:18: max_connections: ") and contains `fragment`.
::testing::AssertionResult fails_with(const std::string& text, std::string_view prefix,
                                      std::string_view fragment, const Overrides& overrides = {}) {
  try {
    load(text, overrides);
  } catch (const ConfigError& e) {
    std::string_view what = e.what();
    if (!what.starts_with(prefix)) {
      return ::testing::AssertionFailure()
             << "message does not start with \"" << prefix << "\":\n  " << what;
    }
    if (what.find(fragment) == std::string_view::npos) {
      return ::testing::AssertionFailure()
             << "message does not contain \"" << fragment << "\":\n  " << what;
    }
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure()
           << "threw something other than ConfigError (srv would die without a config message): "
           << e.what();
  }
  return ::testing::AssertionFailure() << "loaded without an error:\n" << text;
}

::testing::AssertionResult loads(const std::string& text, const Overrides& overrides = {}) {
  try {
    load(text, overrides);
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << e.what();
  }
}

// ---------------------------------------------------------------------------------------------
// The embedded default and every default value

TEST(ConfigDefaults, EmbeddedDefaultIsEpollEchoOnPort7000) {
  Config config = load_config_text(default_config_text(), "(embedded default)", {});
  EXPECT_EQ(config.source, "(embedded default)");
  EXPECT_EQ(config.strategy_name, "epoll");
  EXPECT_NE(config.strategy, nullptr);
  ASSERT_EQ(config.listeners.size(), 1u);
  EXPECT_EQ(config.listeners[0].endpoint.host, "127.0.0.1");
  EXPECT_EQ(config.listeners[0].endpoint.port, 7000);
  EXPECT_EQ(config.listeners[0].protocol, "echo");
  EXPECT_NE(config.listeners[0].factory, nullptr);
}

TEST(ConfigDefaults, LoadConfigWithoutAFileUsesTheEmbeddedDefault) {
  Config config = load_config(Overrides{});
  EXPECT_EQ(config.source, "(embedded default)");
  EXPECT_EQ(config.strategy_name, "epoll");
  ASSERT_EQ(config.listeners.size(), 1u);
  EXPECT_EQ(config.listeners[0].endpoint.port, 7000);
}

void expect_all_defaults(const Config& config) {
  EXPECT_EQ(config.strategy_name, "epoll");
  EXPECT_EQ(config.log.level, "info");
  EXPECT_EQ(config.settings.max_connections, 1024);
  EXPECT_EQ(config.settings.shutdown_timeout, 10s);
  EXPECT_EQ(config.settings.limits.idle_timeout, 60s);
  EXPECT_EQ(config.settings.limits.linger_timeout, 2s);
  EXPECT_EQ(config.settings.limits.read_chunk, 64u * 1024);
  EXPECT_EQ(config.settings.limits.max_input_buffer, 1024u * 1024);
  EXPECT_EQ(config.settings.limits.output_high_water, 256u * 1024);
  EXPECT_EQ(config.settings.limits.max_output_bytes, 64u << 20);
  ASSERT_EQ(config.listeners.size(), 1u);
  EXPECT_EQ(config.listeners[0].endpoint.host, "127.0.0.1");
  EXPECT_EQ(config.listeners[0].endpoint.port, 7000);
  EXPECT_EQ(config.listeners[0].backlog, 511);
  EXPECT_EQ(config.listeners[0].protocol, "echo");
}

TEST(ConfigDefaults, EmptyFileTakesEveryDefault) {
  {
    SCOPED_TRACE("empty text");
    expect_all_defaults(load(""));
  }
  {
    SCOPED_TRACE("only a comment");
    expect_all_defaults(load("# nothing here\n"));
  }
  {
    SCOPED_TRACE("explicit null document");
    expect_all_defaults(load("~\n"));
  }
}

TEST(ConfigDefaults, ListenerDefaultsBacklogAndProtocol) {
  Config config = load("listeners:\n  - listen: 0.0.0.0:8080\n");
  ASSERT_EQ(config.listeners.size(), 1u);
  EXPECT_EQ(config.listeners[0].endpoint.host, "0.0.0.0");
  EXPECT_EQ(config.listeners[0].endpoint.port, 8080);
  EXPECT_EQ(config.listeners[0].backlog, 511);
  EXPECT_EQ(config.listeners[0].protocol, "echo");
}

TEST(ConfigDefaults, EveryKeySetExplicitly) {
  Config config = load(R"(strategy: poll
max_connections: 50
shutdown_timeout: 500ms
idle_timeout: 2m
read_timeout: 0
write_timeout: 90s
log_level: debug
limits:
  linger_timeout: 0
  read_chunk: 4KiB
  max_input_buffer: 2MiB
  output_high_water: 1k
  min_rate: 1KiB
  min_rate_grace: 2s
listeners:
  - listen: "[::1]:9000"
    backlog: 16
    protocol: {name: echo, options: {}}
  - listen: ":9001"
    protocol: echo
)");
  EXPECT_EQ(config.source, "test.yaml");
  EXPECT_EQ(config.strategy_name, "poll");
  EXPECT_EQ(config.log.level, "debug");
  EXPECT_EQ(config.settings.max_connections, 50);
  EXPECT_EQ(config.settings.shutdown_timeout, 500ms);
  EXPECT_EQ(config.settings.limits.idle_timeout, 2min);
  EXPECT_EQ(config.settings.limits.linger_timeout, 0ms);
  EXPECT_EQ(config.settings.limits.read_chunk, 4096u);
  EXPECT_EQ(config.settings.limits.max_input_buffer, 2u << 20);
  EXPECT_EQ(config.settings.limits.output_high_water, 1024u);
  EXPECT_EQ(config.settings.limits.read_timeout, 0ms);
  EXPECT_EQ(config.settings.limits.write_timeout, 90s);
  EXPECT_EQ(config.settings.limits.min_rate.bytes_per_second, 1024u);
  EXPECT_EQ(config.settings.limits.min_rate.grace, 2s);
  ASSERT_EQ(config.listeners.size(), 2u);
  EXPECT_EQ(config.listeners[0].endpoint.host, "::1");
  EXPECT_EQ(config.listeners[0].endpoint.port, 9000);
  EXPECT_EQ(config.listeners[0].backlog, 16);
  EXPECT_EQ(config.listeners[0].protocol, "echo");
  EXPECT_NE(config.listeners[0].factory, nullptr);
  EXPECT_EQ(config.listeners[1].endpoint.host, "");  // all interfaces
  EXPECT_EQ(config.listeners[1].endpoint.port, 9001);
  EXPECT_EQ(config.listeners[1].protocol, "echo");
}

TEST(ConfigDefaults, ShutdownTimeoutMayBeZero) {
  EXPECT_EQ(load("shutdown_timeout: 0\n").settings.shutdown_timeout, 0ms);
}

// Every registered strategy must accept the defaults (srv --strategy NAME with no file).
class EveryStrategy : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryStrategy, LoadsWithDefaultSettings) {
  ASSERT_TRUE(loads("strategy: " + GetParam() + "\n"));
  Config config = load("strategy: " + GetParam() + "\n");
  EXPECT_EQ(config.strategy_name, GetParam());
  EXPECT_NE(config.strategy, nullptr);
}

TEST_P(EveryStrategy, LoadsWithAnEmptySection) {
  EXPECT_TRUE(loads("strategy: " + GetParam() + "\n" + GetParam() + ": {}\n"));
}

TEST_P(EveryStrategy, RejectsAnUnknownKeyInItsSection) {
  const std::string name = GetParam();
  EXPECT_TRUE(fails_with("strategy: " + name + "\n" + name + ":\n  no_such_key: 1\n",
                         "test.yaml:3:3: " + name + ".no_such_key: unknown key", ""));
}

TEST_P(EveryStrategy, RejectsASectionThatIsNotAMap) {
  const std::string name = GetParam();
  // "NAME: 5" puts the value at column len(NAME) + 3.
  EXPECT_TRUE(fails_with("strategy: " + name + "\n" + name + ": 5\n",
                         "test.yaml:2:" + std::to_string(name.size() + 3) + ": " + name + ": ",
                         "must be a map"));
}

std::vector<std::string> strategy_name_list() {
  std::vector<std::string> names;
  for (const StrategyInfo& info : strategy_registry()) names.emplace_back(info.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(Config, EveryStrategy, ::testing::ValuesIn(strategy_name_list()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           return param_info.param;
                         });

TEST(ConfigRegistry, EveryStrategyInOrder) {
  EXPECT_EQ(strategy_names(), kAllStrategies);
  EXPECT_NE(find_strategy("epoll"), nullptr);
  EXPECT_EQ(find_strategy("nginx"), nullptr);
  EXPECT_EQ(find_strategy(""), nullptr);
}

TEST(ConfigRegistry, EchoIsAProtocol) {
  EXPECT_NE(protocol_names().find("echo"), std::string::npos);
  EXPECT_NE(find_protocol("echo"), nullptr);
  EXPECT_EQ(find_protocol("gopher"), nullptr);
}

// ---------------------------------------------------------------------------------------------
// Command-line overrides

TEST(ConfigOverrides, StrategyWinsOverTheFile) {
  Overrides o;
  o.strategy = "poll";
  EXPECT_EQ(load("strategy: epoll\n", o).strategy_name, "poll");
  // The file's value is not even validated once replaced.
  EXPECT_EQ(load("strategy: no-such-strategy\n", o).strategy_name, "poll");
}

TEST(ConfigOverrides, ProtocolWinsOverTheFileForEveryListener) {
  Overrides o;
  o.protocol = "echo";
  Config config = load(R"(listeners:
  - listen: 127.0.0.1:7001
    protocol: gopher
  - listen: 127.0.0.1:7002
    protocol: {name: finger}
)",
                       o);
  ASSERT_EQ(config.listeners.size(), 2u);
  EXPECT_EQ(config.listeners[0].protocol, "echo");
  EXPECT_EQ(config.listeners[1].protocol, "echo");
}

TEST(ConfigOverrides, ListenReplacesEveryListener) {
  Overrides o;
  o.listen = "[::1]:0";
  Config config = load(R"(listeners:
  - listen: 127.0.0.1:7001
    backlog: 7
  - listen: 127.0.0.1:7002
)",
                       o);
  ASSERT_EQ(config.listeners.size(), 1u);
  EXPECT_EQ(config.listeners[0].endpoint.host, "::1");
  EXPECT_EQ(config.listeners[0].endpoint.port, 0);
  EXPECT_EQ(config.listeners[0].backlog, 511);
  EXPECT_EQ(config.listeners[0].protocol, "echo");
}

TEST(ConfigOverrides, ListenKeepsTheFirstListenersProtocol) {
  Overrides o;
  o.listen = "127.0.0.1:0";
  // Only echo exists, so a kept protocol is visible through the error it causes.
  EXPECT_TRUE(fails_with("listeners:\n  - listen: 127.0.0.1:7001\n    protocol: gopher\n", "",
                         "listeners[0].protocol: unknown protocol 'gopher'", o));
}

TEST(ConfigOverrides, ListenWithoutListenersInTheFile) {
  Overrides o;
  o.listen = "127.0.0.1:1234";
  Config config = load("strategy: poll\n", o);
  ASSERT_EQ(config.listeners.size(), 1u);
  EXPECT_EQ(config.listeners[0].endpoint.port, 1234);
  EXPECT_EQ(config.listeners[0].protocol, "echo");
}

TEST(ConfigOverrides, MaxConnectionsWinsOverTheFile) {
  Overrides o;
  o.max_connections = 20;
  EXPECT_EQ(load("max_connections: 10\n", o).settings.max_connections, 20);
  EXPECT_EQ(load("max_connections: 0\n", o).settings.max_connections, 20);
  EXPECT_EQ(load("", o).settings.max_connections, 20);
}

TEST(ConfigOverrides, WorkersGoToPreforkWorkers) {
  Overrides o;
  o.workers = 8;
  // The file's invalid value is replaced, so this loads.
  EXPECT_TRUE(loads("strategy: prefork\nprefork:\n  workers: 0\n", o));
  o.workers = 0;
  EXPECT_TRUE(fails_with("strategy: prefork\nprefork:\n  workers: 8\n",
                         "command line: prefork.workers: ", "must be between 1 and 1024, got 0",
                         o));
  EXPECT_TRUE(fails_with("strategy: prefork\n",
                         "command line: prefork.workers: ", "must be between 1 and 1024", o));
}

TEST(ConfigOverrides, ThreadsGoToThreadpoolThreads) {
  Overrides o;
  o.threads = 2;
  EXPECT_TRUE(loads("strategy: threadpool\nthreadpool:\n  threads: 0\n", o));
  o.threads = 0;
  EXPECT_TRUE(fails_with("strategy: threadpool\nthreadpool:\n  threads: 2\n",
                         "command line: threadpool.threads: ", "got 0", o));
}

// --workers/--threads write a key inside a strategy section. When the file's section is not a
// map, srv may either let the flag replace it or report the section; it must never escape as a
// non-ConfigError exception (which aborts srv instead of exiting 2 with a message).
::testing::AssertionResult loads_or_fails_at(const std::string& text, std::string_view prefix,
                                             const Overrides& overrides) {
  try {
    load(text, overrides);
    return ::testing::AssertionSuccess() << "loaded";
  } catch (const ConfigError& e) {
    if (std::string_view(e.what()).starts_with(prefix)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "ConfigError not at \"" << prefix << "\": " << e.what();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw something other than ConfigError: " << e.what();
  }
}

TEST(ConfigOverrides, WorkersIntoASectionThatIsNotAMap) {
  Overrides o;
  o.workers = 3;
  EXPECT_TRUE(loads_or_fails_at("strategy: prefork\nprefork: 5\n", "test.yaml:2:10: prefork: ", o));
  EXPECT_TRUE(loads_or_fails_at("strategy: epoll\nprefork: [1]\n", "test.yaml:2:10: prefork: ", o));
}

TEST(ConfigOverrides, ThreadsIntoASectionThatIsNotAMap) {
  Overrides o;
  o.threads = 3;
  EXPECT_TRUE(loads_or_fails_at("strategy: threadpool\nthreadpool: [1, 2]\n",
                                "test.yaml:2:13: threadpool: ", o));
  EXPECT_TRUE(loads_or_fails_at("strategy: threadpool\nthreadpool: 7\n",
                                "test.yaml:2:13: threadpool: ", o));
}

// Values from flags replace values in the file, so an error in them must not point at the
// file's line (which holds a different, possibly valid, value).
TEST(ConfigOverrides, BadStrategyFlagSaysCommandLine) {
  Overrides o;
  o.strategy = "foo";
  const std::string expected =
      "unknown strategy 'foo'; known strategies: " + std::string(kAllStrategies);
  EXPECT_TRUE(fails_with("strategy: epoll\n", "command line: strategy: ", expected, o));
  EXPECT_TRUE(fails_with("", "command line: strategy: ", expected, o));
}

TEST(ConfigOverrides, BadStrategyFlagOverTheEmbeddedDefaultSaysCommandLine) {
  // Plain `srv --strategy foo`: the embedded default has `strategy: epoll` on line 1.
  Overrides o;
  o.strategy = "foo";
  try {
    load_config(o);
    FAIL() << "--strategy foo was accepted";
  } catch (const ConfigError& e) {
    EXPECT_TRUE(std::string_view(e.what()).starts_with("command line: strategy: ")) << e.what();
  }
}

TEST(ConfigOverrides, BadProtocolFlagSaysCommandLine) {
  Overrides o;
  o.protocol = "gopher";
  const std::string expected = "unknown protocol 'gopher'; known protocols: echo";
  EXPECT_TRUE(fails_with("listeners:\n  - listen: 127.0.0.1:7000\n",
                         "command line: listeners[0].protocol: ", expected, o));
  EXPECT_TRUE(fails_with("listeners:\n  - listen: 127.0.0.1:7000\n    protocol: echo\n",
                         "command line: listeners[0].protocol: ", expected, o));
}

TEST(ConfigOverrides, BadListenFlagSaysCommandLine) {
  Overrides o;
  o.listen = "localhost";
  EXPECT_TRUE(fails_with("", "command line: listeners[0].listen: ", "expected HOST:PORT", o));
  o.listen = "127.0.0.1:70000";
  EXPECT_TRUE(fails_with("listeners:\n  - listen: 127.0.0.1:7000\n",
                         "command line: listeners[0].listen: ", "port must be a number", o));
}

// --listen keeps the first listener's protocol and tls from the file, so a mistake in them is
// still at its place in the file (a clone of the nodes had lost it: "test.yaml:1:1").
TEST(ConfigOverrides, ListenFlagKeepsTheFilePlacesOfProtocolAndTls) {
  Overrides o;
  o.listen = "127.0.0.1:7001";
  EXPECT_TRUE(
      fails_with("listeners:\n  - listen: 127.0.0.1:7000\n"
                 "    protocol: {name: echo, options: {x: 1}}\n",
                 "test.yaml:3:38: listeners[0].protocol.options.x: ", "unknown key", o));
  EXPECT_TRUE(fails_with("listeners:\n  - listen: 127.0.0.1:7000\n    tls:\n      cert: c.pem\n",
                         "test.yaml:4:7: listeners[0].tls.key: ", "needs key", o));
  Config config = load("listeners:\n  - listen: 127.0.0.1:7000\n    protocol: http\n", o);
  ASSERT_EQ(config.listeners.size(), 1u);
  EXPECT_EQ(config.listeners[0].endpoint.port, 7001);
  EXPECT_EQ(config.listeners[0].protocol, "http");
}

TEST(ConfigOverrides, BadMaxConnectionsFlagSaysCommandLine) {
  Overrides o;
  o.max_connections = 0;
  EXPECT_TRUE(fails_with("max_connections: 10\n", "command line: max_connections: ",
                         "must be between 1 and 1000000, got 0", o));
  o.max_connections = 5000;
  o.strategy = "select";
  EXPECT_TRUE(fails_with("", "command line: max_connections: ", "FD_SETSIZE", o));
}

// ---------------------------------------------------------------------------------------------
// Syntax and shape

TEST(ConfigErrors, InvalidYamlSyntax) {
  // An unclosed flow sequence is reported where the parser gave up: the end of the text.
  EXPECT_TRUE(fails_with("strategy: epoll\nlisteners: [127.0.0.1:7000\n",
                         "test.yaml:3:1: invalid YAML: ", "sequence"));
  // The second ':' on the line (column 5) is the illegal one.
  EXPECT_TRUE(fails_with("a: b: c\n", "test.yaml:1:5: invalid YAML: ", "map value"));
  EXPECT_TRUE(fails_with("strategy: epoll\n  bad: x\n", "test.yaml:2:6: invalid YAML: ", ""));
}

TEST(ConfigErrors, DuplicateKeysNameTheFirstOne) {
  struct Case {
    std::string text, prefix, detail;
  };
  const Case cases[] = {
      {"strategy: epoll\nstrategy: poll\n",
       "test.yaml:2:1: strategy: ", "duplicate key; first given at test.yaml:1:1"},
      {"epoll:\n  max_events: 64\n  max_events: 128\n",
       "test.yaml:3:3: max_events: ", "first given at test.yaml:2:3"},
      {"listeners:\n  - listen: 127.0.0.1:7000\n    protocol: echo\n    listen: 127.0.0.1:7001\n",
       "test.yaml:4:5: listen: ", "first given at test.yaml:2:5"},
      {"{strategy: epoll, strategy: poll}\n",
       "test.yaml:1:19: strategy: ", "first given at test.yaml:1:2"},
  };
  for (const Case& c : cases) EXPECT_TRUE(fails_with(c.text, c.prefix, c.detail)) << c.text;
  // The same key in different maps is fine.
  EXPECT_NO_THROW(load("listeners:\n  - listen: 127.0.0.1:7000\n  - listen: 127.0.0.1:7001\n"));
}

// An alias is the anchored node itself, so aliases make the tree a graph: the duplicate-key walk
// must neither recurse round a cycle (a stack overflow, found by config_fuzz) nor follow 10^11
// paths to one node (billion laughs: it ran for ever).
TEST(ConfigErrors, AliasCyclesAndBillionLaughsEndInAnError) {
  std::string laughs = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 12; ++i) {
    laughs += fmt::format("l{}: &l{} [", i, i);
    for (int j = 0; j < 10; ++j) laughs += fmt::format("{}*l{}", j ? ", " : "", i - 1);
    laughs += "]\n";
  }
  struct Case {
    std::string text, prefix, detail;
  };
  const Case cases[] = {
      {"x: &a [*a]\n", "test.yaml:1:1: x: ", "unknown key"},
      {"x: &a {k: *a}\n", "test.yaml:1:1: x: ", "unknown key"},
      {"x: &a [[*a, *a], {k: [*a]}]\n", "test.yaml:1:1: x: ", "unknown key"},
      {laughs, "test.yaml:1:1: l0: ", "unknown key"},
      // A duplicate inside an aliased map is found once, at its place in the text.
      {"x: &a {k: 1, k: 2}\ny: *a\n", "test.yaml:1:14: k: ", "first given at test.yaml:1:8"},
  };
  for (const Case& c : cases) EXPECT_TRUE(fails_with(c.text, c.prefix, c.detail)) << c.text;
  // Aliases of whole settings still load.
  EXPECT_NO_THROW(load("limits: &l {read_chunk: 4KiB}\nepoll: &e {max_events: 8}\n"));
}

TEST(ConfigErrors, TopLevelMustBeAMap) {
  EXPECT_TRUE(
      fails_with("- a\n- b\n", "test.yaml:1:1: (top level): ", "must be a map of key: value"));
  EXPECT_TRUE(fails_with("just a string\n", "test.yaml:1:1: (top level): ", "must be a map"));
}

TEST(ConfigErrors, UnknownTopLevelKeyListsTheKnownKeys) {
  const std::string text = "strategy: epoll\nworkers: 3\n";
  EXPECT_TRUE(fails_with(text, "test.yaml:2:1: workers: ", "unknown key; known keys here: "));
  for (std::string_view key : {"listeners", "max_connections", "shutdown_timeout", "idle_timeout",
                               "limits", "log_level", "strategy", "prefork", "threadpool"}) {
    EXPECT_TRUE(fails_with(text, "test.yaml:2:1: workers: ", key)) << key;
  }
}

TEST(ConfigErrors, UnknownKeyInLimits) {
  EXPECT_TRUE(fails_with("limits:\n  read_chunks: 4k\n", "test.yaml:2:3: limits.read_chunks: ",
                         "unknown key; known keys here: linger_timeout, max_input_buffer, "
                         "max_output_bytes, min_rate, min_rate_grace, output_high_water, "
                         "read_chunk"));
  EXPECT_TRUE(fails_with("limits: 5\n", "test.yaml:1:9: limits: ", "must be a map"));
}

TEST(ConfigErrors, ValueMustBeScalar) {
  EXPECT_TRUE(fails_with("max_connections: [1, 2]\n", "test.yaml:1:18: max_connections: ",
                         "must be a single value, not a list or map"));
  EXPECT_TRUE(fails_with("strategy: {name: epoll}\n",
                         "test.yaml:1:11: strategy: ", "must be a single value"));
  // An empty value is an error at its position too (yaml-cpp places a null on the next token).
  EXPECT_TRUE(fails_with("max_connections:\n", "test.yaml:", "max_connections: "));
}

// ---------------------------------------------------------------------------------------------
// Strategy and protocol names

TEST(ConfigErrors, UnknownStrategyListsTheKnownOnes) {
  EXPECT_TRUE(
      fails_with("strategy: nginx\n", "test.yaml:1:11: strategy: ",
                 "unknown strategy 'nginx'; known strategies: " + std::string(kAllStrategies)));
  EXPECT_TRUE(fails_with("strategy: EPOLL\n", "test.yaml:1:11: strategy: ", "epoll"));
}

TEST(ConfigErrors, UnknownProtocolListsTheKnownOnes) {
  EXPECT_TRUE(fails_with("listeners:\n  - listen: 127.0.0.1:7000\n    protocol: gopher\n",
                         "test.yaml:3:15: listeners[0].protocol: ",
                         "unknown protocol 'gopher'; known protocols: echo"));
  EXPECT_TRUE(fails_with("listeners:\n  - listen: 127.0.0.1:7000\n    protocol: {name: gopher}\n",
                         "test.yaml:3:15: listeners[0].protocol: ", "unknown protocol 'gopher'"));
}

TEST(ConfigErrors, ProtocolMapShape) {
  const std::string head = "listeners:\n  - listen: 127.0.0.1:7000\n";
  EXPECT_TRUE(fails_with(head + "    protocol: {options: {}}\n",
                         "test.yaml:3:15: listeners[0].protocol.name: ",
                         "a protocol map needs either name: PROTOCOL or plugin: PATH"));
  EXPECT_TRUE(fails_with(head + "    protocol: {name: echo, opts: {}}\n",
                         "test.yaml:3:28: listeners[0].protocol.opts: ", "unknown key"));
  // Echo has no options, so any option is a typo.
  EXPECT_TRUE(fails_with(head + "    protocol:\n      name: echo\n      options:\n        x: 1\n",
                         "test.yaml:6:9: listeners[0].protocol.options.x: ", "unknown key"));
  EXPECT_TRUE(loads(head + "    protocol:\n      name: echo\n      options: {}\n"));
}

// ---------------------------------------------------------------------------------------------
// Listeners

struct BadListen {
  std::string value;
  std::string fragment;
};

TEST(ConfigErrors, BadListenAddresses) {
  const std::vector<BadListen> cases = {
      {"127.0.0.1", "expected HOST:PORT"},
      {"localhost", "expected HOST:PORT"},
      {"127.0.0.1:65536", "port must be a number from 0 to 65535"},
      {"127.0.0.1:99999999999", "port must be a number"},
      {"127.0.0.1:", "port must be a number"},
      {"127.0.0.1:http", "port must be a number"},
      {"127.0.0.1:-1", "port must be a number"},
      {"127.0.0.1:80x", "port must be a number"},
      {"::1:7000", "an IPv6 address needs brackets"},
      {"fe80::1:80", "an IPv6 address needs brackets"},
  };
  for (const BadListen& c : cases) {
    // `  - listen: "` puts the (quoted) value at column 13 of line 3.
    EXPECT_TRUE(fails_with("strategy: epoll\nlisteners:\n  - listen: \"" + c.value + "\"\n",
                           "test.yaml:3:13: listeners[0].listen: ", c.fragment))
        << "listen: " << c.value;
  }
}

TEST(ConfigErrors, GoodListenAddresses) {
  struct Good {
    std::string text;
    std::string host;
    std::uint16_t port;
  };
  for (const Good& g : std::vector<Good>{{"127.0.0.1:0", "127.0.0.1", 0},
                                         {"0.0.0.0:65535", "0.0.0.0", 65535},
                                         {"[::]:80", "::", 80},
                                         {"[::1]:7000", "::1", 7000},
                                         {":7000", "", 7000},
                                         {"example.com:443", "example.com", 443}}) {
    Config config = load("listeners:\n  - listen: \"" + g.text + "\"\n");
    ASSERT_EQ(config.listeners.size(), 1u);
    EXPECT_EQ(config.listeners[0].endpoint.host, g.host) << g.text;
    EXPECT_EQ(config.listeners[0].endpoint.port, g.port) << g.text;
  }
}

TEST(ConfigErrors, ListenersMustBeANonEmptyList) {
  EXPECT_TRUE(fails_with("listeners: 127.0.0.1:7000\n", "test.yaml:1:12: listeners: ",
                         "must be a list with at least one listener"));
  EXPECT_TRUE(fails_with("listeners: {listen: 127.0.0.1:7000}\n",
                         "test.yaml:1:12: listeners: ", "must be a list"));
  EXPECT_TRUE(fails_with("listeners: []\n", "test.yaml:1:12: listeners: ",
                         "must be a list with at least one listener"));
}

TEST(ConfigErrors, ListenerMustBeAMap) {
  EXPECT_TRUE(fails_with("listeners:\n  - 127.0.0.1:7000\n",
                         "test.yaml:2:5: listeners[0]: ", "must be a map of key: value"));
}

TEST(ConfigErrors, ListenerMissingListen) {
  EXPECT_TRUE(fails_with("listeners:\n  - protocol: echo\n", "test.yaml:2:5: listeners[0].listen: ",
                         "every listener needs listen: HOST:PORT"));
  EXPECT_TRUE(fails_with("listeners:\n  - listen: \"\"\n",
                         "test.yaml:2:13: listeners[0].listen: ", "every listener needs listen"));
}

TEST(ConfigErrors, ErrorsInALaterListenerNameItsIndex) {
  EXPECT_TRUE(fails_with(
      "listeners:\n  - listen: 127.0.0.1:7000\n  - listen: 127.0.0.1:7001\n  - listen: nope\n",
      "test.yaml:4:13: listeners[2].listen: ", "expected HOST:PORT"));
}

TEST(ConfigErrors, ListenerUnknownKeyAndBacklog) {
  const std::string head = "listeners:\n  - listen: 127.0.0.1:7000\n";
  EXPECT_TRUE(fails_with(head + "    backlg: 5\n", "test.yaml:3:5: listeners[0].backlg: ",
                         "unknown key; known keys here: access_log, backlog, listen, protocol"));
  EXPECT_TRUE(fails_with(head + "    backlog: 0\n", "test.yaml:3:14: listeners[0].backlog: ",
                         "must be between 1 and 65535, got 0"));
  EXPECT_TRUE(fails_with(head + "    backlog: 65536\n",
                         "test.yaml:3:14: listeners[0].backlog: ", "must be between 1 and 65535"));
}

// ---------------------------------------------------------------------------------------------
// TLS: what OpenSSL refuses is reported at the key that named it, as any other config error

// A listener whose tls: section is `lines` (keys at 6 spaces, starting on line 5).
std::string tls_listener(const std::string& lines) {
  return "listeners:\n  - listen: 127.0.0.1:0\n    protocol: http\n    tls:\n" + lines;
}

// The section's first two lines: a certificate and its key (lines 5 and 6).
std::string cert_and_key(const std::string& key) {
  return "      cert: " + test::tls_files().cert + "\n      key: " + key + "\n";
}

TEST(ConfigTls, AGoodSectionMakesATlsTransport) {
  const test::TlsFiles& files = test::tls_files();
  Config config = load(tls_listener(cert_and_key(files.key)));
  ASSERT_EQ(config.listeners.size(), 1u);
  ASSERT_NE(config.listeners[0].transport, nullptr);
  EXPECT_EQ(config.listeners[0].transport->name(), "tls");
  EXPECT_EQ(load("listeners:\n  - listen: 127.0.0.1:0\n").listeners[0].transport->name(), "tcp");
}

struct BadTls {
  std::string lines;     // the tls: section
  std::string prefix;    // where and which key
  std::string fragment;  // what is wrong
};

TEST(ConfigTls, Errors) {
  const test::TlsFiles& files = test::tls_files();
  const std::string good = cert_and_key(files.key);
  const std::vector<BadTls> cases = {
      {"      cert: " + files.dir + "/nope.pem\n      key: " + files.key + "\n",
       "test.yaml:5:13: listeners[0].tls.cert: ",
       "cannot read " + files.dir + "/nope.pem: No such file or directory"},
      {"      cert: " + files.junk + "\n      key: " + files.key + "\n",
       "test.yaml:5:13: listeners[0].tls.cert: ", "holds no usable PEM certificate"},
      {cert_and_key(files.dir + "/nope.pem"),
       "test.yaml:6:12: listeners[0].tls.key: ", "cannot read " + files.dir + "/nope.pem"},
      {cert_and_key(files.junk),
       "test.yaml:6:12: listeners[0].tls.key: ", "holds no usable PEM private key"},
      {cert_and_key(files.dir), "test.yaml:6:12: listeners[0].tls.key: ",
       "holds no usable PEM private key"},  // a folder: opens, but reads nothing
      {cert_and_key(files.stray_key), "test.yaml:6:12: listeners[0].tls.key: ",
       files.stray_key + " does not match the certificate in " + files.cert},
      {good + "      certificates:\n        - cert: " + files.cert +
           "\n          key: " + files.stray_key + "\n",
       "test.yaml:9:16: listeners[0].tls.certificates[0].key: ", "does not match the certificate"},
      {"      cert: " + files.cert + "\n", "test.yaml:", "needs key: PATH"},
      {good + "      min_version: TLSv1.1\n",
       "test.yaml:7:20: listeners[0].tls.min_version: ", "TLS 1.0 and 1.1 are not supported"},
      {good + "      min_version: TLSv1\n",
       "test.yaml:7:20: listeners[0].tls.min_version: ", "TLS 1.0 and 1.1 are not supported"},
      {good + "      min_version: TLSv1.4\n", "test.yaml:7:20: listeners[0].tls.min_version: ",
       "must be TLSv1.2 or TLSv1.3, got 'TLSv1.4'"},
      {good + "      ciphers: NO-SUCH-CIPHER\n",
       "test.yaml:7:16: listeners[0].tls.ciphers: ", "no TLS 1.2 cipher matches 'NO-SUCH-CIPHER'"},
      {good + "      ciphersuites: TLS_NO_SUCH_SUITE\n",
       "test.yaml:7:21: listeners[0].tls.ciphersuites: ",
       "no TLS 1.3 cipher suite matches 'TLS_NO_SUCH_SUITE'"},
      {good + "      groups: X25519:P-999\n",
       "test.yaml:7:15: listeners[0].tls.groups: ", "unknown group in 'X25519:P-999'"},
      {good + "      verify_client: on\n",
       "test.yaml:7:22: listeners[0].tls.verify_client: ", "needs client_ca: PATH"},
      {good + "      verify_client: sometimes\n",
       "test.yaml:7:22: listeners[0].tls.verify_client: ", "must be off, optional or on"},
      {good + "      client_ca: " + files.junk + "\n      verify_client: on\n",
       "test.yaml:7:18: listeners[0].tls.client_ca: ", "holds no usable PEM CA certificate"},
      {good + "      alpn: [\"\"]\n",
       "test.yaml:7:13: listeners[0].tls.alpn: ", "is not a valid ALPN protocol id"},
      {good + "      handshake_timeout: 10ms\n",
       "test.yaml:7:26: listeners[0].tls.handshake_timeout: ", "must be between"},
      {good + "      session_cache: -1\n",
       "test.yaml:7:22: listeners[0].tls.session_cache: ", "must be between 0 and"},
      {good + "      crt: x.pem\n", "test.yaml:7:7: listeners[0].tls.crt: ", "unknown key"},
      {good + "      certificates: x.pem\n",
       "test.yaml:7:21: listeners[0].tls.certificates: ", "must be a list"},
  };
  for (const BadTls& c : cases) {
    EXPECT_TRUE(fails_with(tls_listener(c.lines), c.prefix, c.fragment)) << c.lines;
  }
}

// ---------------------------------------------------------------------------------------------
// Numbers, durations, sizes, booleans

TEST(ConfigErrors, IntegersOutOfRangeOrNotNumbers) {
  EXPECT_TRUE(fails_with("max_connections: 0\n", "test.yaml:1:18: max_connections: ",
                         "must be between 1 and 1000000, got 0"));
  EXPECT_TRUE(fails_with("max_connections: 1000001\n", "test.yaml:1:18: max_connections: ",
                         "must be between 1 and 1000000, got 1000001"));
  EXPECT_TRUE(fails_with("max_connections: -5\n", "test.yaml:1:18: max_connections: ", "got -5"));
  EXPECT_TRUE(fails_with("max_connections: abc\n", "test.yaml:1:18: max_connections: ",
                         "expected a whole number, got 'abc'"));
  EXPECT_TRUE(fails_with("max_connections: 1.5\n", "test.yaml:1:18: max_connections: ",
                         "expected a whole number, got '1.5'"));
  EXPECT_TRUE(fails_with("max_connections: 12abc\n",
                         "test.yaml:1:18: max_connections: ", "expected a whole number"));
  EXPECT_TRUE(fails_with("max_connections: 99999999999999999999999\n",
                         "test.yaml:1:18: max_connections: ", "expected a whole number"));
  EXPECT_TRUE(fails_with("max_connections: \"\"\n",
                         "test.yaml:1:18: max_connections: ", "expected a whole number, got ''"));
  EXPECT_EQ(load("max_connections: 1\n").settings.max_connections, 1);
  EXPECT_EQ(load("max_connections: 1000000\n").settings.max_connections, 1'000'000);
}

TEST(ConfigErrors, Durations) {
  EXPECT_TRUE(fails_with("shutdown_timeout: 5x\n", "test.yaml:1:19: shutdown_timeout: ",
                         "expected a duration such as 30, 30s, 500ms or 2m, got '5x'"));
  EXPECT_TRUE(fails_with("idle_timeout: 0\n", "test.yaml:1:15: idle_timeout: ",
                         "must be between 1ms and 86400000ms, got 0ms"));
  EXPECT_TRUE(
      fails_with("idle_timeout: -1s\n", "test.yaml:1:15: idle_timeout: ", "expected a duration"));
  EXPECT_TRUE(fails_with("shutdown_timeout: 25h\n", "test.yaml:1:19: shutdown_timeout: ",
                         "must be between 0ms and 86400000ms, got 90000000ms"));
  EXPECT_TRUE(fails_with("shutdown_timeout: s\n",
                         "test.yaml:1:19: shutdown_timeout: ", "expected a duration"));
  EXPECT_TRUE(fails_with("shutdown_timeout: 10 seconds\n",
                         "test.yaml:1:19: shutdown_timeout: ", "expected a duration"));
  EXPECT_TRUE(fails_with(
      "limits:\n  linger_timeout: 61s\n",
      "test.yaml:2:19: limits.linger_timeout: ", "must be between 0ms and 60000ms, got 61000ms"));
}

TEST(ConfigErrors, Sizes) {
  EXPECT_TRUE(fails_with("limits:\n  read_chunk: 12QB\n", "test.yaml:2:15: limits.read_chunk: ",
                         "expected a size such as 65536, 64KiB or 1MiB, got '12QB'"));
  EXPECT_TRUE(fails_with("limits:\n  read_chunk: 100\n", "test.yaml:2:15: limits.read_chunk: ",
                         "must be between 512 and 16777216 bytes, got 100"));
  EXPECT_TRUE(fails_with("limits:\n  read_chunk: 17MiB\n", "test.yaml:2:15: limits.read_chunk: ",
                         "must be between 512 and 16777216 bytes"));
  EXPECT_TRUE(fails_with("limits:\n  max_input_buffer: 2GiB\n",
                         "test.yaml:2:21: limits.max_input_buffer: ", "must be between"));
  EXPECT_TRUE(fails_with("limits:\n  output_high_water: -1\n",
                         "test.yaml:2:22: limits.output_high_water: ", "expected a size"));
  EXPECT_TRUE(fails_with("limits:\n  output_high_water: KiB\n",
                         "test.yaml:2:22: limits.output_high_water: ", "expected a size"));
  EXPECT_TRUE(fails_with("limits:\n  output_high_water: 1MiB\n  max_output_bytes: 512KiB\n",
                         "test.yaml:3:21: limits.max_output_bytes: ",
                         "must be 0 (no bound) or at least limits.output_high_water"));
  EXPECT_EQ(load("limits:\n  max_output_bytes: 0\n").settings.limits.max_output_bytes, 0u);
  EXPECT_EQ(load("limits:\n  read_chunk: 0.5KiB\n").settings.limits.read_chunk, 512u);
  EXPECT_EQ(load("limits:\n  read_chunk: 16MiB\n").settings.limits.read_chunk, 16u << 20);
}

TEST(ConfigErrors, LogLevel) {
  EXPECT_TRUE(fails_with("log_level: verbose\n", "test.yaml:1:12: log_level: ",
                         "must be debug, info, warn or error, got 'verbose'"));
  for (std::string level : {"debug", "info", "warn", "error"}) {
    EXPECT_EQ(load("log_level: " + level + "\n").log.level, level);
  }
}

// log: and access_log:, as (text, where the error is, what it says); an empty location means
// the file loads. Files go to a folder of the test's own.
TEST(ConfigErrors, LogAndAccessLog) {
  char dir_template[] = "/tmp/srv-config-log.XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  const std::string listen = "listeners:\n  - {listen: 127.0.0.1:7000, access_log: ";
  struct Case {
    std::string text;
    std::string location;
    std::string fragment;
  };
  for (const Case& c : std::vector<Case>{
           {"log: {}\n", "", ""},
           {"log:\n", "", ""},
           {"log: {level: debug, format: json}\n", "", ""},
           {"log: {file: \"\"}\n", "", ""},
           {"log: {file: " + dir + "/srv.log}\n", "", ""},
           {listen + "\"\"}\n", "", ""},
           {listen + dir + "/access.log}\n", "", ""},
           {"log: {format: xml}\n",
            "test.yaml:1:15: log.format: ", "must be text or json, got 'xml'"},
           {"log: {format: JSON}\n", "test.yaml:1:15: log.format: ", "got 'JSON'"},
           {"log: {level: verbose}\n",
            "test.yaml:1:14: log.level: ", "must be debug, info, warn or error, got 'verbose'"},
           {"log: {levl: info}\n",
            "test.yaml:1:7: log.levl: ", "unknown key; known keys here: file, format, level"},
           {"log: info\n", "test.yaml:1:6: log: ", "must be a map"},
           {"log: [info]\n", "test.yaml:1:6: log: ", "must be a map"},
           {"log: {file: [a]}\n", "test.yaml:1:13: log.file: ", "must be a single value"},
           {"log_level: debug\nlog: {format: json}\n",
            "test.yaml:2:6: log: ", "log_level is given already; say the level once, as log.level"},
           {"log: {format: json}\nlog_level: debug\n",
            "test.yaml:2:12: log_level: ", "log is given already"},
           {"log: {file: " + dir + "/no/such/dir.log}\n", "test.yaml:1:13: log.file: ",
            "cannot open " + dir + "/no/such/dir.log: No such file or directory"},
           {"log: {file: " + dir + "}\n", "test.yaml:1:13: log.file: ", "Is a directory"},
           {listen + dir + "/no/such/access.log}\n", "test.yaml:2:42: listeners[0].access_log: ",
            "cannot open " + dir + "/no/such/access.log: No such file or directory"},
           {listen + "[a]}\n",
            "test.yaml:2:42: listeners[0].access_log: ", "must be a single value"},
       }) {
    if (c.location.empty()) {
      EXPECT_TRUE(loads(c.text)) << c.text;
    } else {
      EXPECT_TRUE(fails_with(c.text, c.location, c.fragment)) << c.text;
    }
  }
  std::filesystem::remove_all(dir);
}

TEST(ConfigValues, LogAndAccessLog) {
  char dir_template[] = "/tmp/srv-config-log.XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  Config plain = load("listeners:\n  - {listen: 127.0.0.1:7000}\n");
  EXPECT_EQ(plain.log.level, "info");
  EXPECT_EQ(plain.log.format, LogFormat::kText);
  EXPECT_EQ(plain.log.file, nullptr);  // stderr
  EXPECT_EQ(plain.listeners[0].access_log, nullptr);

  Config json = load("log: {level: warn, format: json, file: " + dir +
                     "/srv.log}\nlisteners:\n  - {listen: 127.0.0.1:7000, protocol: http, "
                     "access_log: " +
                     dir + "/access.log}\n");
  EXPECT_EQ(json.log.level, "warn");
  EXPECT_EQ(json.log.format, LogFormat::kJson);
  ASSERT_NE(json.log.file, nullptr);
  EXPECT_EQ(json.log.file->path(), dir + "/srv.log");
  ASSERT_NE(json.listeners[0].access_log, nullptr);
  EXPECT_EQ(json.listeners[0].access_log->path(), dir + "/access.log");
  EXPECT_TRUE(std::filesystem::exists(dir + "/access.log"));  // opened (created) at load

  // Relative names are taken from the config file's folder, as TLS files are.
  const std::string file = dir + "/srv.yaml";
  std::ofstream(file) << "log: {file: logs.txt}\nlisteners:\n  - {listen: 127.0.0.1:7000, "
                         "access_log: access.txt}\n";
  Overrides from_file;
  from_file.config_file = file;
  Config relative = load_config(from_file);
  EXPECT_EQ(relative.log.file->path(), dir + "/logs.txt");
  EXPECT_EQ(relative.listeners[0].access_log->path(), dir + "/access.txt");
  std::filesystem::remove_all(dir);
}

// The units every size and duration accepts, read through Section directly.
TEST(SectionValues, SizeUnits) {
  struct Case {
    std::string text;
    std::int64_t bytes;
  };
  for (const Case& c : std::vector<Case>{{"65536", 65536},
                                         {"512B", 512},
                                         {"64k", 64 << 10},
                                         {"64K", 64 << 10},
                                         {"64KiB", 64 << 10},
                                         {"64KB", 64 << 10},
                                         {"1m", 1 << 20},
                                         {"1M", 1 << 20},
                                         {"1MiB", 1 << 20},
                                         {"1.5KiB", 1536},
                                         {"2 KiB", 2048},
                                         {"1G", 1 << 30},
                                         {"1GiB", 1 << 30}}) {
    Section s("test.yaml", YAML::Load("size: " + c.text), "");
    EXPECT_EQ(s.bytes("size", 0, 0, 1LL << 40), c.bytes) << c.text;
  }
}

TEST(SectionValues, DurationUnits) {
  struct Case {
    std::string text;
    std::chrono::milliseconds value;
  };
  for (const Case& c : std::vector<Case>{{"30", 30s},
                                         {"0.5", 500ms},
                                         {"30s", 30s},
                                         {"500ms", 500ms},
                                         {"1.5s", 1500ms},
                                         {"2m", 2min},
                                         {"1h", 1h}}) {
    Section s("test.yaml", YAML::Load("wait: " + c.text), "");
    EXPECT_EQ(s.duration("wait", 0ms, 0ms, 24h), c.value) << c.text;
  }
}

TEST(SectionValues, Booleans) {
  for (std::string_view text : {"true", "yes", "on"}) {
    Section s("test.yaml", YAML::Load("flag: " + std::string(text)), "opts");
    EXPECT_TRUE(s.boolean("flag", false)) << text;
  }
  for (std::string_view text : {"false", "no", "off"}) {
    Section s("test.yaml", YAML::Load("flag: " + std::string(text)), "opts");
    EXPECT_FALSE(s.boolean("flag", true)) << text;
  }
  Section absent("test.yaml", YAML::Load("other: 1"), "opts");
  EXPECT_TRUE(absent.boolean("flag", true));
  Section bad("test.yaml", YAML::Load("flag: maybe"), "opts");
  try {
    bad.boolean("flag", false);
    FAIL() << "'maybe' was accepted as a boolean";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "test.yaml:1:7: opts.flag: expected true or false, got 'maybe'");
  }
}

TEST(SectionValues, FinishReportsUnreadKeysAndKnownOnes) {
  Section s("test.yaml", YAML::Load("alpha: 1\nbeta: 2\ngamma: 3\n"), "sect");
  s.integer("alpha", 0, 0, 10);
  s.integer("gamma", 0, 0, 10);
  try {
    s.finish();
    FAIL() << "an unread key was accepted";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "test.yaml:2:1: sect.beta: unknown key; known keys here: alpha, gamma");
  }
}

TEST(SectionValues, KeysFromNowhereSayCommandLine) {
  YAML::Node node(YAML::NodeType::Map);
  node["n"] = "abc";
  Section s("test.yaml", node, "");
  try {
    s.integer("n", 0, 0, 10);
    FAIL() << "'abc' was accepted as an integer";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "command line: n: expected a whole number, got 'abc'");
  }
}

// ---------------------------------------------------------------------------------------------
// Strategy sections

TEST(ConfigStrategies, PreforkWorkers) {
  EXPECT_TRUE(fails_with("strategy: prefork\nprefork:\n  workers: 0\n",
                         "test.yaml:3:12: prefork.workers: ", "must be between 1 and 1024, got 0"));
  EXPECT_TRUE(fails_with("strategy: prefork\nprefork:\n  workers: 1025\n",
                         "test.yaml:3:12: prefork.workers: ", "must be between 1 and 1024"));
  EXPECT_TRUE(fails_with("strategy: prefork\nprefork:\n  workers: four\n",
                         "test.yaml:3:12: prefork.workers: ", "expected a whole number"));
  EXPECT_TRUE(loads("strategy: prefork\nprefork:\n  workers: 1\n"));
  EXPECT_TRUE(loads("strategy: prefork\nprefork:\n  workers: 1024\n"));
}

TEST(ConfigStrategies, PreforkMaxConnectionsPerChild) {
  EXPECT_TRUE(loads("strategy: prefork\nprefork:\n  max_connections_per_child: 0\n"));
  EXPECT_TRUE(loads("strategy: prefork\nprefork:\n  max_connections_per_child: 10000\n"));
  EXPECT_TRUE(
      fails_with("strategy: prefork\nprefork:\n  max_connections_per_child: -1\n",
                 "test.yaml:3:30: prefork.max_connections_per_child: ", "must be between 0"));
}

TEST(ConfigStrategies, PreforkTypoListsTheKnownKeys) {
  EXPECT_TRUE(fails_with("strategy: prefork\nprefork: {wokers: 3}\n",
                         "test.yaml:2:11: prefork.wokers: ",
                         "unknown key; known keys here: max_connections_per_child, workers"));
}

TEST(ConfigStrategies, ThreadStackSize) {
  EXPECT_TRUE(loads("strategy: thread\nthread:\n  stack_size: 64KiB\n"));
  EXPECT_TRUE(loads("strategy: thread\nthread:\n  stack_size: 8MiB\n"));
  EXPECT_TRUE(fails_with("strategy: thread\nthread:\n  stack_size: 63KiB\n",
                         "test.yaml:3:15: thread.stack_size: ", "must be between 65536 and"));
  EXPECT_TRUE(fails_with("strategy: thread\nthread:\n  stack_size: 4096\n",
                         "test.yaml:3:15: thread.stack_size: ", "got 4096"));
  EXPECT_TRUE(fails_with("strategy: thread\nthread:\n  stack_size: big\n",
                         "test.yaml:3:15: thread.stack_size: ", "expected a size"));
}

TEST(ConfigStrategies, ThreadpoolThreadsAndQueue) {
  EXPECT_TRUE(loads("strategy: threadpool\nthreadpool:\n  threads: 1\n  queue_size: 1\n"));
  EXPECT_TRUE(fails_with("strategy: threadpool\nthreadpool:\n  threads: 0\n",
                         "test.yaml:3:12: threadpool.threads: ", "must be between 1 and"));
  EXPECT_TRUE(fails_with("strategy: threadpool\nthreadpool:\n  threads: 100000\n",
                         "test.yaml:3:12: threadpool.threads: ", "got 100000"));
  EXPECT_TRUE(fails_with("strategy: threadpool\nthreadpool:\n  queue_size: 0\n",
                         "test.yaml:3:15: threadpool.queue_size: ", "must be between 1 and"));
  EXPECT_TRUE(fails_with("strategy: threadpool\nthreadpool:\n  queue_size: lots\n",
                         "test.yaml:3:15: threadpool.queue_size: ", "expected a whole number"));
}

TEST(ConfigStrategies, SelectRefusesMoreConnectionsThanFdSetsize) {
  EXPECT_TRUE(fails_with("strategy: select\nmax_connections: 5000\n",
                         "test.yaml:2:18: max_connections: ", "FD_SETSIZE"));
  // FD_SETSIZE itself is too many: the listeners and the server's own descriptors need room.
  EXPECT_TRUE(fails_with("strategy: select\nmax_connections: " + std::to_string(FD_SETSIZE) + "\n",
                         "test.yaml:2:18: max_connections: ", "FD_SETSIZE"));
  EXPECT_TRUE(loads("strategy: select\nmax_connections: 100\n"));
  // Other strategies take the same value.
  EXPECT_TRUE(loads("strategy: poll\nmax_connections: 5000\n"));
  EXPECT_TRUE(loads("strategy: epoll\nmax_connections: 5000\n"));
}

TEST(ConfigStrategies, SelectLowersTheSharedDefaultBelowFdSetsize) {
  Config config = load("strategy: select\n");
  EXPECT_LT(config.settings.max_connections, FD_SETSIZE);
  EXPECT_GE(config.settings.max_connections, FD_SETSIZE / 2);
}

TEST(ConfigStrategies, EpollMaxEvents) {
  EXPECT_TRUE(loads("strategy: epoll\nepoll:\n  max_events: 1\n"));
  EXPECT_TRUE(fails_with("strategy: epoll\nepoll:\n  max_events: 0\n",
                         "test.yaml:3:15: epoll.max_events: ", "must be between 1 and"));
  EXPECT_TRUE(fails_with("strategy: epoll\nepoll:\n  max_events: 1000000\n",
                         "test.yaml:3:15: epoll.max_events: ", "must be between 1 and"));
}

// libevent.method, as (what follows `strategy: libevent`, where the error is, what it says); an
// empty location means the file loads.
TEST(ConfigStrategies, LibeventMethod) {
  struct Case {
    std::string text;
    std::string location;
    std::string fragment;
  };
  const std::string select_limit = "libevent.method select can watch descriptors below FD_SETSIZE";
  for (const Case& c : std::vector<Case>{
           {"", "", ""},
           {"libevent:\n  method: auto\n", "", ""},
           {"libevent:\n  method: epoll\n", "", ""},
           {"libevent:\n  method: poll\n", "", ""},
           {"libevent:\n  method: select\n", "", ""},
           {"libevent:\n  method: epoll\nmax_connections: 5000\n", "", ""},
           {"libevent:\n  method: kqueue\n", "test.yaml:3:11: libevent.method: ",
            "must be one of auto, epoll, poll, select, got 'kqueue'"},
           {"libevent:\n  method: EPOLL\n", "test.yaml:3:11: libevent.method: ", "got 'EPOLL'"},
           {"libevent:\n  method: \"\"\n", "test.yaml:3:11: libevent.method: ", "got ''"},
           {"libevent:\n  method: [epoll]\n", "test.yaml:3:11: libevent.method: ", ""},
           {"libevent:\n  methods: epoll\n", "test.yaml:3:3: libevent.methods: ", "unknown key"},
           {"libevent:\n  method: select\nmax_connections: 5000\n",
            "test.yaml:4:18: max_connections: ", select_limit},
           {"libevent:\n  method: select\nmax_connections: " + std::to_string(FD_SETSIZE) + "\n",
            "test.yaml:4:18: max_connections: ", select_limit},
       }) {
    const std::string text = "strategy: libevent\n" + c.text;
    if (c.location.empty()) {
      EXPECT_TRUE(loads(text)) << text;
    } else {
      EXPECT_TRUE(fails_with(text, c.location, c.fragment)) << text;
    }
  }
}

TEST(ConfigStrategies, LibeventSelectLowersTheSharedDefaultBelowFdSetsize) {
  EXPECT_LT(load("strategy: libevent\nlibevent:\n  method: select\n").settings.max_connections,
            FD_SETSIZE);
  EXPECT_EQ(load("strategy: libevent\nlibevent:\n  method: epoll\n").settings.max_connections,
            1024);
  EXPECT_EQ(load("strategy: libevent\n").settings.max_connections, 1024);
}

TEST(ConfigStrategies, KeysOfOtherStrategiesAreNotCheckedAgainstTheChosenOne) {
  // A file may carry sections for several strategies; only the chosen one is validated, and the
  // others' names are still known top-level keys.
  EXPECT_TRUE(loads("strategy: epoll\nprefork:\n  workers: 8\nthread:\n  stack_size: 1MiB\n"));
}

// ---------------------------------------------------------------------------------------------
// Files

class ConfigFile : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "srv_config_test_" + std::to_string(::getpid()) + ".yaml";
  }
  void TearDown() override { std::remove(path_.c_str()); }
  void write(const std::string& text) {
    std::ofstream out(path_);
    out << text;
  }
  std::string path_;
};

TEST_F(ConfigFile, LoadsAFileAndNamesItInMessages) {
  write("strategy: poll\nmax_connections: 0\n");
  Overrides o;
  o.config_file = path_;
  try {
    load_config(o);
    FAIL() << "max_connections: 0 was accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path_ + ":2:18: max_connections: ", 0), 0u) << e.what();
  }
  write("strategy: poll\n");
  Config config = load_config(o);
  EXPECT_EQ(config.source, path_);
  EXPECT_EQ(config.strategy_name, "poll");
}

TEST_F(ConfigFile, MissingFile) {
  Overrides o;
  o.config_file = path_ + ".missing";
  try {
    load_config(o);
    FAIL() << "a missing file was accepted";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), (path_ + ".missing: cannot open: No such file or directory").c_str());
  }
}

}  // namespace
}  // namespace srv
