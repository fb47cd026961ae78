// List commands that take from one list and give to another key or to the client with the key:
// LMOVE, RPOPLPUSH, LMPOP, following Redis 7.0's t_list.c. The blocking commands serve a woken
// client with the same functions (resp_commands_list.h).

#include <algorithm>

#include "protocols/resp_commands_list.h"
#include "protocols/resp_reply.h"

namespace srv::resp_impl {
namespace {

// LMOVE key key from to: a rotation of one list, done with an empty slot at the far end so that
// the only allocation comes first and the element itself is swapped, never copied.
void rotate(shm::List& list, End from, End to, Buffer& out) {
  if (from == to)
    return resp::bulk(out, shm::view(from == End::kHead ? list.front() : list.back()));
  if (to == End::kHead) {
    list.emplace_front(list.get_allocator());
    list.front().swap(list.back());
    list.pop_back();
    resp::bulk(out, shm::view(list.front()));
  } else {
    list.emplace_back(list.get_allocator());
    list.back().swap(list.front());
    list.pop_front();
    resp::bulk(out, shm::view(list.back()));
  }
}

}  // namespace

std::optional<End> end_arg(CommandContext& ctx, std::string_view text) {
  if (equals_ignore_case(text, "left")) return End::kHead;
  if (equals_ignore_case(text, "right")) return End::kTail;
  resp::error(ctx.out, kSyntaxError);
  return std::nullopt;
}

void pop_one_with_key(Keyspace::Access& access, std::string_view key, shm::List& list, End end,
                      Buffer& out) {
  resp::array_header(out, 2);
  resp::bulk(out, key);
  pop_elements(list, end, 1, out);
  erase_if_empty(access, key, list);
}

void pop_with_key(Keyspace::Access& access, std::string_view key, shm::List& list, End end,
                  std::int64_t count, Buffer& out) {
  auto n = static_cast<std::size_t>(
      std::min<std::int64_t>(count, static_cast<std::int64_t>(list.size())));
  resp::array_header(out, 2);
  resp::bulk(out, key);
  resp::array_header(out, n);
  pop_elements(list, end, n, out);
  erase_if_empty(access, key, list);
}

MoveResult move_element(Keyspace::Access& access, std::string_view source,
                        std::string_view destination, End from, End to, Buffer& out) {
  Value* src = access.find(source);
  if (src == nullptr) {
    resp::null_bulk(out);
    return MoveResult::kSourceMissing;
  }
  // Node-based table: finding (and so dropping an expired) destination leaves `src` valid.
  Value* dst = access.find(destination);
  if (!src->is_list() || (dst != nullptr && !dst->is_list())) {
    resp::error(out, kWrongType);
    return MoveResult::kTypeMismatch;
  }
  shm::List& src_list = src->list();
  if (dst == src) {
    rotate(src_list, from, to, out);
    return MoveResult::kMoved;
  }
  bool created = dst == nullptr;
  try {
    if (created) {
      dst = &access.insert(destination);
      dst->make_list();
    }
    shm::List& list = dst->list();
    to == End::kHead ? list.emplace_front(list.get_allocator())
                     : list.emplace_back(list.get_allocator());
  } catch (...) {
    if (created) access.erase(destination);
    throw;
  }
  shm::List& dst_list = dst->list();
  shm::String& slot = to == End::kHead ? dst_list.front() : dst_list.back();
  slot.swap(from == End::kHead ? src_list.front() : src_list.back());
  from == End::kHead ? src_list.pop_front() : src_list.pop_back();
  resp::bulk(out, shm::view(slot));
  erase_if_empty(access, source, src_list);
  if (created) serve_blocked(access, destination);
  return MoveResult::kMoved;
}

std::optional<MultiPopArgs> multi_pop_args(CommandContext& ctx, std::size_t numkeys_index) {
  constexpr std::string_view kBadNumkeys = "ERR numkeys should be greater than 0";
  std::optional<std::int64_t> numkeys = integer_arg(ctx, ctx.args[numkeys_index], kBadNumkeys);
  if (!numkeys) return std::nullopt;
  if (*numkeys < 1) {
    resp::error(ctx.out, kBadNumkeys);
    return std::nullopt;
  }
  // The keys and LEFT|RIGHT must follow numkeys (Redis: "where" past the end is a syntax error).
  auto after_numkeys = static_cast<std::int64_t>(ctx.args.size() - numkeys_index - 1);
  if (*numkeys >= after_numkeys) {
    resp::error(ctx.out, kSyntaxError);
    return std::nullopt;
  }
  MultiPopArgs args;
  args.keys = ctx.args.subspan(numkeys_index + 1, static_cast<std::size_t>(*numkeys));
  std::size_t where = numkeys_index + 1 + args.keys.size();
  std::optional<End> end = end_arg(ctx, ctx.args[where]);
  if (!end) return std::nullopt;
  args.end = *end;
  bool has_count = false;
  for (std::size_t i = where + 1; i < ctx.args.size(); ++i) {
    if (has_count || !equals_ignore_case(ctx.args[i], "count") || i + 1 == ctx.args.size()) {
      resp::error(ctx.out, kSyntaxError);
      return std::nullopt;
    }
    constexpr std::string_view kBadCount = "ERR count should be greater than 0";
    std::optional<std::int64_t> count = integer_arg(ctx, ctx.args[++i], kBadCount);
    if (!count) return std::nullopt;
    if (*count < 1) {
      resp::error(ctx.out, kBadCount);
      return std::nullopt;
    }
    args.count = *count;
    has_count = true;
  }
  return args;
}

void cmd_lmove(CommandContext& ctx) {
  std::optional<End> from = end_arg(ctx, ctx.args[3]);
  if (!from) return;
  std::optional<End> to = end_arg(ctx, ctx.args[4]);
  if (!to) return;
  auto access = ctx.keyspace.write();
  move_element(access, ctx.args[1], ctx.args[2], *from, *to, ctx.out);
}

void cmd_rpoplpush(CommandContext& ctx) {
  auto access = ctx.keyspace.write();
  move_element(access, ctx.args[1], ctx.args[2], End::kTail, End::kHead, ctx.out);
}

// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]: pops from the first non-empty list.
void cmd_lmpop(CommandContext& ctx) {
  std::optional<MultiPopArgs> args = multi_pop_args(ctx, 1);
  if (!args) return;
  auto access = ctx.keyspace.write();
  if (!pop_from_first_list(ctx, access, *args)) resp::null_array(ctx.out);
}

bool pop_from_first_list(CommandContext& ctx, Keyspace::Access& access, const MultiPopArgs& args) {
  for (std::string_view key : args.keys) {
    Value* value = access.find(key);
    if (value == nullptr) continue;
    if (!value->is_list()) {
      resp::error(ctx.out, kWrongType);
    } else {
      pop_with_key(access, key, value->list(), args.end, args.count, ctx.out);
    }
    return true;
  }
  return false;
}

}  // namespace srv::resp_impl
