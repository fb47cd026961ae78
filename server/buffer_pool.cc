#include "server/buffer_pool.h"

#include <utility>

namespace srv {
namespace {

thread_local std::vector<std::vector<char>> t_spares;

}  // namespace

std::vector<char> take_spare(std::size_t min_size) {
  std::vector<std::vector<char>>& spares = t_spares;
  for (auto it = spares.rbegin(); it != spares.rend(); ++it) {
    if (it->size() < min_size) continue;
    std::vector<char> storage = std::move(*it);
    spares.erase(std::next(it).base());
    return storage;
  }
  std::vector<char> storage;
  if (min_size > 0) storage.resize(min_size);
  return storage;
}

void give_back(std::vector<char>&& storage) {
  std::vector<std::vector<char>>& spares = t_spares;
  if (storage.size() == 0 || storage.size() > kLargestSpare || spares.size() >= kSpares) {
    std::vector<char>().swap(storage);  // freed
    return;
  }
  if (spares.capacity() < kSpares) spares.reserve(kSpares);
  spares.push_back(std::move(storage));
}

}  // namespace srv
