// Commands on keys of any type: DEL, EXISTS, EXPIRE, PEXPIRE, TTL, PTTL, PERSIST, TYPE, DBSIZE,
// FLUSHALL. Semantics and messages follow Redis 7.0's db.c and expire.c.

#include <limits>

#include <fmt/format.h>

#include "protocols/resp_commands_impl.h"
#include "protocols/resp_reply.h"

namespace srv::resp_impl {
namespace {

constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kInt64Min = std::numeric_limits<std::int64_t>::min();

enum ExpireFlag : unsigned { kNx = 1, kXx = 2, kGt = 4, kLt = 8 };

// EXPIRE/PEXPIRE key time [NX|XX|GT|LT] (expireGenericCommand).
void expire_generic(CommandContext& ctx, std::int64_t unit_ms) {
  unsigned flags = 0;
  for (std::size_t i = 3; i < ctx.args.size(); ++i) {
    std::string_view option = ctx.args[i];
    if (equals_ignore_case(option, "nx")) {
      flags |= kNx;
    } else if (equals_ignore_case(option, "xx")) {
      flags |= kXx;
    } else if (equals_ignore_case(option, "gt")) {
      flags |= kGt;
    } else if (equals_ignore_case(option, "lt")) {
      flags |= kLt;
    } else {
      return resp::error(ctx.out, fmt::format("ERR Unsupported option {}", c_string(option)));
    }
  }
  if ((flags & kNx) != 0 && (flags & (kXx | kGt | kLt)) != 0) {
    return resp::error(ctx.out,
                       "ERR NX and XX, GT or LT options at the same time are not compatible");
  }
  if ((flags & kGt) != 0 && (flags & kLt) != 0) {
    return resp::error(ctx.out, "ERR GT and LT options at the same time are not compatible");
  }
  std::optional<std::int64_t> when = integer_arg(ctx, ctx.args[2]);
  if (!when) return;
  // Negative times are allowed (the key is deleted); only overflow is an error.
  if (*when > kInt64Max / unit_ms || *when < kInt64Min / unit_ms) return reply_invalid_expire(ctx);
  *when *= unit_ms;
  auto access = ctx.keyspace.write();
  if (*when > kInt64Max - access.now_ms()) return reply_invalid_expire(ctx);
  *when += access.now_ms();

  Value* value = access.find(ctx.args[1]);
  if (value == nullptr) return resp::integer(ctx.out, 0);
  std::int64_t current = value->expires_at_ms;
  bool refused = ((flags & kNx) != 0 && current != kNoExpiry) ||
                 ((flags & kXx) != 0 && current == kNoExpiry) ||
                 // No expiry counts as infinite: GT never beats it, LT always does.
                 ((flags & kGt) != 0 && (current == kNoExpiry || *when <= current)) ||
                 ((flags & kLt) != 0 && current != kNoExpiry && *when >= current);
  if (refused) return resp::integer(ctx.out, 0);
  if (*when <= access.now_ms()) {
    access.erase(ctx.args[1]);
  } else {
    value->expires_at_ms = *when;
  }
  resp::integer(ctx.out, 1);
}

// TTL/PTTL: -2 without the key, -1 without an expiry, else the time left (TTL rounds).
void ttl_generic(CommandContext& ctx, bool milliseconds) {
  auto access = ctx.keyspace.read();
  const Value* value = access.find(ctx.args[1]);
  if (value == nullptr) return resp::integer(ctx.out, -2);
  if (value->expires_at_ms == kNoExpiry) return resp::integer(ctx.out, -1);
  std::int64_t left = std::max<std::int64_t>(value->expires_at_ms - access.now_ms(), 0);
  resp::integer(ctx.out, milliseconds ? left : (left + 500) / 1000);
}

}  // namespace

void cmd_del(CommandContext& ctx) {
  auto access = ctx.keyspace.write();
  std::int64_t deleted = 0;
  for (std::size_t i = 1; i < ctx.args.size(); ++i) {
    // An expired key counts as absent, as in Redis.
    if (access.find(ctx.args[i]) != nullptr && access.erase(ctx.args[i])) ++deleted;
  }
  resp::integer(ctx.out, deleted);
}

void cmd_exists(CommandContext& ctx) {
  auto access = ctx.keyspace.read();
  std::int64_t found = 0;
  for (std::size_t i = 1; i < ctx.args.size(); ++i) {
    if (access.find(ctx.args[i]) != nullptr) ++found;  // a key named twice counts twice
  }
  resp::integer(ctx.out, found);
}

void cmd_expire(CommandContext& ctx) {
  expire_generic(ctx, 1000);
}

void cmd_pexpire(CommandContext& ctx) {
  expire_generic(ctx, 1);
}

void cmd_ttl(CommandContext& ctx) {
  ttl_generic(ctx, false);
}

void cmd_pttl(CommandContext& ctx) {
  ttl_generic(ctx, true);
}

void cmd_persist(CommandContext& ctx) {
  auto access = ctx.keyspace.write();
  Value* value = access.find(ctx.args[1]);
  if (value == nullptr || value->expires_at_ms == kNoExpiry) return resp::integer(ctx.out, 0);
  value->expires_at_ms = kNoExpiry;
  resp::integer(ctx.out, 1);
}

void cmd_type(CommandContext& ctx) {
  auto access = ctx.keyspace.read();
  const Value* value = access.find(ctx.args[1]);
  resp::simple(ctx.out, value == nullptr ? "none" : value->is_list() ? "list" : "string");
}

void cmd_dbsize(CommandContext& ctx) {
  auto access = ctx.keyspace.read();
  resp::integer(ctx.out, static_cast<std::int64_t>(access.size()));
}

void cmd_flushall(CommandContext& ctx) {
  // ASYNC and SYNC are accepted; freeing is immediate either way.
  if (ctx.args.size() > 2 || (ctx.args.size() == 2 && !equals_ignore_case(ctx.args[1], "sync") &&
                              !equals_ignore_case(ctx.args[1], "async"))) {
    return resp::error(ctx.out, kSyntaxError);
  }
  ctx.keyspace.write().clear();
  resp::ok(ctx.out);
}

}  // namespace srv::resp_impl
