// String commands: SET, GET, MSET, MGET, INCR, DECR, INCRBY, DECRBY, APPEND, STRLEN, following
// Redis 7.0's t_string.c. Every write allocates what it stores before changing anything, so a
// full heap (bad_alloc, answered -OOM by the dispatcher) leaves the keyspace as it was.

#include <array>
#include <charconv>
#include <limits>
#include <vector>

#include "protocols/resp_commands_impl.h"
#include "protocols/resp_parser.h"
#include "protocols/resp_reply.h"

namespace srv::resp_impl {
namespace {

constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kInt64Min = std::numeric_limits<std::int64_t>::min();

enum SetFlag : unsigned {
  kNx = 1u << 0,
  kXx = 1u << 1,
  kGet = 1u << 2,
  kKeepTtl = 1u << 3,
  kEx = 1u << 4,
  kPx = 1u << 5,
  kExAt = 1u << 6,
  kPxAt = 1u << 7,
};
constexpr unsigned kAnyExpiry = kEx | kPx | kExAt | kPxAt;

// INCR, DECR, INCRBY, DECRBY: a missing key counts as 0; the expiry is kept.
void incr_decr(CommandContext& ctx, std::int64_t increment) {
  auto access = ctx.keyspace.write();
  Value* value = access.find(ctx.args[1]);
  if (value != nullptr && !value->is_string()) return resp::error(ctx.out, kWrongType);
  std::int64_t old = 0;
  if (value != nullptr) {
    std::optional<std::int64_t> parsed = parse_redis_int(shm::view(value->string()));
    if (!parsed) return resp::error(ctx.out, kNotInteger);
    old = *parsed;
  }
  if ((increment < 0 && old < 0 && increment < kInt64Min - old) ||
      (increment > 0 && old > 0 && increment > kInt64Max - old)) {
    return resp::error(ctx.out, "ERR increment or decrement would overflow");
  }
  std::int64_t result = old + increment;
  std::array<char, 24> text{};
  auto [end, ec] = std::to_chars(text.data(), text.data() + text.size(), result);
  (void)ec;
  shm::String stored =
      access.make_string({text.data(), static_cast<std::size_t>(end - text.data())});
  if (value == nullptr) value = &access.insert(ctx.args[1]);
  value->assign_string(std::move(stored));
  resp::integer(ctx.out, result);
}

}  // namespace

// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL]
void cmd_set(CommandContext& ctx) {
  unsigned flags = 0;
  std::string_view expire_arg;
  for (std::size_t j = 3; j < ctx.args.size(); ++j) {
    std::string_view option = ctx.args[j];
    bool has_next = j + 1 < ctx.args.size();
    // The same combinations Redis's parseExtendedStringArgumentsOrReply allows (a repeated EX
    // is fine, EX after PX is not).
    if (equals_ignore_case(option, "nx") && (flags & kXx) == 0) {
      flags |= kNx;
    } else if (equals_ignore_case(option, "xx") && (flags & kNx) == 0) {
      flags |= kXx;
    } else if (equals_ignore_case(option, "get")) {
      flags |= kGet;
    } else if (equals_ignore_case(option, "keepttl") && (flags & kAnyExpiry) == 0) {
      flags |= kKeepTtl;
    } else if (equals_ignore_case(option, "ex") &&
               (flags & (kKeepTtl | (kAnyExpiry & ~kEx))) == 0 && has_next) {
      flags |= kEx;
      expire_arg = ctx.args[++j];
    } else if (equals_ignore_case(option, "px") &&
               (flags & (kKeepTtl | (kAnyExpiry & ~kPx))) == 0 && has_next) {
      flags |= kPx;
      expire_arg = ctx.args[++j];
    } else if (equals_ignore_case(option, "exat") &&
               (flags & (kKeepTtl | (kAnyExpiry & ~kExAt))) == 0 && has_next) {
      flags |= kExAt;
      expire_arg = ctx.args[++j];
    } else if (equals_ignore_case(option, "pxat") &&
               (flags & (kKeepTtl | (kAnyExpiry & ~kPxAt))) == 0 && has_next) {
      flags |= kPxAt;
      expire_arg = ctx.args[++j];
    } else {
      return resp::error(ctx.out, kSyntaxError);
    }
  }
  std::int64_t expire_ms = kNoExpiry;
  bool seconds = (flags & (kEx | kExAt)) != 0;
  if ((flags & kAnyExpiry) != 0) {
    std::optional<std::int64_t> time = integer_arg(ctx, expire_arg);
    if (!time) return;
    if (*time <= 0 || (seconds && *time > kInt64Max / 1000)) return reply_invalid_expire(ctx);
    expire_ms = seconds ? *time * 1000 : *time;
  }

  auto access = ctx.keyspace.write();
  if ((flags & (kEx | kPx)) != 0) {
    if (expire_ms > kInt64Max - access.now_ms()) return reply_invalid_expire(ctx);
    expire_ms += access.now_ms();
  }
  Value* value = access.find(ctx.args[1]);
  if ((flags & kGet) != 0 && value != nullptr && !value->is_string()) {
    return resp::error(ctx.out, kWrongType);
  }
  bool refused =
      ((flags & kNx) != 0 && value != nullptr) || ((flags & kXx) != 0 && value == nullptr);
  if (refused) {
    if ((flags & kGet) != 0 && value != nullptr)
      return resp::bulk(ctx.out, shm::view(value->string()));
    return resp::null_bulk(ctx.out);
  }
  shm::String stored = access.make_string(ctx.args[2]);
  if (value == nullptr) {
    value = &access.insert(ctx.args[1]);
    if ((flags & kGet) != 0) resp::null_bulk(ctx.out);
  } else if ((flags & kGet) != 0) {
    resp::bulk(ctx.out, shm::view(value->string()));  // the old value, before the no-throw swap
  }
  if ((flags & kKeepTtl) == 0) value->expires_at_ms = expire_ms;
  value->assign_string(std::move(stored));
  if ((flags & kGet) == 0) resp::ok(ctx.out);
}

void cmd_get(CommandContext& ctx) {
  auto access = ctx.keyspace.read();
  Value* value = access.find(ctx.args[1]);
  if (value == nullptr) return resp::null_bulk(ctx.out);
  if (!value->is_string()) return resp::error(ctx.out, kWrongType);
  resp::bulk(ctx.out, shm::view(value->string()));
}

// MSET is all or nothing: values are allocated first, then the missing keys are added (and
// removed again if one does not fit), and only then are values swapped in, which cannot fail.
void cmd_mset(CommandContext& ctx) {
  if (ctx.args.size() % 2 == 0) {
    return resp::error(ctx.out, "ERR wrong number of arguments for 'mset' command");
  }
  auto access = ctx.keyspace.write();
  std::vector<shm::String> staged;
  staged.reserve(ctx.args.size() / 2);
  for (std::size_t i = 2; i < ctx.args.size(); i += 2)
    staged.push_back(access.make_string(ctx.args[i]));
  std::vector<std::string_view> added;
  try {
    for (std::size_t i = 1; i < ctx.args.size(); i += 2) {
      if (access.find(ctx.args[i]) == nullptr) {
        access.insert(ctx.args[i]);
        added.push_back(ctx.args[i]);
      }
    }
  } catch (...) {
    for (std::string_view key : added) access.erase(key);
    throw;
  }
  for (std::size_t i = 1; i < ctx.args.size(); i += 2) {
    Value* value = access.find(ctx.args[i]);
    value->expires_at_ms = kNoExpiry;
    value->assign_string(std::move(staged[i / 2]));
  }
  resp::ok(ctx.out);
}

void cmd_mget(CommandContext& ctx) {
  auto access = ctx.keyspace.read();
  resp::array_header(ctx.out, ctx.args.size() - 1);
  for (std::size_t i = 1; i < ctx.args.size(); ++i) {
    Value* value = access.find(ctx.args[i]);
    if (value != nullptr && value->is_string()) {
      resp::bulk(ctx.out, shm::view(value->string()));
    } else {
      resp::null_bulk(ctx.out);  // missing or a list: nil, not an error
    }
  }
}

void cmd_incr(CommandContext& ctx) {
  incr_decr(ctx, 1);
}

void cmd_decr(CommandContext& ctx) {
  incr_decr(ctx, -1);
}

void cmd_incrby(CommandContext& ctx) {
  if (auto increment = integer_arg(ctx, ctx.args[2])) incr_decr(ctx, *increment);
}

void cmd_decrby(CommandContext& ctx) {
  std::optional<std::int64_t> decrement = integer_arg(ctx, ctx.args[2]);
  if (!decrement) return;
  if (*decrement == kInt64Min) return resp::error(ctx.out, "ERR decrement would overflow");
  incr_decr(ctx, -*decrement);
}

void cmd_append(CommandContext& ctx) {
  auto access = ctx.keyspace.write();
  Value* value = access.find(ctx.args[1]);
  if (value == nullptr) {
    shm::String stored = access.make_string(ctx.args[2]);
    access.insert(ctx.args[1]).assign_string(std::move(stored));
    return resp::integer(ctx.out, static_cast<std::int64_t>(ctx.args[2].size()));
  }
  if (!value->is_string()) return resp::error(ctx.out, kWrongType);
  std::size_t total = value->string().size() + ctx.args[2].size();
  if (total > static_cast<std::size_t>(ctx.settings.max_bulk_length)) {
    return resp::error(ctx.out, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
  }
  value->string().append(ctx.args[2].data(), ctx.args[2].size());  // strong guarantee
  resp::integer(ctx.out, static_cast<std::int64_t>(total));
}

void cmd_strlen(CommandContext& ctx) {
  auto access = ctx.keyspace.read();
  Value* value = access.find(ctx.args[1]);
  if (value == nullptr) return resp::integer(ctx.out, 0);
  if (!value->is_string()) return resp::error(ctx.out, kWrongType);
  resp::integer(ctx.out, static_cast<std::int64_t>(value->string().size()));
}

}  // namespace srv::resp_impl
