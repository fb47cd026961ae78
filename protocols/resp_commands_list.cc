// List commands at the ends and by index: LPUSH, RPUSH, LPUSHX, RPUSHX, LPOP, RPOP, LLEN,
// LRANGE, LINDEX, following Redis 7.0's t_list.c. A list that becomes empty is deleted, as in
// Redis; a push that does not fit is undone.

#include <algorithm>
#include <vector>

#include "protocols/resp_commands_list.h"
#include "protocols/resp_reply.h"

namespace srv::resp_impl {
namespace {

enum class Create { kAlways, kOnlyIfExists };  // LPUSH vs LPUSHX

void push_generic(CommandContext& ctx, End end, Create create) {
  auto access = ctx.keyspace.write();
  Value* value = access.find(ctx.args[1]);
  if (value != nullptr && !value->is_list()) return resp::error(ctx.out, kWrongType);
  if (value == nullptr && create == Create::kOnlyIfExists) return resp::integer(ctx.out, 0);
  std::size_t length = push_elements(access, ctx.args[1], value, ctx.args.subspan(2), end);
  resp::integer(ctx.out, static_cast<std::int64_t>(length));
}

// LPOP/RPOP key [count]: without count one element or nil; with count an array of up to
// `count` elements, or a nil array for a missing key.
void pop_generic(CommandContext& ctx, End end) {
  if (ctx.args.size() > 3) {
    return resp::error(
        ctx.out, "ERR wrong number of arguments for '" + std::string(ctx.spec->name) + "' command");
  }
  bool has_count = ctx.args.size() == 3;
  std::int64_t count = 0;
  if (has_count) {
    std::optional<std::int64_t> parsed =
        integer_arg(ctx, ctx.args[2], "ERR value is out of range, must be positive");
    if (!parsed) return;
    if (*parsed < 0) return resp::error(ctx.out, "ERR value is out of range, must be positive");
    count = *parsed;
  }
  auto access = ctx.keyspace.write();
  Value* value = access.find(ctx.args[1]);
  if (value == nullptr) return has_count ? resp::null_array(ctx.out) : resp::null_bulk(ctx.out);
  if (!value->is_list()) return resp::error(ctx.out, kWrongType);
  shm::List& list = value->list();
  if (!has_count) {
    pop_elements(list, end, 1, ctx.out);
  } else {
    auto n = static_cast<std::size_t>(
        std::min<std::int64_t>(count, static_cast<std::int64_t>(list.size())));
    resp::array_header(ctx.out, n);
    pop_elements(list, end, n, ctx.out);
  }
  erase_if_empty(access, ctx.args[1], list);
}

}  // namespace

std::size_t push_elements(Keyspace::Access& access, std::string_view key, Value* value,
                          std::span<const std::string_view> elements, End end) {
  std::vector<shm::String> staged;  // every allocation for the elements before any change
  staged.reserve(elements.size());
  for (std::string_view element : elements) staged.push_back(access.make_string(element));

  bool created = value == nullptr;
  if (created) {
    value = &access.insert(key);
    try {
      value->make_list();
    } catch (...) {
      access.erase(key);
      throw;
    }
  }
  shm::List& list = value->list();
  std::size_t pushed = 0;
  try {
    for (shm::String& element : staged) {
      end == End::kHead ? list.push_front(std::move(element)) : list.push_back(std::move(element));
      ++pushed;
    }
  } catch (...) {
    for (; pushed > 0; --pushed) end == End::kHead ? list.pop_front() : list.pop_back();
    if (created) access.erase(key);
    throw;
  }
  const std::size_t length = list.size();   // the reply: the length before anyone is served
  if (created) serve_blocked(access, key);  // only an absent list can have waiters
  return length;
}

void pop_elements(shm::List& list, End end, std::size_t n, Buffer& out) {
  for (std::size_t i = 0; i < n && !list.empty(); ++i) {
    if (end == End::kHead) {
      resp::bulk(out, shm::view(list.front()));
      list.pop_front();
    } else {
      resp::bulk(out, shm::view(list.back()));
      list.pop_back();
    }
  }
}

void erase_if_empty(Keyspace::Access& access, std::string_view key, shm::List& list) {
  if (list.empty()) access.erase(key);
}

void cmd_lpush(CommandContext& ctx) {
  push_generic(ctx, End::kHead, Create::kAlways);
}

void cmd_rpush(CommandContext& ctx) {
  push_generic(ctx, End::kTail, Create::kAlways);
}

void cmd_lpushx(CommandContext& ctx) {
  push_generic(ctx, End::kHead, Create::kOnlyIfExists);
}

void cmd_rpushx(CommandContext& ctx) {
  push_generic(ctx, End::kTail, Create::kOnlyIfExists);
}

void cmd_lpop(CommandContext& ctx) {
  pop_generic(ctx, End::kHead);
}

void cmd_rpop(CommandContext& ctx) {
  pop_generic(ctx, End::kTail);
}

void cmd_llen(CommandContext& ctx) {
  auto access = ctx.keyspace.read();
  Value* value = access.find(ctx.args[1]);
  if (value == nullptr) return resp::integer(ctx.out, 0);
  if (!value->is_list()) return resp::error(ctx.out, kWrongType);
  resp::integer(ctx.out, static_cast<std::int64_t>(value->list().size()));
}

void cmd_lrange(CommandContext& ctx) {
  std::optional<std::int64_t> start = integer_arg(ctx, ctx.args[2]);
  if (!start) return;
  std::optional<std::int64_t> stop = integer_arg(ctx, ctx.args[3]);
  if (!stop) return;
  auto access = ctx.keyspace.read();
  Value* value = access.find(ctx.args[1]);
  if (value == nullptr) return resp::array_header(ctx.out, 0);
  if (!value->is_list()) return resp::error(ctx.out, kWrongType);
  const shm::List& list = value->list();
  std::optional<ListRange> range = list_range(list.size(), *start, *stop);
  if (!range) return resp::array_header(ctx.out, 0);
  resp::array_header(ctx.out, range->last - range->first + 1);
  for (std::size_t i = range->first; i <= range->last; ++i) resp::bulk(ctx.out, shm::view(list[i]));
}

// LINDEX key index: Redis looks the key up before it parses the index, so a missing key answers
// nil and a string WRONGTYPE whatever the index says.
void cmd_lindex(CommandContext& ctx) {
  auto access = ctx.keyspace.read();
  Value* value = access.find(ctx.args[1]);
  if (value == nullptr) return resp::null_bulk(ctx.out);
  if (!value->is_list()) return resp::error(ctx.out, kWrongType);
  std::optional<std::int64_t> index = integer_arg(ctx, ctx.args[2]);
  if (!index) return;
  const shm::List& list = value->list();
  std::optional<std::size_t> position = list_position(list.size(), *index);
  if (!position) return resp::null_bulk(ctx.out);
  resp::bulk(ctx.out, shm::view(list[*position]));
}

}  // namespace srv::resp_impl
