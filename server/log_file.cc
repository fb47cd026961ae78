#include "server/log_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include <fmt/format.h>

namespace srv {
namespace {

// Bumped by the signal handler; a LogFile that has not caught up reopens. Per process: the
// master forwards SIGUSR1 down the tree, so each process learns of it itself.
std::atomic<unsigned> g_reopens{0};
static_assert(std::atomic<unsigned>::is_always_lock_free);

int open_append(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

}  // namespace

void request_log_reopen() {
  g_reopens.fetch_add(1, std::memory_order_relaxed);
}

std::shared_ptr<LogFile> LogFile::open(const std::string& path) {
  int fd = open_append(path);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot open " + path);
  return std::shared_ptr<LogFile>(new LogFile(path, fd));
}

std::shared_ptr<LogFile> LogFile::standard_error() {
  static const std::shared_ptr<LogFile> kStderr(new LogFile("", STDERR_FILENO));
  return kStderr;
}

LogFile::LogFile(std::string path, int fd)
    : path_(std::move(path)), fd_(fd), seen_(g_reopens.load(std::memory_order_relaxed)) {}

LogFile::~LogFile() {
  if (!path_.empty()) ::close(fd_);
}

void LogFile::write_line(std::string_view line) {
  unsigned now = g_reopens.load(std::memory_order_relaxed);
  unsigned seen = seen_.load(std::memory_order_relaxed);
  // One thread reopens; the others write on to the old file until dup2 swaps it.
  if (seen != now && !path_.empty() && seen_.compare_exchange_strong(seen, now)) reopen();
  // A short write to a regular file means a full disk: the rest would be a torn line anyway.
  while (::write(fd_, line.data(), line.size()) < 0 && errno == EINTR) {
  }
}

void LogFile::reopen() {
  int fresh = open_append(path_);
  if (fresh < 0) {
    std::string why =
        fmt::format("srv: cannot reopen {} after SIGUSR1: {}; still writing to the file it was\n",
                    path_, std::strerror(errno));
    [[maybe_unused]] auto n = ::write(fd_, why.data(), why.size());
    return;
  }
  ::dup3(fresh, fd_, O_CLOEXEC);
  ::close(fresh);
}

}  // namespace srv
