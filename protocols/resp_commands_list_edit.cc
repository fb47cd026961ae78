// List commands that search or change a list inside: LSET, LREM, LPOS, LTRIM, LINSERT,
// following Redis 7.0's t_list.c (argument checks in the same order, so the same error wins).
// Elements are only swapped and removed from the ends, never copied: the one allocation a
// command makes (LSET's and LINSERT's new element, LINSERT's slot) comes before any change.

#include <algorithm>
#include <vector>

#include "protocols/resp_commands_list.h"
#include "protocols/resp_reply.h"

namespace srv::resp_impl {
namespace {

// Redis negates a rank or count of LONG_MIN in two's complement (where C leaves it undefined);
// doing the same keeps even that reply identical.
std::int64_t wrapping(std::uint64_t v) {
  return static_cast<std::int64_t>(v);
}

// LREM's removal from the head: keeps the elements that stay in order at the front and drops
// the tail. Returns how many were removed.
std::size_t remove_from_head(shm::List& list, std::string_view element, std::size_t limit) {
  std::size_t kept = 0;
  std::size_t removed = 0;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (removed < limit && shm::view(list[i]) == element) {
      ++removed;
      continue;
    }
    if (kept != i) list[kept].swap(list[i]);
    ++kept;
  }
  list.erase(list.begin() + static_cast<std::ptrdiff_t>(kept), list.end());
  return removed;
}

// The same from the tail (LREM with a negative count).
std::size_t remove_from_tail(shm::List& list, std::string_view element, std::size_t limit) {
  std::size_t kept = list.size();  // elements kept are packed into [kept, size)
  std::size_t removed = 0;
  for (std::size_t i = list.size(); i-- > 0;) {
    if (removed < limit && shm::view(list[i]) == element) {
      ++removed;
      continue;
    }
    if (--kept != i) list[kept].swap(list[i]);
  }
  list.erase(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(kept));
  return removed;
}

struct LposOptions {
  std::int64_t rank = 1;
  std::int64_t count = -1;  // -1: no COUNT, reply one index or nil
  std::int64_t maxlen = 0;  // 0: scan the whole list
};

std::optional<LposOptions> lpos_options(CommandContext& ctx) {
  LposOptions options;
  for (std::size_t i = 3; i < ctx.args.size(); ++i) {
    std::string_view option = ctx.args[i];
    bool has_value = i + 1 < ctx.args.size();
    std::optional<std::int64_t> value;
    if (has_value && equals_ignore_case(option, "rank")) {
      if (!(value = integer_arg(ctx, ctx.args[++i]))) return std::nullopt;
      if (*value == 0) {
        resp::error(ctx.out,
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the "
                    "second ... or use negative to start from the end of the list");
        return std::nullopt;
      }
      options.rank = *value;
    } else if (has_value &&
               (equals_ignore_case(option, "count") || equals_ignore_case(option, "maxlen"))) {
      bool is_count = equals_ignore_case(option, "count");
      std::string_view error =
          is_count ? "ERR COUNT can't be negative" : "ERR MAXLEN can't be negative";
      if (!(value = integer_arg(ctx, ctx.args[++i], error))) return std::nullopt;
      if (*value < 0) {
        resp::error(ctx.out, error);
        return std::nullopt;
      }
      (is_count ? options.count : options.maxlen) = *value;
    } else {
      resp::error(ctx.out, kSyntaxError);
      return std::nullopt;
    }
  }
  return options;
}

// The indexes LPOS reports for `element`: the matches from the rank-th on (from the tail for a
// negative rank), at most `count` of them (all for 0, one without COUNT), within maxlen.
std::vector<std::size_t> lpos_matches(const shm::List& list, std::string_view element,
                                      LposOptions options) {
  bool from_tail = options.rank < 0;
  std::int64_t rank =
      from_tail ? wrapping(0 - static_cast<std::uint64_t>(options.rank)) : options.rank;
  std::vector<std::size_t> found;
  std::int64_t matches = 0;
  std::size_t size = list.size();
  for (std::size_t scanned = 0; scanned < size; ++scanned) {
    if (options.maxlen != 0 && scanned >= static_cast<std::size_t>(options.maxlen)) break;
    std::size_t index = from_tail ? size - 1 - scanned : scanned;
    if (shm::view(list[index]) != element || ++matches < rank) continue;
    found.push_back(index);
    if (options.count == -1) break;
    std::int64_t taken =
        wrapping(static_cast<std::uint64_t>(matches) - static_cast<std::uint64_t>(rank) + 1);
    if (options.count != 0 && taken >= options.count) break;
  }
  return found;
}

}  // namespace

void cmd_lset(CommandContext& ctx) {
  auto access = ctx.keyspace.write();
  Value* value = access.find(ctx.args[1]);
  if (value == nullptr) return resp::error(ctx.out, "ERR no such key");
  if (!value->is_list()) return resp::error(ctx.out, kWrongType);
  std::optional<std::int64_t> index = integer_arg(ctx, ctx.args[2]);
  if (!index) return;
  shm::List& list = value->list();
  std::optional<std::size_t> position = list_position(list.size(), *index);
  if (!position) return resp::error(ctx.out, "ERR index out of range");
  shm::String replacement = access.make_string(ctx.args[3]);
  list[*position].swap(replacement);
  resp::ok(ctx.out);
}

// LREM key count element: count > 0 removes that many from the head, < 0 from the tail, 0 all.
void cmd_lrem(CommandContext& ctx) {
  std::optional<std::int64_t> count = integer_arg(ctx, ctx.args[2]);
  if (!count) return;
  auto access = ctx.keyspace.write();
  Value* value = access.find(ctx.args[1]);
  if (value == nullptr) return resp::integer(ctx.out, 0);
  if (!value->is_list()) return resp::error(ctx.out, kWrongType);
  shm::List& list = value->list();
  // 0 and LONG_MIN (whose negation stays negative in Redis) remove every match.
  std::int64_t magnitude = *count < 0 ? wrapping(0 - static_cast<std::uint64_t>(*count)) : *count;
  std::size_t limit = magnitude <= 0 ? list.size() : static_cast<std::size_t>(magnitude);
  std::size_t removed = *count < 0 ? remove_from_tail(list, ctx.args[3], limit)
                                   : remove_from_head(list, ctx.args[3], limit);
  erase_if_empty(access, ctx.args[1], list);
  resp::integer(ctx.out, static_cast<std::int64_t>(removed));
}

// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
void cmd_lpos(CommandContext& ctx) {
  std::optional<LposOptions> options = lpos_options(ctx);
  if (!options) return;
  auto access = ctx.keyspace.read();
  Value* value = access.find(ctx.args[1]);
  bool with_count = options->count != -1;
  if (value == nullptr)
    return with_count ? resp::array_header(ctx.out, 0) : resp::null_bulk(ctx.out);
  if (!value->is_list()) return resp::error(ctx.out, kWrongType);
  std::vector<std::size_t> found = lpos_matches(value->list(), ctx.args[2], *options);
  if (!with_count) {
    if (found.empty()) return resp::null_bulk(ctx.out);
    return resp::integer(ctx.out, static_cast<std::int64_t>(found.front()));
  }
  resp::array_header(ctx.out, found.size());
  for (std::size_t index : found) resp::integer(ctx.out, static_cast<std::int64_t>(index));
}

// LTRIM key start stop: keeps [start, stop] (LRANGE's indexes); an empty range deletes the key.
void cmd_ltrim(CommandContext& ctx) {
  std::optional<std::int64_t> start = integer_arg(ctx, ctx.args[2]);
  if (!start) return;
  std::optional<std::int64_t> stop = integer_arg(ctx, ctx.args[3]);
  if (!stop) return;
  auto access = ctx.keyspace.write();
  Value* value = access.find(ctx.args[1]);
  if (value == nullptr) return resp::ok(ctx.out);
  if (!value->is_list()) return resp::error(ctx.out, kWrongType);
  shm::List& list = value->list();
  std::optional<ListRange> range = list_range(list.size(), *start, *stop);
  if (!range) {
    list.clear();
  } else {
    list.erase(list.begin() + static_cast<std::ptrdiff_t>(range->last) + 1, list.end());
    list.erase(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(range->first));
  }
  erase_if_empty(access, ctx.args[1], list);
  resp::ok(ctx.out);
}

// LINSERT key BEFORE|AFTER pivot element: inserts next to the first pivot from the head.
void cmd_linsert(CommandContext& ctx) {
  bool after = equals_ignore_case(ctx.args[2], "after");
  if (!after && !equals_ignore_case(ctx.args[2], "before")) {
    return resp::error(ctx.out, kSyntaxError);
  }
  auto access = ctx.keyspace.write();
  Value* value = access.find(ctx.args[1]);
  if (value == nullptr) return resp::integer(ctx.out, 0);
  if (!value->is_list()) return resp::error(ctx.out, kWrongType);
  shm::List& list = value->list();
  auto pivot = std::find_if(list.begin(), list.end(),
                            [&](const shm::String& e) { return shm::view(e) == ctx.args[3]; });
  if (pivot == list.end()) return resp::integer(ctx.out, -1);
  std::ptrdiff_t at = (pivot - list.begin()) + (after ? 1 : 0);
  shm::String element = access.make_string(ctx.args[4]);
  // The new element goes in at the nearer end (the last step that may allocate) and is rotated
  // into place.
  if (static_cast<std::size_t>(at) <= list.size() / 2) {
    list.push_front(std::move(element));
    std::rotate(list.begin(), list.begin() + 1, list.begin() + at + 1);
  } else {
    list.push_back(std::move(element));
    std::rotate(list.begin() + at, list.end() - 1, list.end());
  }
  resp::integer(ctx.out, static_cast<std::int64_t>(list.size()));
}

}  // namespace srv::resp_impl
