#pragma once
// A rate-limited work queue of object keys, as client-go's util/workqueue:
// event handlers add() keys, workers get() one, reconcile it, then done() it;
// on failure they addRateLimited() it (exponential back-off per key), on
// success forget() it.
//
// Guarantees (the same as client-go's): a key is queued at most once however
// often it is added (dedup); a key is never handed to two workers at once: one
// added while it is being processed is queued again when done() is called;
// keys come out in the order they were first added.
//
// Threading: every method is safe from any thread; get() blocks.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <vector>

namespace nanokube::client {

// The time source for delayed adds, injected so that tests control it.
class WorkQueueClock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~WorkQueueClock() = default;
  virtual TimePoint now() const = 0;
};

// std::chrono::steady_clock.
std::shared_ptr<WorkQueueClock> realClock();

// A clock that moves only when told (thread-safe).
class FakeClock : public WorkQueueClock {
 public:
  TimePoint now() const override;
  void advance(std::chrono::nanoseconds d);

 private:
  mutable std::mutex mu_;
  TimePoint now_{};
};

// client-go's ItemExponentialFailureRateLimiter: the n-th consecutive failure
// of a key waits base * 2^(n-1), capped at max. Pure and not thread-safe on
// its own (the WorkQueue guards it).
class ExponentialBackoff {
 public:
  // client-go's DefaultControllerRateLimiter uses 5 ms and 1000 s.
  static constexpr std::chrono::milliseconds kDefaultBase{5};
  static constexpr std::chrono::seconds kDefaultMax{1000};

  ExponentialBackoff(std::chrono::nanoseconds base = kDefaultBase, std::chrono::nanoseconds max = kDefaultMax)
      : base_(base), max_(max) {}
  // The delay for the key's next retry; counts the failure.
  std::chrono::nanoseconds when(const std::string& key);
  void forget(const std::string& key) { failures_.erase(key); }
  int numRequeues(const std::string& key) const;

 private:
  std::chrono::nanoseconds base_, max_;
  std::map<std::string, int> failures_;
};

class WorkQueue {
 public:
  explicit WorkQueue(std::shared_ptr<WorkQueueClock> clock = realClock(), ExponentialBackoff backoff = {});
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Queues `key` unless it is already queued. Ignored after shutDown().
  void add(const std::string& key);
  // Queues `key` once `delay` has passed on the clock (add() at once for <= 0).
  void addAfter(const std::string& key, std::chrono::nanoseconds delay);
  // addAfter() with the key's next back-off delay.
  void addRateLimited(const std::string& key);
  // Resets the key's back-off (call after a successful reconcile).
  void forget(const std::string& key);
  int numRequeues(const std::string& key) const;

  // The next key, blocking until there is one; nullopt once shut down and
  // drained. The caller must call done(key) when finished with it.
  std::optional<std::string> get();
  // get() without blocking: nullopt when nothing is ready now.
  std::optional<std::string> tryGet();
  void done(const std::string& key);

  // Wakes every get(); later adds are ignored. Keys already queued are still
  // handed out (workers drain them), delayed ones are dropped.
  void shutDown();
  bool shuttingDown() const;

  // Keys ready to be handed out (delayed keys whose time has come included).
  size_t len();
  // Keys waiting for their delay.
  size_t waiting();

 private:
  using TimePoint = WorkQueueClock::TimePoint;
  struct Delayed {
    TimePoint readyAt;
    uint64_t seq;  // FIFO among equal times
    std::string key;
    bool operator>(const Delayed& o) const { return readyAt != o.readyAt ? readyAt > o.readyAt : seq > o.seq; }
  };

  void addLocked(const std::string& key);
  // Moves the delayed keys whose time has come into the queue.
  void promoteLocked();
  std::optional<std::string> popLocked();

  std::shared_ptr<WorkQueueClock> clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::set<std::string> dirty_;  // queued, or to be queued again at done()
  std::set<std::string> processing_;
  std::priority_queue<Delayed, std::vector<Delayed>, std::greater<>> delayed_;
  // The earliest pending time per delayed key; heap entries that disagree are stale.
  std::map<std::string, TimePoint> delayedAt_;
  uint64_t seq_ = 0;
  ExponentialBackoff backoff_;
  bool shuttingDown_ = false;
};

}  // namespace nanokube::client
