// Blocking list commands: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP and CLIENT UNBLOCK, following
// Redis 7.0's t_list.c and blocked.c. A command that finds its lists empty queues the client on
// every key in the ClientRegistry and parks the connection. Whoever then pushes to such a key
// serves the queue in order, under the same lock as the push: pops for each waiting client as
// its command says, leaves the reply in its mailbox and rings it (serve_blocked). The woken
// handler, on whatever thread or process drives it, only copies the reply out (resp.cc), so no
// other client can take the element in between and no element is left in a dead letterbox: a
// client that disconnects is removed from the queues under the lock first.

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <string>

#include <spdlog/spdlog.h>

#include "protocols/client_registry.h"
#include "protocols/resp_commands_list.h"
#include "protocols/resp_reply.h"
#include "server/doorbell.h"

namespace srv::resp_impl {
namespace {

// Redis's string2ld: a long double strtold accepts whole, under 5 KiB, not starting with a
// space, not NaN, and out of range only when it overflowed or underflowed to zero.
std::optional<long double> parse_long_double(std::string_view text) {
  constexpr std::size_t kMaxChars = 5 * 1024;
  if (text.empty() || text.size() >= kMaxChars ||
      std::isspace(static_cast<unsigned char>(text[0]))) {
    return std::nullopt;
  }
  const std::string copy(text);
  char* end = nullptr;
  errno = 0;
  long double value = std::strtold(copy.c_str(), &end);
  bool range_error = errno == ERANGE && (std::isinf(value) || value == 0);
  if (end != copy.c_str() + copy.size() || range_error || errno == EINVAL || std::isnan(value)) {
    return std::nullopt;
  }
  return value;
}

// Redis 7.0's getTimeoutFromObjectOrReply in seconds: milliseconds rounded up (so -0.0001 is 0,
// no timeout). A count of milliseconds past what a long long holds converts to LLONG_MIN on the
// x86-64 Redis we compare with, so inf and 1e30 are "negative" there too; so they are here.
std::optional<std::int64_t> timeout_ms_arg(CommandContext& ctx, std::string_view text) {
  std::optional<long double> seconds = parse_long_double(text);
  if (!seconds) {
    resp::error(ctx.out, "ERR timeout is not a float or out of range");
    return std::nullopt;
  }
  constexpr long double kTwoTo63 = 9223372036854775808.0L;
  long double ms = std::ceil(*seconds * 1000.0L);
  if (ms < 0 || ms >= kTwoTo63 || std::isinf(ms)) {
    resp::error(ctx.out, "ERR timeout is negative");
    return std::nullopt;
  }
  return static_cast<std::int64_t>(ms);
}

// When a timeout of `ms` from now ends; none (max) for 0, and for one too far off for the clock
// to hold (hundreds of years), which would otherwise wrap into the past.
Clock::time_point block_deadline(std::int64_t ms) {
  const Clock::time_point now = Clock::now();
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::time_point::max() - now);
  if (ms == 0 || ms >= left.count()) return Clock::time_point::max();
  return now + std::chrono::milliseconds(ms);
}

// An upper bound of the reply a waiting client gets for `op` on `list`, so its mailbox can be
// grown before anything is popped (a pop must not be lost to a failed allocation after it).
std::size_t reply_bound(std::string_view key, const shm::List& list, const BlockedOp& op) {
  constexpr std::size_t kFraming = 32;  // "*2\r\n$<len>\r\n...\r\n" per item, generously
  std::size_t n = op.kind == BlockedOp::Kind::kMultiPop
                      ? std::min<std::size_t>(static_cast<std::size_t>(op.count), list.size())
                      : 1;
  std::size_t bytes = 2 * kFraming + key.size();
  for (std::size_t i = 0; i < n; ++i) {
    const shm::String& element = op.from == End::kHead ? list[i] : list[list.size() - 1 - i];
    bytes += element.size() + kFraming;
  }
  return bytes;
}

// Runs a served client's operation on `key` (a non-empty list), writing its reply to `out`.
void run_blocked_op(Keyspace::Access& access, std::string_view key, const BlockedOp& op,
                    std::string_view destination, Buffer& out) {
  shm::List& list = access.find(key)->list();
  switch (op.kind) {
    case BlockedOp::Kind::kPop:
      pop_one_with_key(access, key, list, op.from, out);
      break;
    case BlockedOp::Kind::kMultiPop:
      pop_with_key(access, key, list, op.from, op.count, out);
      break;
    case BlockedOp::Kind::kMove:
      // Pushing to the destination serves those waiting on it in turn.
      move_element(access, key, destination, op.from, op.to, out);
      break;
  }
}

// Parks the client on `keys`, or answers as a timeout when it cannot be woken (no doorbell:
// out of descriptors), as Redis answers a client that may not block.
void block_on(CommandContext& ctx, Keyspace::Access& access, std::span<const std::string_view> keys,
              const BlockedOp& op, std::int64_t timeout_ms, std::string_view destination = {}) {
  RespSession& session = ctx.session;
  if (enrol(session, access) == nullptr) {
    spdlog::warn("resp: client {} cannot block (no wake-up descriptor); answering as a timeout",
                 session.client_id);
    return resp::null_array(ctx.out);
  }
  access.clients().block(session.client_id, keys, op, destination);
  session.blocked = true;
  session.block_deadline = block_deadline(timeout_ms);
}

// BLPOP/BRPOP key [key ...] timeout.
void blocking_pop(CommandContext& ctx, End end) {
  std::optional<std::int64_t> timeout = timeout_ms_arg(ctx, ctx.args.back());
  if (!timeout) return;
  auto keys = ctx.args.subspan(1, ctx.args.size() - 2);
  auto access = ctx.keyspace.write();
  for (std::string_view key : keys) {
    Value* value = access.find(key);
    if (value == nullptr) continue;
    if (!value->is_list()) return resp::error(ctx.out, kWrongType);
    return pop_one_with_key(access, key, value->list(), end, ctx.out);
  }
  block_on(ctx, access, keys, BlockedOp{BlockedOp::Kind::kPop, end}, *timeout);
}

// BLMOVE/BRPOPLPUSH once its arguments are parsed.
void blocking_move(CommandContext& ctx, End from, End to, std::string_view timeout_text) {
  std::optional<std::int64_t> timeout = timeout_ms_arg(ctx, timeout_text);
  if (!timeout) return;
  std::string_view source = ctx.args[1];
  auto access = ctx.keyspace.write();
  Value* value = access.find(source);
  if (value != nullptr) {
    move_element(access, source, ctx.args[2], from, to, ctx.out);
    return;
  }
  BlockedOp op{BlockedOp::Kind::kMove, from, to};
  block_on(ctx, access, ctx.args.subspan(1, 1), op, *timeout, ctx.args[2]);
}

}  // namespace

ClientSlot* enrol(RespSession& session, Keyspace::Access& access) {
  WakeAddress address = session.waker != nullptr ? session.waker->address() : WakeAddress{};
  if (!address.valid()) return nullptr;
  ClientSlot& slot = access.clients().enrol(session.client_id, address);
  session.enrolled = true;
  return &slot;
}

void serve_blocked(Keyspace::Access& access, std::string_view key) {
  ClientRegistry& clients = access.clients();
  while (std::uint64_t id = clients.first_waiter(key)) {
    Value* value = access.find(key);
    if (value == nullptr || !value->is_list() || value->list().empty()) return;
    ClientSlot& slot = *clients.find(id);
    const BlockedOp op = slot.op;
    const std::string destination(shm::view(slot.destination));
    try {
      slot.mailbox.reserve(slot.mailbox.size() + reply_bound(key, value->list(), op));
    } catch (const std::bad_alloc&) {
      spdlog::warn("resp: no memory to serve blocked client {}; it stays blocked", id);
      return;
    }
    clients.unblock(id);  // first: serving the destination of a move must not find it again
    Buffer reply;
    try {
      run_blocked_op(access, key, op, destination, reply);
    } catch (const std::bad_alloc&) {
      resp::error(reply, kOutOfMemory);
    }
    std::string_view bytes = reply.readable();
    slot.mailbox.append(bytes.data(), bytes.size());  // reserved above: does not allocate
    wake(slot.address);
  }
}

void cmd_blpop(CommandContext& ctx) {
  blocking_pop(ctx, End::kHead);
}

void cmd_brpop(CommandContext& ctx) {
  blocking_pop(ctx, End::kTail);
}

// BRPOPLPUSH source destination timeout.
void cmd_brpoplpush(CommandContext& ctx) {
  blocking_move(ctx, End::kTail, End::kHead, ctx.args[3]);
}

// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout.
void cmd_blmove(CommandContext& ctx) {
  std::optional<End> from = end_arg(ctx, ctx.args[3]);
  if (!from) return;
  std::optional<End> to = end_arg(ctx, ctx.args[4]);
  if (!to) return;
  blocking_move(ctx, *from, *to, ctx.args[5]);
}

// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count].
// Its other arguments are checked before the timeout, as Redis's lmpopGenericCommand does.
void cmd_blmpop(CommandContext& ctx) {
  std::optional<MultiPopArgs> args = multi_pop_args(ctx, 2);
  if (!args) return;
  std::optional<std::int64_t> timeout = timeout_ms_arg(ctx, ctx.args[1]);
  if (!timeout) return;
  auto access = ctx.keyspace.write();
  if (pop_from_first_list(ctx, access, *args)) return;
  BlockedOp op{BlockedOp::Kind::kMultiPop, args->end, End::kHead, args->count};
  block_on(ctx, access, args->keys, op, *timeout);
}

// CLIENT UNBLOCK id [TIMEOUT|ERROR]: the blocked client gets the timeout's reply or an error.
// The reason is checked before the id, as Redis does.
void cmd_client_unblock(CommandContext& ctx) {
  if (ctx.args.size() > 4) return reply_subcommand_syntax_error(ctx);
  bool as_error = false;
  if (ctx.args.size() == 4) {
    if (equals_ignore_case(ctx.args[3], "error")) {
      as_error = true;
    } else if (!equals_ignore_case(ctx.args[3], "timeout")) {
      return resp::error(ctx.out, "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
    }
  }
  std::optional<std::int64_t> id = integer_arg(ctx, ctx.args[2]);
  if (!id) return;
  auto access = ctx.keyspace.write();
  ClientRegistry& clients = access.clients();
  ClientSlot* slot = *id > 0 ? clients.find(static_cast<std::uint64_t>(*id)) : nullptr;
  if (slot == nullptr || !slot->blocked) return resp::integer(ctx.out, 0);
  Buffer reply;
  as_error ? resp::error(reply, "UNBLOCKED client unblocked via CLIENT UNBLOCK")
           : resp::null_array(reply);
  slot->mailbox.append(reply.readable().data(), reply.readable().size());
  clients.unblock(static_cast<std::uint64_t>(*id));
  wake(slot->address);
  resp::integer(ctx.out, 1);
}

}  // namespace srv::resp_impl

namespace srv {

Mail collect_mail(Keyspace& keyspace, RespSession& session, std::size_t limit, Buffer& out) {
  Mail mail;
  if (!session.enrolled) return mail;
  auto access = keyspace.write();
  ClientSlot* slot = access.clients().find(session.client_id);
  if (slot == nullptr) return mail;  // forgotten by a keyspace reset
  slot->take_mail(out);
  // The subscriber's own unsent output counts against its limit too: one that never reads
  // is cut, whichever of the two fills first.
  mail.cut = slot->cut || out.size() > limit;
  mail.still_blocked = slot->blocked;
  return mail;
}

void time_out_blocked(Keyspace& keyspace, RespSession& session, Buffer& out) {
  session.blocked = false;
  session.block_deadline = Clock::time_point::max();
  auto access = keyspace.write();
  ClientRegistry& clients = access.clients();
  ClientSlot* slot = clients.find(session.client_id);
  if (slot != nullptr && !slot->blocked) {  // served (or unblocked) just before the deadline
    slot->take_mail(out);
    return;
  }
  clients.unblock(session.client_id);
  resp::null_array(out);
}

void leave_registry(Keyspace& keyspace, RespSession& session) noexcept {
  if (!session.enrolled) return;
  try {
    auto access = keyspace.write();
    access.clients().remove(session.client_id);
  } catch (const std::exception& e) {
    // An unrecoverable lock: nothing else can use the registry either.
    spdlog::error("resp: could not remove client {} from the registry: {}", session.client_id,
                  e.what());
  }
}

}  // namespace srv
