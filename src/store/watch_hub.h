#pragma once
// The registry of live watches, private to the store backends.
//
// The store calls deliver() on the writer's thread after each commit while it
// holds its writer lock, and add() while it holds the same lock right after the
// replay, which is what makes replay and live delivery gapless and duplicate-free.
// The hub only has to make unregistration safe:
//   - a Watch destroyed on another thread waits for an in-flight delivery to end,
//     so no callback runs after its destructor returns;
//   - a Watch destroyed from inside a callback (on the delivering thread) is only
//     marked inactive and erased after the delivery loop, which avoids both a
//     self-deadlock and invalidating the loop's iterator.
// Handles hold a weak_ptr, so a Watch may outlive its store.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store/store.h"

namespace nanokube::store {

class WatchHub : public std::enable_shared_from_this<WatchHub> {
 public:
  // Registers a watch on keys with `prefix`; destroying the handle unregisters it.
  std::unique_ptr<Watch> add(std::string prefix, WatchCallback callback);

  // Calls every active watch whose prefix matches the event's key, in registration order.
  void deliver(const Event& event);

  size_t size() const;

 private:
  friend class WatchHandle;

  struct Watcher {
    std::string prefix;
    WatchCallback callback;
    bool active = true;
  };

  void remove(uint64_t id);

  mutable std::mutex mu_;
  std::map<uint64_t, Watcher> watchers_;
  uint64_t nextId_ = 1;
  bool erasePending_ = false;
  // The thread inside deliver(), so that remove() can tell a callback's own call.
  std::atomic<std::thread::id> deliveringThread_{};
};

}  // namespace nanokube::store
