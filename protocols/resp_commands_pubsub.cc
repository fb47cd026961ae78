// Pub/sub: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH and PUBSUB, following Redis
// 7.0's pubsub.c in RESP2. Subscriptions live in the ClientRegistry, so a PUBLISH reaches
// subscribers served by any thread or process: it leaves the framed message in each one's
// mailbox (cutting a subscriber whose mailbox would pass pubsub_output_limit) and rings them;
// each subscriber's handler writes its mail out when woken (resp.cc).

#include <algorithm>
#include <string>
#include <vector>

#include "protocols/client_registry.h"
#include "protocols/resp_commands_impl.h"
#include "protocols/resp_reply.h"
#include "server/doorbell.h"

namespace srv::resp_impl {
namespace {

enum class Kind { kChannel, kPattern };

// [subscribe|unsubscribe|psubscribe|punsubscribe, name, subscriptions left]
void reply_subscription(Buffer& out, std::string_view verb, const std::string_view* name,
                        std::size_t count) {
  resp::array_header(out, 3);
  resp::bulk(out, verb);
  name != nullptr ? resp::bulk(out, *name) : resp::null_bulk(out);
  resp::integer(out, static_cast<std::int64_t>(count));
}

std::vector<std::string>& names_of(RespSession& session, Kind kind) {
  return kind == Kind::kChannel ? session.channels : session.patterns;
}

// Replies already in the mailbox (messages published before this command) go out first, so
// the client sees them in the order they happened: take_mail() before replying.
void subscribe_generic(CommandContext& ctx, Kind kind) {
  RespSession& session = ctx.session;
  auto access = ctx.keyspace.write();
  ClientSlot* slot = enrol(session, access);
  if (slot == nullptr) return resp::error(ctx.out, "ERR cannot subscribe: no wake-up descriptor");
  ClientRegistry& clients = access.clients();
  slot->take_mail(ctx.out);
  std::vector<std::string>& names = names_of(session, kind);
  for (std::string_view name : ctx.args.subspan(1)) {
    bool added = kind == Kind::kChannel ? clients.subscribe(session.client_id, name)
                                        : clients.psubscribe(session.client_id, name);
    if (added) names.emplace_back(name);
    reply_subscription(ctx.out, kind == Kind::kChannel ? "subscribe" : "psubscribe", &name,
                       session.channels.size() + session.patterns.size());
  }
}

void unsubscribe_one(CommandContext& ctx, ClientRegistry& clients, Kind kind,
                     std::string_view name) {
  RespSession& session = ctx.session;
  std::vector<std::string>& names = names_of(session, kind);
  auto it = std::find(names.begin(), names.end(), name);
  if (it != names.end()) {
    kind == Kind::kChannel ? clients.unsubscribe(session.client_id, name)
                           : clients.punsubscribe(session.client_id, name);
    names.erase(it);
  }
  reply_subscription(ctx.out, kind == Kind::kChannel ? "unsubscribe" : "punsubscribe", &name,
                     session.channels.size() + session.patterns.size());
}

void unsubscribe_generic(CommandContext& ctx, Kind kind) {
  RespSession& session = ctx.session;
  std::vector<std::string>& names = names_of(session, kind);
  const std::string_view verb = kind == Kind::kChannel ? "unsubscribe" : "punsubscribe";
  if (!session.enrolled) {  // never subscribed: nothing to take the lock for
    if (ctx.args.size() == 1) return reply_subscription(ctx.out, verb, nullptr, 0);
    for (std::string_view name : ctx.args.subspan(1)) reply_subscription(ctx.out, verb, &name, 0);
    return;
  }
  auto access = ctx.keyspace.write();
  ClientRegistry& clients = access.clients();
  if (ClientSlot* slot = clients.find(session.client_id)) slot->take_mail(ctx.out);
  if (ctx.args.size() > 1) {
    for (std::string_view name : ctx.args.subspan(1)) unsubscribe_one(ctx, clients, kind, name);
    return;
  }
  if (names.empty()) {
    return reply_subscription(ctx.out, verb, nullptr,
                              session.channels.size() + session.patterns.size());
  }
  const std::vector<std::string> all = names;  // unsubscribe_one edits `names`
  for (const std::string& name : all) unsubscribe_one(ctx, clients, kind, name);
}

}  // namespace

void cmd_subscribe(CommandContext& ctx) {
  subscribe_generic(ctx, Kind::kChannel);
}

void cmd_psubscribe(CommandContext& ctx) {
  subscribe_generic(ctx, Kind::kPattern);
}

void cmd_unsubscribe(CommandContext& ctx) {
  unsubscribe_generic(ctx, Kind::kChannel);
}

void cmd_punsubscribe(CommandContext& ctx) {
  unsubscribe_generic(ctx, Kind::kPattern);
}

// PUBLISH channel message: the number of subscriptions that got it, across every process.
void cmd_publish(CommandContext& ctx) {
  std::vector<WakeAddress> to_wake;
  std::size_t receivers = 0;
  {
    auto access = ctx.keyspace.write();
    receivers = access.clients().publish(ctx.args[1], ctx.args[2], ctx.settings.pubsub_output_limit,
                                         to_wake);
  }
  wake_all(to_wake);
  resp::integer(ctx.out, static_cast<std::int64_t>(receivers));
}

// PUBSUB CHANNELS [pattern]
void cmd_pubsub_channels(CommandContext& ctx) {
  if (ctx.args.size() > 3) return reply_subcommand_syntax_error(ctx);
  std::vector<std::string> names;
  {
    auto access = ctx.keyspace.read();
    const std::string_view* pattern = ctx.args.size() == 3 ? &ctx.args[2] : nullptr;
    names = std::as_const(access).clients().channels(pattern);
  }
  resp::array_header(ctx.out, names.size());
  for (const std::string& name : names) resp::bulk(ctx.out, name);
}

// PUBSUB NUMSUB [channel ...]
void cmd_pubsub_numsub(CommandContext& ctx) {
  auto access = ctx.keyspace.read();
  const ClientRegistry& clients = std::as_const(access).clients();
  resp::array_header(ctx.out, 2 * (ctx.args.size() - 2));
  for (std::string_view channel : ctx.args.subspan(2)) {
    resp::bulk(ctx.out, channel);
    resp::integer(ctx.out, static_cast<std::int64_t>(clients.subscribers(channel)));
  }
}

// PUBSUB NUMPAT
void cmd_pubsub_numpat(CommandContext& ctx) {
  auto access = ctx.keyspace.read();
  resp::integer(ctx.out, static_cast<std::int64_t>(std::as_const(access).clients().patterns()));
}

}  // namespace srv::resp_impl
