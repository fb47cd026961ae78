#pragma once

// Internal to the resp list command files (and the blocking list commands, which serve a
// waiting client with the same operations): what several list commands share. The functions
// that change lists run under a write Access the caller holds (so on the caller's thread) and
// leave the store as it was when an allocation throws (bad_alloc reaches execute_command, which
// replies -OOM instead); every function writes to `out` only what its comment says.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "protocols/client_registry.h"
#include "protocols/resp_commands_impl.h"

namespace srv::resp_impl {

/// The end of a list a command works on: LEFT/head or RIGHT/tail (client_registry.h, where a
/// blocked client's operation keeps it).
using srv::End;

/// LEFT or RIGHT, in any case. Otherwise replies "-ERR syntax error" and returns nullopt.
std::optional<End> end_arg(CommandContext& ctx, std::string_view text);

/// The position that LINDEX/LSET's `index` designates in a list of `size` elements (negative
/// counts from the tail: -1 is the last), or nullopt when it is out of range.
inline std::optional<std::size_t> list_position(std::size_t size, std::int64_t index) {
  auto length = static_cast<std::int64_t>(size);
  std::int64_t position = index < 0 ? length + index : index;  // cannot overflow: size is small
  if (position < 0 || position >= length) return std::nullopt;
  return static_cast<std::size_t>(position);
}

/// The positions [first, last] of a list of `size` elements that LRANGE/LTRIM's `start` and
/// `stop` designate (negative counts from the tail, ends past the list clamped to it), or
/// nullopt when the range is empty.
struct ListRange {
  std::size_t first;
  std::size_t last;
};
inline std::optional<ListRange> list_range(std::size_t size, std::int64_t start,
                                           std::int64_t stop) {
  auto length = static_cast<std::int64_t>(size);
  std::int64_t first = std::max<std::int64_t>(start < 0 ? length + start : start, 0);
  std::int64_t last = stop < 0 ? length + stop : stop;
  if (first > last || first >= length) return std::nullopt;
  return ListRange{static_cast<std::size_t>(first),
                   static_cast<std::size_t>(std::min(last, length - 1))};
}

/// Pushes `elements` in order onto `end` of the list `value` at `key`, creating it when `value`
/// is null (the caller looked `key` up and checked it holds a list). All or nothing: when an
/// allocation throws, the store is as it was. Returns the list's length. Replies nothing.
std::size_t push_elements(Keyspace::Access& access, std::string_view key, Value* value,
                          std::span<const std::string_view> elements, End end);

/// Removes `n` (at most the list's size) elements from `end` of `list`, replying each as a bulk
/// in the order they come off; the caller wrote the array header. Never allocates in the heap.
void pop_elements(shm::List& list, End end, std::size_t n, Buffer& out);

/// Deletes `key` when its list became empty, as Redis deletes empty lists.
void erase_if_empty(Keyspace::Access& access, std::string_view key, shm::List& list);

/// LMPOP's reply for a non-empty list: [key, [up to `count` elements from `end`]], popping them
/// and deleting the key if that empties it.
void pop_with_key(Keyspace::Access& access, std::string_view key, shm::List& list, End end,
                  std::int64_t count, Buffer& out);

/// BLPOP/BRPOP's reply for a non-empty list: [key, element] with one element popped from `end`,
/// deleting the key if that empties it.
void pop_one_with_key(Keyspace::Access& access, std::string_view key, shm::List& list, End end,
                      Buffer& out);

/// What move_element did.
enum class MoveResult {
  kMoved,          ///< replied the element, which is now at the destination
  kSourceMissing,  ///< the source list does not exist: replied nil, nothing changed
  kTypeMismatch,   ///< source or destination holds a non-list: replied WRONGTYPE, nothing changed
};

/// LMOVE source destination from to: pops from `from` of `source` and pushes onto `to` of
/// `destination` (which may be `source`: a rotation), creating it if absent.
MoveResult move_element(Keyspace::Access& access, std::string_view source,
                        std::string_view destination, End from, End to, Buffer& out);

/// The arguments of LMPOP/BLMPOP: numkeys key [key ...] LEFT|RIGHT [COUNT count].
struct MultiPopArgs {
  std::span<const std::string_view> keys;
  End end = End::kHead;
  std::int64_t count = 1;
};

/// Serves the clients blocked on `key` in the order they blocked, while it holds a non-empty
/// list: runs each one's operation, leaves the reply in its mailbox and rings it. Called by
/// every command that may have pushed to `key`, before its Access ends (resp_commands_blocking.cc).
void serve_blocked(Keyspace::Access& access, std::string_view key);

/// LMPOP's search: pops from the first of `keys` that exists (replying [key, [elements]]), or
/// replies WRONGTYPE if that key holds no list. False, with nothing replied, when none exists.
bool pop_from_first_list(CommandContext& ctx, Keyspace::Access& access, const MultiPopArgs& args);

/// Parses ctx.args from `numkeys_index` (1 for LMPOP, 2 for BLMPOP) with Redis's checks and
/// messages; on an error replies it and returns nullopt.
std::optional<MultiPopArgs> multi_pop_args(CommandContext& ctx, std::size_t numkeys_index);

}  // namespace srv::resp_impl
