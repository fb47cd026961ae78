#include "server/drain_notice.h"

namespace srv {
namespace {

std::atomic<bool> g_draining{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

}  // namespace

const std::atomic<bool>& process_draining() {
  return g_draining;
}

void mark_process_draining() {
  g_draining.store(true, std::memory_order_relaxed);
}

}  // namespace srv
