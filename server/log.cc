#include "server/log.h"

#include <unistd.h>

#include <atomic>
#include <iterator>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

namespace srv {
namespace {

std::atomic<int> g_generation{0};

// Formats each line itself (no pattern) into a local buffer and hands it to the LogFile in one
// piece: no lock is needed (hence null_mutex), and none can be held across a fork.
class LineSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  LineSink(LogFormat format, std::shared_ptr<LogFile> file)
      : format_(format), file_(std::move(file)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    LogLine line;
    std::string_view text(msg.payload.data(), msg.payload.size());
    auto level = spdlog::level::to_string_view(msg.level);
    std::string_view level_name(level.data(), level.size());
    int generation = log_generation();
    auto out = std::back_inserter(line);
    if (format_ == LogFormat::kJson) {
      append_raw(line, "{\"time\":\"");
      append_utc_time(line, msg.time);
      fmt::format_to(out, "\",\"level\":\"{}\",\"pid\":{},\"generation\":{},\"msg\":", level_name,
                     ::getpid(), generation);
      append_json_string(line, text);
      append_raw(line, "}\n");
    } else {
      append_local_time(line, msg.time);
      if (generation == 0) {
        fmt::format_to(out, " [{}] [master] [pid {}] ", level_name, ::getpid());
      } else {
        fmt::format_to(out, " [{}] [generation {}] [pid {}] ", level_name, generation, ::getpid());
      }
      append_raw(line, text);
      line.push_back('\n');
    }
    file_->write_line({line.data(), line.size()});
  }
  void flush_() override {}  // every line is written at once

 private:
  LogFormat format_;
  std::shared_ptr<LogFile> file_;
};

}  // namespace

void setup_logging(const LogSettings& settings) {
  auto sink = std::make_shared<LineSink>(settings.format,
                                         settings.file ? settings.file : LogFile::standard_error());
  auto logger = std::make_shared<spdlog::logger>("srv", std::move(sink));
  logger->set_level(spdlog::level::from_str(settings.level));
  spdlog::set_default_logger(std::move(logger));
}

void set_log_generation(int number) {
  g_generation.store(number, std::memory_order_relaxed);
}

int log_generation() {
  return g_generation.load(std::memory_order_relaxed);
}

}  // namespace srv
