#include "protocols/client_registry.h"

#include <algorithm>
#include <string>
#include <tuple>
#include <utility>

#include "protocols/glob.h"
#include "protocols/resp_reply.h"

namespace srv {
namespace {

// A RESP2 array of bulk strings, as Redis frames pushed messages.
Buffer push_frame(std::initializer_list<std::string_view> parts) {
  Buffer out;
  resp::array_header(out, parts.size());
  for (std::string_view part : parts) resp::bulk(out, part);
  return out;
}

}  // namespace

ClientRegistry::ClientRegistry(shm::SegmentManager* segment, const KeyHash& hash)
    : segment_(segment),
      clients_(0, std::hash<std::uint64_t>{}, std::equal_to<std::uint64_t>{},
               shm::Allocator<std::pair<const std::uint64_t, ClientSlot>>(segment)),
      waiting_(0, hash, KeyEqual{},
               shm::Allocator<std::pair<const shm::String, shm::Ids>>(segment)),
      channels_(0, hash, KeyEqual{},
                shm::Allocator<std::pair<const shm::String, shm::Ids>>(segment)),
      patterns_(0, hash, KeyEqual{},
                shm::Allocator<std::pair<const shm::String, shm::Ids>>(segment)) {}

shm::String ClientRegistry::make_string(std::string_view bytes) {
  return shm::String(bytes.data(), bytes.size(), shm::Allocator<char>(segment_.get()));
}

ClientSlot& ClientRegistry::enrol(std::uint64_t client, const WakeAddress& address) {
  auto [it, inserted] = clients_.try_emplace(client, shm::Allocator<char>(segment_.get()));
  if (inserted) it->second.address = address;
  return it->second;
}

ClientSlot* ClientRegistry::find(std::uint64_t client) {
  auto it = clients_.find(client);
  return it == clients_.end() ? nullptr : &it->second;
}

void ClientRegistry::remove(std::uint64_t client) {
  auto it = clients_.find(client);
  if (it == clients_.end()) return;
  unblock(client);
  if (it->second.channels + it->second.patterns > 0) {
    for (Queues* queues : {&channels_, &patterns_}) {
      for (auto q = queues->begin(); q != queues->end();) {
        auto& ids = q->second;
        ids.erase(std::remove(ids.begin(), ids.end(), client), ids.end());
        q = ids.empty() ? queues->erase(q) : std::next(q);
      }
    }
  }
  clients_.erase(it);
}

bool ClientRegistry::add_to(Queues& queues, std::string_view name, std::uint64_t client) {
  auto it = queues.find(name, queues.hash_function(), KeyEqual{});
  if (it == queues.end()) {
    shm::SegmentManager* segment = queues.get_allocator().get_segment_manager();
    shm::String key(name.data(), name.size(), shm::Allocator<char>(segment));
    it = queues.try_emplace(std::move(key), shm::Allocator<std::uint64_t>(segment)).first;
  }
  shm::Ids& ids = it->second;
  if (std::find(ids.begin(), ids.end(), client) != ids.end()) return false;
  try {
    ids.push_back(client);
  } catch (...) {
    if (ids.empty()) queues.erase(it);
    throw;
  }
  return true;
}

bool ClientRegistry::remove_from(Queues& queues, std::string_view name, std::uint64_t client) {
  auto it = queues.find(name, queues.hash_function(), KeyEqual{});
  if (it == queues.end()) return false;
  shm::Ids& ids = it->second;
  auto found = std::find(ids.begin(), ids.end(), client);
  if (found == ids.end()) return false;
  ids.erase(found);  // keeps the order of those behind: FIFO
  if (ids.empty()) queues.erase(it);
  return true;
}

void ClientRegistry::block(std::uint64_t client, std::span<const std::string_view> keys,
                           const BlockedOp& op, std::string_view destination) {
  ClientSlot& slot = clients_.at(client);
  try {
    slot.keys.clear();
    for (std::string_view key : keys) {
      // BLPOP a a: Redis queues the client once per key.
      if (add_to(waiting_, key, client)) slot.keys.push_back(make_string(key));
    }
    slot.destination = make_string(destination);
  } catch (...) {
    for (const shm::String& key : slot.keys) remove_from(waiting_, shm::view(key), client);
    slot.keys.clear();
    throw;
  }
  slot.op = op;
  slot.blocked = true;
  ++blocked_;
}

void ClientRegistry::unblock(std::uint64_t client) {
  ClientSlot* slot = find(client);
  if (slot == nullptr || !slot->blocked) return;
  for (const shm::String& key : slot->keys) remove_from(waiting_, shm::view(key), client);
  slot->keys.clear();
  slot->blocked = false;
  --blocked_;
}

std::uint64_t ClientRegistry::first_waiter(std::string_view key) const {
  auto it = waiting_.find(key, waiting_.hash_function(), KeyEqual{});
  return it == waiting_.end() || it->second.empty() ? 0 : it->second.front();
}

bool ClientRegistry::subscribe(std::uint64_t client, std::string_view channel) {
  if (!add_to(channels_, channel, client)) return false;
  ++clients_.at(client).channels;
  return true;
}

bool ClientRegistry::psubscribe(std::uint64_t client, std::string_view pattern) {
  if (!add_to(patterns_, pattern, client)) return false;
  ++clients_.at(client).patterns;
  return true;
}

bool ClientRegistry::unsubscribe(std::uint64_t client, std::string_view channel) {
  if (!remove_from(channels_, channel, client)) return false;
  --clients_.at(client).channels;
  return true;
}

bool ClientRegistry::punsubscribe(std::uint64_t client, std::string_view pattern) {
  if (!remove_from(patterns_, pattern, client)) return false;
  --clients_.at(client).patterns;
  return true;
}

bool ClientRegistry::deliver(ClientSlot& slot, std::string_view bytes, std::size_t limit) {
  if (slot.cut) return false;
  if (slot.mailbox.size() + bytes.size() <= limit) {
    try {
      slot.mailbox.append(bytes.data(), bytes.size());
      return true;
    } catch (const std::bad_alloc&) {
      // The shared heap is full: the slowest reader gives its memory back, as at the limit.
    }
  }
  slot.cut = true;
  shm::String freed(slot.mailbox.get_allocator());
  slot.mailbox.swap(freed);
  return false;
}

std::size_t ClientRegistry::publish(std::string_view channel, std::string_view message,
                                    std::size_t limit, std::vector<WakeAddress>& wake) {
  std::size_t receivers = 0;
  auto send = [&](std::uint64_t client, std::string_view frame) {
    ClientSlot* slot = find(client);
    if (slot == nullptr) return;
    ++receivers;
    deliver(*slot, frame, limit);
    wake.push_back(slot->address);
  };
  auto it = channels_.find(channel, channels_.hash_function(), KeyEqual{});
  if (it != channels_.end()) {
    const Buffer frame = push_frame({"message", channel, message});
    for (std::uint64_t client : it->second) send(client, frame.readable());
  }
  for (const auto& [pattern, clients] : patterns_) {
    if (!glob_match(shm::view(pattern), channel)) continue;
    const Buffer frame = push_frame({"pmessage", shm::view(pattern), channel, message});
    for (std::uint64_t client : clients) send(client, frame.readable());
  }
  return receivers;
}

std::vector<std::string> ClientRegistry::channels(const std::string_view* pattern) const {
  std::vector<std::string> names;
  for (const auto& entry : channels_) {
    std::string_view name = shm::view(entry.first);
    if (pattern == nullptr || glob_match(*pattern, name)) names.emplace_back(name);
  }
  return names;
}

std::size_t ClientRegistry::subscribers(std::string_view channel) const {
  auto it = channels_.find(channel, channels_.hash_function(), KeyEqual{});
  return it == channels_.end() ? 0 : it->second.size();
}

}  // namespace srv
