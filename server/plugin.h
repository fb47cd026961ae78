#pragma once

// The entry point of a protocol plugin: a shared library that srv loads with dlopen when a
// listener says `protocol: {plugin: path/to/libNAME.so, options: {...}}` (or --protocol
// path/to/libNAME.so). A plugin implements server/protocol.h and exports one function, most
// easily through SRV_PLUGIN below. Everything a plugin needs is header-only: it does not link
// against srv.

#include <cstdint>
#include <map>
#include <string>

#include "server/protocol.h"

/// Bumped whenever protocol.h, buffer.h, waker.h, request_meter.h or PluginInfo change in a way
/// that breaks plugins.
/// 2: ProtocolFactory::create(const ConnectionContext&), Verdict::kPark, on_wake(), Waker.
/// 3: ProtocolHandler::request_unfinished() and on_read_timeout() (read_timeout, min_rate).
/// 4: ConnectionContext::meter (RequestMeter, server/request_meter.h): requests and errors
///    counted in the metrics; ConnectionContext::draining.
/// 5: RequestMeter::request_done/request_error take a RequestSummary (the access log) and are
///    non-virtual over a protected count(); RequestMeter::logs_requests().
#define SRV_PLUGIN_API_VERSION 5

namespace srv {

/// The listener's `options` map. Scalars arrive as their text; lists and maps as YAML flow text.
using PluginOptions = std::map<std::string, std::string>;

/// What a plugin tells srv about itself. The first field never moves, so srv can read the
/// version of any plugin before trusting the rest.
struct PluginInfo {
  std::uint32_t api_version = SRV_PLUGIN_API_VERSION;
  /// Sizes of the types shared with srv: catches a plugin built with other compiler settings.
  std::uint32_t abi_sizes = static_cast<std::uint32_t>(
      sizeof(Buffer) * 65536 + sizeof(ConnectionContext) * 256 + sizeof(Step));
  const char* name = "";
  const char* summary = "";
  /// Handlers of different connections may run at the same time on different threads
  /// (strategies thread and threadpool). False if the plugin shares unsynchronised state.
  bool thread_safe = false;
  /// The factory keeps working in forked children (strategies fork and prefork). False if it
  /// holds threads or state that must be shared by every connection.
  bool fork_safe = false;
  /// Makes the factory for one listener. On a bad option, returns nullptr and sets *error to a
  /// message naming the option. Called once per listener, on the main thread, before serving.
  ProtocolFactory* (*create)(const PluginOptions& options, std::string* error) = nullptr;
};

}  // namespace srv

/// The symbol srv looks up in a plugin.
#define SRV_PLUGIN_SYMBOL "srv_plugin_info"

/// Exports `info` (a srv::PluginInfo) as the plugin's entry point.
#define SRV_PLUGIN(info)                                                                       \
  extern "C" __attribute__((visibility("default"))) const srv::PluginInfo* srv_plugin_info() { \
    static const srv::PluginInfo kInfo = info;                                                 \
    return &kInfo;                                                                             \
  }
