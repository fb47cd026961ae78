// Loading protocol plugins from the config: errors for files that are not plugins, plugins of
// another API version, refused options, and strategies a plugin is not safe under.
#include <gtest/gtest.h>

#include <string>

#include "config/config.h"
#include "server/plugin.h"
#include "tests/test_context.h"

namespace {

std::string config_with(const std::string& protocol, const std::string& strategy = "epoll") {
  return "strategy: " + strategy +
         "\nlisteners:\n  - listen: 127.0.0.1:0\n    protocol: " + protocol + "\n";
}

// The message load_config_text() throws, or "" if it loads.
std::string error_of(const std::string& text) {
  try {
    srv::load_config_text(text, "test.yaml", {});
    return "";
  } catch (const srv::ConfigError& e) {
    return e.what();
  }
}

TEST(Plugin, SafePluginLoadsUnderEveryStrategyItAllows) {
  for (const char* strategy : {"epoll", "select", "poll"}) {
    EXPECT_EQ(error_of(config_with("{plugin: " PLUGIN_FRAGILE "}", strategy)), "") << strategy;
  }
  srv::Config config =
      srv::load_config_text(config_with("{plugin: " PLUGIN_FRAGILE "}"), "test.yaml", {});
  ASSERT_EQ(config.listeners.size(), 1u);
  EXPECT_EQ(config.listeners[0].protocol, "fragile");
  ASSERT_NE(config.listeners[0].factory, nullptr);
  EXPECT_NE(config.listeners[0].factory->create(srv::test::test_context()), nullptr);
}

TEST(Plugin, MissingFile) {
  std::string error = error_of(config_with("{plugin: /nonexistent/libnothing.so}"));
  EXPECT_EQ(error.rfind("test.yaml:4:15: listeners[0].protocol: cannot load plugin: ", 0), 0u)
      << error;
  EXPECT_NE(error.find("/nonexistent/libnothing.so"), std::string::npos) << error;
}

TEST(Plugin, LibraryWithoutEntryPoint) {
  std::string error = error_of(config_with("{plugin: " PLUGIN_NO_ENTRY "}"));
  EXPECT_NE(error.find("is not a srv plugin: it exports no srv_plugin_info()"), std::string::npos)
      << error;
}

TEST(Plugin, OtherApiVersionIsNamed) {
  std::string error = error_of(config_with("{plugin: " PLUGIN_FUTURE "}"));
  EXPECT_NE(error.find("built against srv plugin API 999, this srv speaks API " +
                       std::to_string(SRV_PLUGIN_API_VERSION)),
            std::string::npos)
      << error;
}

TEST(Plugin, RefusedOptionCarriesThePluginsReason) {
  std::string error = error_of(config_with("{plugin: " PLUGIN_FRAGILE ", options: {refuse: yes}}"));
  EXPECT_NE(error.find("plugin fragile refused its options: option 'refuse' says no"),
            std::string::npos)
      << error;
}

TEST(Plugin, NameAndPluginAreExclusive) {
  std::string error = error_of(config_with("{name: echo, plugin: " PLUGIN_FRAGILE "}"));
  EXPECT_NE(error.find("either name: PROTOCOL or plugin: PATH"), std::string::npos) << error;
}

TEST(Plugin, StrategyThePluginIsNotSafeUnderIsRefusedNamingBoth) {
  for (const char* strategy : {"thread", "threadpool", "fork", "prefork"}) {
    std::string error = error_of(config_with("{plugin: " PLUGIN_FRAGILE "}", strategy));
    EXPECT_EQ(error.rfind("test.yaml:4:15: listeners[0].protocol: plugin 'fragile' (", 0), 0u)
        << error;
    EXPECT_NE(error.find(std::string("strategy '") + strategy + "'"), std::string::npos) << error;
  }
  // Safe under threads only: threads are fine, fork is not.
  EXPECT_EQ(error_of(config_with("{plugin: " PLUGIN_THREADS_ONLY "}", "threadpool")), "");
  std::string error = error_of(config_with("{plugin: " PLUGIN_THREADS_ONLY "}", "fork"));
  EXPECT_NE(error.find("does not declare itself safe under fork"), std::string::npos) << error;
}

TEST(Plugin, BarePathOnTheCommandLine) {
  srv::Overrides overrides;
  overrides.protocol = PLUGIN_FRAGILE;
  overrides.strategy = "thread";
  try {
    srv::load_config_text(config_with("echo"), "test.yaml", overrides);
    FAIL() << "a plugin unsafe under threads was accepted under strategy thread";
  } catch (const srv::ConfigError& e) {
    EXPECT_EQ(
        std::string(e.what()).rfind("command line: listeners[0].protocol: plugin 'fragile'", 0), 0u)
        << e.what();
  }
}

}  // namespace
