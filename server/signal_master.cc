// `srv -s NAME`: the command-line side of the master's signals (server/master.h).

#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "server/master.h"

namespace srv {

int signal_master(const Config& config, std::string_view name) {
  int signo = name == "reload"    ? SIGHUP
              : name == "stop"    ? SIGTERM
              : name == "upgrade" ? SIGUSR2
                                  : 0;
  if (signo == 0) {
    std::fprintf(stderr, "srv: -s %.*s: unknown signal name (reload, stop, upgrade)\n",
                 static_cast<int>(name.size()), name.data());
    return 2;
  }
  if (config.pid_file.empty()) {
    std::fprintf(stderr, "srv: -s needs pid_file in %s (the running master writes it)\n",
                 config.source.c_str());
    return 1;
  }
  std::ifstream in(config.pid_file);
  long pid = 0;
  if (!(in >> pid) || pid <= 1) {
    std::fprintf(stderr, "srv: cannot read a pid from %s: is srv running?\n",
                 config.pid_file.c_str());
    return 1;
  }
  if (::kill(static_cast<pid_t>(pid), signo) != 0) {
    std::fprintf(stderr, "srv: cannot signal pid %ld (from %s): %s\n", pid, config.pid_file.c_str(),
                 std::strerror(errno));
    return 1;
  }
  std::printf("srv: sent %s to the master, pid %ld\n",
              signo == SIGHUP    ? "SIGHUP (reload)"
              : signo == SIGTERM ? "SIGTERM (stop)"
                                 : "SIGUSR2 (upgrade)",
              pid);
  return 0;
}

}  // namespace srv
