#include "server/pid_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include <spdlog/spdlog.h>

namespace srv {

PidFile::~PidFile() {
  if (written_ && ::getpid() == owner_ && holds_own_pid()) ::unlink(path_.c_str());
}

void PidFile::write() {
  if (path_.empty()) return;
  std::string temp = path_ + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << ::getpid() << "\n";
    if (!out.flush()) {
      spdlog::error("cannot write pid_file {}: {}", temp, std::strerror(errno));
      return;
    }
  }
  if (::rename(temp.c_str(), path_.c_str()) != 0) {
    spdlog::error("cannot write pid_file {}: {}", path_, std::strerror(errno));
    return;
  }
  written_ = true;
  owner_ = ::getpid();
}

bool PidFile::holds_own_pid() const {
  std::ifstream in(path_);
  long pid = 0;
  return (in >> pid) && pid == owner_;
}

}  // namespace srv
