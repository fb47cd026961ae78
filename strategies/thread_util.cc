#include "strategies/thread_util.h"

#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <system_error>

#include <spdlog/spdlog.h>

namespace srv {
namespace {

void* trampoline(void* arg) {
  std::unique_ptr<std::function<void()>> body(static_cast<std::function<void()>*>(arg));
  (*body)();
  return nullptr;
}

}  // namespace

bool start_thread(pthread_t& thread, std::size_t stack_size, std::function<void()> body) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  if (stack_size > 0) pthread_attr_setstacksize(&attr, stack_size);
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);  // the new thread inherits the blocked mask
  auto* arg = new std::function<void()>(std::move(body));
  int rc = pthread_create(&thread, &attr, trampoline, arg);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    delete arg;
    spdlog::error("pthread_create: {}", std::strerror(rc));
    return false;
  }
  return true;
}

DoneSignal::DoneSignal() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

DoneSignal::~DoneSignal() {
  ::close(fd_);
}

void DoneSignal::notify() {
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(fd_, &one, sizeof one);
}

void DoneSignal::clear() {
  std::uint64_t count;
  [[maybe_unused]] auto n = ::read(fd_, &count, sizeof count);
}

}  // namespace srv
