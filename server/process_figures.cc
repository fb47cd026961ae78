#include "server/process_figures.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace srv {
namespace {

struct StatLine {
  ProcessFigures figures;
  pid_t group = 0;
};

// /proc/PID/stat: "pid (comm) state ppid pgrp ..." where comm may hold spaces and parentheses,
// so fields are counted from the last ')'. Fields (1-based, proc(5)): 4 ppid, 5 pgrp,
// 20 num_threads, 24 rss (pages).
bool read_stat(pid_t pid, StatLine& out) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  std::size_t close = line.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream fields(line.substr(close + 1));
  std::string field;
  long long value[25] = {};
  for (int n = 3; n <= 24 && fields >> field; ++n) value[n] = std::atoll(field.c_str());
  out.figures.pid = pid;
  out.figures.parent = static_cast<pid_t>(value[4]);
  out.group = static_cast<pid_t>(value[5]);
  out.figures.threads = static_cast<std::uint64_t>(std::max(0LL, value[20]));
  out.figures.resident_bytes =
      static_cast<std::uint64_t>(std::max(0LL, value[24])) * ::sysconf(_SC_PAGESIZE);
  return true;
}

std::map<pid_t, ProcessFigures> group_members(pid_t pgid) {
  std::map<pid_t, ProcessFigures> members;
  DIR* proc = ::opendir("/proc");
  if (!proc) return members;
  while (dirent* entry = ::readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    StatLine stat;
    if (read_stat(static_cast<pid_t>(pid), stat) && stat.group == pgid) {
      members[stat.figures.pid] = stat.figures;
    }
  }
  ::closedir(proc);
  return members;
}

bool descends_from(pid_t pid, pid_t root, const std::map<pid_t, ProcessFigures>& members) {
  for (int depth = 0; depth < 64; ++depth) {  // bounded: a pid reused mid-scan cannot loop
    if (pid == root) return true;
    auto it = members.find(pid);
    if (it == members.end()) return false;
    pid = it->second.parent;
  }
  return false;
}

}  // namespace

ProcessGroupFigures process_group_figures(pid_t pgid, pid_t root) {
  std::map<pid_t, ProcessFigures> members = group_members(pgid);
  ProcessGroupFigures out;
  for (const auto& [pid, figures] : members) {
    if (root != 0 && !descends_from(pid, root, members)) continue;
    out.processes.push_back(figures);
    out.threads += figures.threads;
    out.resident_bytes += figures.resident_bytes;
  }
  return out;
}

}  // namespace srv
