// libevent: one thread, one event loop on libevent's event_base (raw events on the descriptors,
// libevent's timers for the deadlines). The model and the costs are those of epoll; what it adds
// is a choice of backend (libevent.method) and libevent's timer heap and active queue in place
// of srv's own.

#include <event2/event.h>
#include <sys/select.h>

#include <algorithm>
#include <array>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "strategies/builtin.h"
#include "strategies/fd_setsize.h"
#include "strategies/libevent_loop.h"

namespace srv {
namespace {

constexpr std::array<std::string_view, 4> kMethods = {"auto", "epoll", "poll", "select"};

struct ConfigDeleter {
  void operator()(event_config* config) const { event_config_free(config); }
};
struct BaseDeleter {
  void operator()(event_base* base) const { event_base_free(base); }
};
using BasePtr = std::unique_ptr<event_base, BaseDeleter>;

std::vector<std::string_view> supported_methods() {
  std::vector<std::string_view> methods;
  for (const char** m = event_get_supported_methods(); m != nullptr && *m != nullptr; ++m) {
    methods.emplace_back(*m);
  }
  return methods;
}

std::string features_of(int features) {
  constexpr std::array<std::pair<int, std::string_view>, 4> kNames = {{
      {EV_FEATURE_ET, "edge-triggered"},
      {EV_FEATURE_O1, "O(1)"},
      {EV_FEATURE_FDS, "any-fd"},
      {EV_FEATURE_EARLY_CLOSE, "early-close"},
  }};
  std::vector<std::string_view> names;
  for (const auto& [bit, name] : kNames) {
    if ((features & bit) != 0) names.push_back(name);
  }
  return names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "));
}

// libevent's own warnings ("epoll_ctl: ...") in srv's log format, with the pid, not on bare
// stderr.
void log_from_libevent(int severity, const char* message) {
  switch (severity) {
    case EVENT_LOG_DEBUG:
      spdlog::debug("libevent: {}", message);
      break;
    case EVENT_LOG_MSG:
      spdlog::info("libevent: {}", message);
      break;
    case EVENT_LOG_WARN:
      spdlog::warn("libevent: {}", message);
      break;
    default:
      spdlog::error("libevent: {}", message);
      break;
  }
}

/// A base on `method` alone ("auto": libevent's choice). The environment (EVENT_NOEPOLL...) is
/// ignored so that the config file is the one place that decides.
BasePtr make_base(std::string_view method) {
  event_set_log_callback(log_from_libevent);
  std::unique_ptr<event_config, ConfigDeleter> config(event_config_new());
  if (!config) throw std::bad_alloc();
  event_config_set_flag(config.get(), EVENT_BASE_FLAG_NOLOCK | EVENT_BASE_FLAG_IGNORE_ENV);
  if (method != "auto") {
    for (std::string_view other : supported_methods()) {
      if (other != method) event_config_avoid_method(config.get(), std::string(other).c_str());
    }
  }
  BasePtr base(event_base_new_with_config(config.get()));
  if (!base) throw std::runtime_error(fmt::format("libevent could not start method {}", method));
  return base;
}

class LibeventStrategy final : public Strategy {
 public:
  explicit LibeventStrategy(std::string method) : method_(std::move(method)) {}

  void run(Generation& generation) override {
    BasePtr base = make_base(method_);
    std::string_view picked = event_base_get_method(base.get());
    spdlog::info("libevent {}: method {} (asked for {}), features: {}", event_get_version(), picked,
                 method_, features_of(event_base_get_features(base.get())));
    // libevent's select backend grows its fd_sets past FD_SETSIZE, but glibc's checked FD_SET
    // aborts there: keep select to the descriptors it can hold.
    int fd_limit = picked == "select" ? FD_SETSIZE : std::numeric_limits<int>::max();
    LibeventLoop loop(base.get(), generation, fd_limit);
    loop.run();
  }

 private:
  std::string method_;
};

}  // namespace

std::unique_ptr<Strategy> make_libevent_strategy(Section& section, ServerSettings& settings,
                                                 const Section& top) {
  std::string method = section.string("method", "auto");
  if (std::find(kMethods.begin(), kMethods.end(), method) == kMethods.end()) {
    section.fail("method",
                 fmt::format("must be one of {}, got '{}'", fmt::join(kMethods, ", "), method));
  }
  std::vector<std::string_view> supported = supported_methods();
  if (method != "auto" &&
      std::find(supported.begin(), supported.end(), method) == supported.end()) {
    section.fail("method", fmt::format("this libevent ({}) has no {} backend; it has {}",
                                       event_get_version(), method, fmt::join(supported, ", ")));
  }
  if (method == "select") {
    fit_max_connections_to_fd_setsize(settings, top, "libevent.method select",
                                      "libevent.method poll or epoll");
  }
  return std::make_unique<LibeventStrategy>(std::move(method));
}

}  // namespace srv
