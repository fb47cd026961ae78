#include "loadtest/proc_sampler.h"

#include <unistd.h>

#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

namespace srv::loadtest {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kPssSample = 256;  // processes whose PSS is read at most, per reading

/// The fields of /proc/PID/stat that the sample needs.
struct StatFields {
  pid_t ppid = 0;
  long long own_ticks = 0;     ///< utime + stime: whole clock ticks, too coarse for light tasks
  long long reaped_ticks = 0;  ///< cutime + cstime: children that exited and were waited for
  int threads = 0;
};

/// nullopt when the file cannot be opened: the task has exited (or was never there).
std::optional<std::string> read_file(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return std::move(text).str();
}

template <typename T>
std::optional<T> parse_number(std::string_view text) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  return value;
}

std::optional<StatFields> read_stat(const fs::path& proc_dir) {
  std::optional<std::string> text = read_file(proc_dir / "stat");
  if (!text) return std::nullopt;
  // comm (field 2) is whatever the process named itself, spaces and ')' included; the last ')'
  // is the only reliable end of it.
  std::size_t close = text->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(text->substr(close + 1));
  std::vector<std::string> fields;  // fields[0] is field 3 (state)
  for (std::string field; fields.size() < 18 && rest >> field;) fields.push_back(field);
  if (fields.size() < 18) return std::nullopt;
  auto ppid = parse_number<pid_t>(fields[1]);
  auto threads = parse_number<int>(fields[17]);
  if (!ppid || !threads) return std::nullopt;
  StatFields stat;
  stat.ppid = *ppid;
  stat.threads = *threads;
  for (std::size_t i = 11; i <= 14; ++i) {  // fields 14-17
    auto ticks = parse_number<long long>(fields[i]);
    if (!ticks) return std::nullopt;
    (i <= 12 ? stat.own_ticks : stat.reaped_ticks) += *ticks;
  }
  return stat;
}

/// The number after `key` on the line that starts with it ("Pss:   1234 kB"), or 0.
std::uint64_t field_value(const std::string& text, std::string_view key) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.compare(0, key.size(), key) != 0) continue;
    std::istringstream rest(line.substr(key.size()));
    std::uint64_t value = 0;
    rest >> value;
    return value;
  }
  return 0;
}

// What the tasks (threads) of one process have done: context switches from status, and run
// time in nanoseconds from schedstat. A server with a thousand light children runs each for
// less than a clock tick per second, so only the nanosecond count adds up to the truth.
struct TaskTotals {
  std::uint64_t context_switches = 0;
  std::uint64_t run_ns = 0;
};

TaskTotals read_tasks(const fs::path& proc_dir) {
  TaskTotals total;
  std::error_code ec;
  for (fs::directory_iterator it(proc_dir / "task", ec), end; !ec && it != end; it.increment(ec)) {
    std::optional<std::string> status = read_file(it->path() / "status");
    if (!status) continue;  // the thread exited
    total.context_switches += field_value(*status, "voluntary_ctxt_switches:") +
                              field_value(*status, "nonvoluntary_ctxt_switches:");
    if (std::optional<std::string> schedstat = read_file(it->path() / "schedstat")) {
      total.run_ns += parse_number<std::uint64_t>(*schedstat).value_or(0);
    }
  }
  return total;
}

}  // namespace

ProcessSample ProcessTreeSampler::sample(bool memory) const {
  // Children are only discoverable through their ppid, so the whole of /proc is read once.
  std::unordered_map<pid_t, std::vector<pid_t>> children;
  std::unordered_map<pid_t, StatFields> stats;
  std::error_code ec;
  for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    auto pid = parse_number<pid_t>(it->path().filename().native());
    if (!pid || std::to_string(*pid) != it->path().filename().native()) continue;
    std::optional<StatFields> stat = read_stat(it->path());
    if (!stat) continue;
    children[stat->ppid].push_back(*pid);
    stats.emplace(*pid, *stat);
  }

  static const double kTicksPerSecond = static_cast<double>(::sysconf(_SC_CLK_TCK));
  static const long kPageSize = ::sysconf(_SC_PAGESIZE);
  ProcessSample sample;
  if (!stats.contains(root_)) return sample;
  std::vector<pid_t> tree{root_};
  for (std::size_t i = 0; i < tree.size(); ++i) {
    if (auto it = children.find(tree[i]); it != children.end()) {
      tree.insert(tree.end(), it->second.begin(), it->second.end());
    }
  }
  // smaps_rollup walks page tables, about a millisecond a process: a tree of thousands would
  // take longer than a measured run. Past kPssSample processes, every k-th one is read and the
  // sum scaled up (a forking server's children are alike).
  const std::size_t pss_stride = (tree.size() + kPssSample - 1) / kPssSample;
  std::uint64_t pss_read = 0, pss_counted = 0;
  for (std::size_t i = 0; i < tree.size(); ++i) {
    const pid_t pid = tree[i];
    fs::path dir = fs::path("/proc") / std::to_string(pid);
    std::uint64_t resident = 0;
    if (memory) {
      std::optional<std::string> statm = read_file(dir / "statm");
      if (!statm) continue;  // exited since /proc was listed
      std::istringstream pages(*statm);
      std::uint64_t size = 0;
      if (!(pages >> size >> resident)) continue;
    }
    const StatFields& stat = stats.at(pid);
    sample.processes += 1;
    sample.threads += stat.threads;
    const TaskTotals tasks = read_tasks(dir);
    // Live threads' run time is exact (ns) but forgets threads that have exited; the process's
    // utime+stime remembers them, to the clock tick. The larger of the two is the nearer.
    const double own = std::max(static_cast<double>(tasks.run_ns) / 1e9,
                                static_cast<double>(stat.own_ticks) / kTicksPerSecond);
    sample.cpu_seconds += own + static_cast<double>(stat.reaped_ticks) / kTicksPerSecond;
    sample.rss_bytes += resident * static_cast<std::uint64_t>(kPageSize);
    sample.context_switches += tasks.context_switches;
    if (!memory) continue;
    ++pss_counted;
    if (i % pss_stride != 0) continue;
    // smaps_rollup needs ptrace-read access; without it the process still counts, with no PSS.
    if (std::optional<std::string> rollup = read_file(dir / "smaps_rollup")) {
      sample.pss_bytes += field_value(*rollup, "Pss:") * 1024;
      ++pss_read;
    }
  }
  if (pss_read > 0 && pss_read < pss_counted) {
    sample.pss_bytes = sample.pss_bytes * pss_counted / pss_read;
  }
  return sample;
}

}  // namespace srv::loadtest
