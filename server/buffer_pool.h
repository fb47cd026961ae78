#pragma once

// Spare storage for connection buffers, per thread: a connection hands its input and output
// storage back once they are empty and takes some again when bytes arrive, so an idle
// connection holds no buffer at all (it held a 64 KiB input buffer before), and a busy thread
// reuses the same few blocks without allocating or zero-filling them for each request.

#include <cstddef>
#include <vector>

namespace srv {

/// Storage of at least `min_size` bytes (size(), not just capacity: ready to read into), from
/// this thread's spares when one is large enough, else newly allocated. Any thread.
std::vector<char> take_spare(std::size_t min_size);

/// Keeps `storage` for this thread's next take_spare(), or frees it: at most kSpares blocks of
/// at most kLargestSpare bytes each are kept per thread. Any thread.
void give_back(std::vector<char>&& storage);

inline constexpr std::size_t kSpares = 8;
inline constexpr std::size_t kLargestSpare = 256 * 1024;

}  // namespace srv
