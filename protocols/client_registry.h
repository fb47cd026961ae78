#pragma once

// What resp connections know of each other, kept beside the keys in the keyspace's shared heap so
// that a connection in one process can serve one in another: who waits on which list (BLPOP),
// who listens on which channel or pattern (SUBSCRIBE), and, for each such client, a mailbox where
// the others leave its replies and the address to ring when they do. A client that neither blocks
// nor subscribes has no entry and costs nothing here.
//
// Every call must be made with the keyspace's write lock held (a Keyspace::Access from write()):
// that one lock orders a push, the pops it serves and the replies it leaves, across processes.
// A keyspace reset after a dead writer (see keyspace.h) forgets the registry with the keys.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include <boost/container/vector.hpp>

#include "protocols/keyspace.h"
#include "server/buffer.h"
#include "server/waker.h"

namespace srv {

namespace shm {
template <class T>
using Vector = boost::container::vector<T, Allocator<T>>;
using Ids = Vector<std::uint64_t>;
}  // namespace shm

/// Which end of a list.
enum class End : std::uint8_t { kHead, kTail };

/// What a blocked client does once a list it waits on has elements; the one who pushed does it on
/// the client's behalf, under the lock, so nobody else can take the element in between.
struct BlockedOp {
  enum class Kind : std::uint8_t {
    kPop,       ///< BLPOP/BRPOP: pop one from `from`; reply [key, element]
    kMove,      ///< BLMOVE/BRPOPLPUSH: pop from `from`, push to `to` of `destination`; reply it
    kMultiPop,  ///< BLMPOP: pop up to `count` from `from`; reply [key, [elements]]
  };
  Kind kind = Kind::kPop;
  End from = End::kHead;
  End to = End::kHead;
  std::int64_t count = 1;
};

/// One client known to the registry. Lives in the shared heap.
struct ClientSlot {
  explicit ClientSlot(const shm::Allocator<char>& allocator)
      : mailbox(allocator), keys(allocator), destination(allocator) {}

  WakeAddress address;
  /// Reply bytes left by other clients, delivered to the connection on its next wake.
  shm::String mailbox;
  /// Set when the mailbox overflowed its limit: the connection is to be closed, as Redis closes
  /// a subscriber past client-output-buffer-limit pubsub.
  bool cut = false;

  /// Blocked: waiting on `keys` to do `op` (destination: BLMOVE's). Cleared when served,
  /// unblocked or timed out.
  bool blocked = false;
  BlockedOp op;
  shm::Vector<shm::String> keys;
  shm::String destination;

  /// Channels and patterns subscribed to.
  std::uint32_t channels = 0;
  std::uint32_t patterns = 0;

  /// Moves the mailbox's bytes to `out`, giving a burst's memory back to the shared heap.
  void take_mail(Buffer& out) {
    out.append(shm::view(mailbox));
    mailbox.clear();
    if (mailbox.capacity() > 4096) {
      shm::String freed(mailbox.get_allocator());
      mailbox.swap(freed);
    }
  }
};

class ClientRegistry {
 public:
  ClientRegistry(shm::SegmentManager* segment, const KeyHash& hash);

  /// The client's entry, made if absent with `address`. Throws bad_alloc (registry unchanged).
  ClientSlot& enrol(std::uint64_t client, const WakeAddress& address);
  /// The client's entry, or nullptr.
  ClientSlot* find(std::uint64_t client);
  /// Forgets the client: its waits, subscriptions and mailbox. Never allocates.
  void remove(std::uint64_t client);

  /// Queues an enrolled client behind those already waiting on each of `keys` (FIFO, as Redis
  /// serves them) and marks it blocked. Throws bad_alloc with the client not blocked.
  void block(std::uint64_t client, std::span<const std::string_view> keys, const BlockedOp& op,
             std::string_view destination);
  /// Takes a blocked client out of every queue and clears its blocked state. Never allocates.
  void unblock(std::uint64_t client);
  /// The first client waiting on `key`, or 0.
  std::uint64_t first_waiter(std::string_view key) const;
  /// Clients blocked now, across processes (INFO blocked_clients).
  std::size_t blocked_clients() const { return blocked_; }

  /// Adds a subscription; false if the client already had it. Throws bad_alloc.
  bool subscribe(std::uint64_t client, std::string_view channel);
  bool psubscribe(std::uint64_t client, std::string_view pattern);
  /// Removes a subscription; false if the client did not have it. Never allocates.
  bool unsubscribe(std::uint64_t client, std::string_view channel);
  bool punsubscribe(std::uint64_t client, std::string_view pattern);

  /// Leaves `message(channel)` (or `pmessage(pattern, channel)`) in the mailbox of every
  /// subscriber of `channel` and of every pattern matching it, and adds each one's address to
  /// `wake`. A mailbox that would pass `limit` bytes is emptied and its client cut. Returns the
  /// number of receivers, as PUBLISH does.
  std::size_t publish(std::string_view channel, std::string_view message, std::size_t limit,
                      std::vector<WakeAddress>& wake);

  /// Channels with at least one subscriber, matching `pattern` if given (PUBSUB CHANNELS).
  std::vector<std::string> channels(const std::string_view* pattern) const;
  /// Subscribers of `channel` (PUBSUB NUMSUB).
  std::size_t subscribers(std::string_view channel) const;
  /// Distinct patterns subscribed to (PUBSUB NUMPAT).
  std::size_t patterns() const { return patterns_.size(); }

 private:
  using Queues = boost::unordered_map<shm::String, shm::Ids, KeyHash, KeyEqual,
                                      shm::Allocator<std::pair<const shm::String, shm::Ids>>>;
  using Clients = boost::unordered_map<std::uint64_t, ClientSlot, std::hash<std::uint64_t>,
                                       std::equal_to<std::uint64_t>,
                                       shm::Allocator<std::pair<const std::uint64_t, ClientSlot>>>;

  static bool add_to(Queues& queues, std::string_view name, std::uint64_t client);
  static bool remove_from(Queues& queues, std::string_view name, std::uint64_t client);
  bool deliver(ClientSlot& slot, std::string_view bytes, std::size_t limit);
  shm::String make_string(std::string_view bytes);

  boost::interprocess::offset_ptr<shm::SegmentManager> segment_;
  Clients clients_;
  Queues waiting_;   // list key -> clients blocked on it, first come first
  Queues channels_;  // channel -> subscribers
  Queues patterns_;  // pattern -> subscribers
  std::size_t blocked_ = 0;
};

}  // namespace srv
