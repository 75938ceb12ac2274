#pragma once
// A shared informer for one collection: list, then watch from the list's
// resourceVersion, keeping an in-memory cache of the objects, as client-go's
// reflector + indexer. Controllers read the cache and get keys through
// handlers; they never list the API server themselves.
//
// Behaviour (client-go's reflector):
//  - A watch that ends cleanly (the server's timeoutSeconds) is restarted from
//    the last resourceVersion seen (events and BOOKMARKs move it), so nothing
//    is missed and nothing is replayed.
//  - An ERROR event (410 Expired: the resourceVersion was compacted) or a
//    stream that does not parse forces a relist. The relist replaces the
//    cache and reports the differences: onAdd for new keys, onUpdate for
//    changed or still present ones, onDelete for keys gone while the watch was
//    down.
//  - A failed list or watch connection is retried with back-off (800 ms,
//    doubling to 30 s, with jitter), re-watching from the last resourceVersion
//    when it has one.
//
// Threading: start() runs the informer on its own threads. The handlers are
// called on those threads, one at a time, in event order, while no informer
// lock is held; they must be quick (enqueue a key into a WorkQueue) and must
// not call stop(). get(), snapshot(), hasSynced() and waitForSync() are safe
// from any thread. The handlers see the cache already updated.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <shared_mutex>
#include <string>
#include <thread>

#include "client/api_client.h"

namespace nanokube::client {

using ObjectPtr = std::shared_ptr<const Json>;
// key ("ns/name" or "name") → object. A snapshot is immutable once handed out.
using ObjectMap = std::map<std::string, ObjectPtr>;

struct InformerHandlers {
  std::function<void(const std::string& key, const ObjectPtr& obj)> onAdd;
  std::function<void(const std::string& key, const ObjectPtr& oldObj, const ObjectPtr& newObj)> onUpdate;
  // The last state known; after a relist that is the state before the watch broke.
  std::function<void(const std::string& key, const ObjectPtr& lastObj)> onDelete;
};

struct InformerOptions {
  std::string path;  // the collection: "/api/v1/pods", "/api/v1/namespaces/ns/services"
  std::string labelSelector;
  std::string fieldSelector;
  // Each watch asks the server to end it after a random time in this range,
  // as client-go does (5-10 minutes), so that watches rebalance and a
  // half-dead connection is replaced.
  int minWatchSeconds = 300;
  int maxWatchSeconds = 600;
  std::chrono::milliseconds initialBackoff{800};
  std::chrono::milliseconds maxBackoff{30'000};
  int64_t listPageSize = 500;  // `limit` of each list page; 0 lists in one answer
};

class Informer {
 public:
  // `client` must outlive the informer.
  Informer(ApiClient& client, InformerOptions options, InformerHandlers handlers = {});
  ~Informer();  // stop()s
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Starts the list+watch thread. Call once.
  void start();
  // Stops the watch and the thread; the cache stays readable. Idempotent.
  void stop();

  // True once the first list has filled the cache.
  bool hasSynced() const { return synced_; }
  // Blocks until hasSynced() or the timeout; returns hasSynced().
  bool waitForSync(std::chrono::milliseconds timeout = std::chrono::minutes(5));

  // The cached object for "ns/name" (or "name"); nullptr when absent.
  ObjectPtr get(const std::string& key) const;
  // The whole cache as an immutable map. Copied only when it changed since
  // the last snapshot, so frequent readers of a quiet cache pay nothing.
  std::shared_ptr<const ObjectMap> snapshot() const;
  size_t size() const;

  // The resourceVersion the next watch starts from.
  std::string lastResourceVersion() const;
  // How many lists were made (the first one included); relists are observable in tests.
  int listCount() const { return lists_; }

 private:
  void run();
  // Lists every page and replaces the cache; false (and back-off) on failure.
  bool relist();
  // Watches until the watch ends; true when a relist is needed.
  bool watchOnce();
  void applyEvent(std::string_view type, const Json& object);
  void upsert(const std::string& key, ObjectPtr obj);
  void erase(const std::string& key, const Json& last);
  // Sleeps for the back-off (or until stop()); doubles it.
  void backoff();
  bool sleepFor(std::chrono::milliseconds d);

  ApiClient& client_;
  InformerOptions options_;
  InformerHandlers handlers_;

  mutable std::shared_mutex cacheMu_;
  ObjectMap cache_;                                  // guarded by cacheMu_
  mutable std::shared_ptr<const ObjectMap> snap_;    // guarded by snapMu_; null when stale
  mutable std::mutex snapMu_;
  std::string resourceVersion_;                      // guarded by cacheMu_

  std::atomic<bool> synced_{false};
  std::atomic<int> lists_{0};
  std::mutex mu_;  // for the waits below
  std::condition_variable cv_;
  bool stopping_ = false;     // guarded by mu_
  bool watchEnded_ = false;   // guarded by mu_
  bool needRelist_ = false;   // guarded by mu_; set by the watch thread
  bool watchFailed_ = false;  // guarded by mu_
  std::chrono::milliseconds backoff_;
  std::mt19937 rng_{std::random_device{}()};
  std::thread thread_;
};

}  // namespace nanokube::client
