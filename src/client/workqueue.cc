#include "client/workqueue.h"

namespace nanokube::client {

namespace {

class RealClock : public WorkQueueClock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
};

}  // namespace

std::shared_ptr<WorkQueueClock> realClock() {
  static auto clock = std::make_shared<RealClock>();
  return clock;
}

FakeClock::TimePoint FakeClock::now() const {
  std::lock_guard lock(mu_);
  return now_;
}

void FakeClock::advance(std::chrono::nanoseconds d) {
  std::lock_guard lock(mu_);
  now_ += d;
}

std::chrono::nanoseconds ExponentialBackoff::when(const std::string& key) {
  int n = failures_[key]++;
  // Doubling in floating point cannot overflow; past the cap the exact value does not matter.
  double delay = static_cast<double>(base_.count());
  for (int i = 0; i < n && delay < static_cast<double>(max_.count()); ++i) delay *= 2;
  if (delay >= static_cast<double>(max_.count())) return max_;
  return std::chrono::nanoseconds(static_cast<int64_t>(delay));
}

int ExponentialBackoff::numRequeues(const std::string& key) const {
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

WorkQueue::WorkQueue(std::shared_ptr<WorkQueueClock> clock, ExponentialBackoff backoff)
    : clock_(std::move(clock)), backoff_(std::move(backoff)) {}

WorkQueue::~WorkQueue() { shutDown(); }

void WorkQueue::addLocked(const std::string& key) {
  if (shuttingDown_ || dirty_.contains(key)) return;
  dirty_.insert(key);
  // A key being processed goes back into the queue at done(), so that two
  // workers never hold it at once.
  if (processing_.contains(key)) return;
  queue_.push_back(key);
  cv_.notify_one();
}

void WorkQueue::add(const std::string& key) {
  std::lock_guard lock(mu_);
  addLocked(key);
}

void WorkQueue::addAfter(const std::string& key, std::chrono::nanoseconds delay) {
  std::lock_guard lock(mu_);
  if (shuttingDown_) return;
  if (delay <= std::chrono::nanoseconds::zero()) {
    addLocked(key);
    return;
  }
  TimePoint readyAt = clock_->now() + delay;
  auto it = delayedAt_.find(key);
  // As client-go's delaying queue: a key already waiting keeps the earlier time.
  if (it != delayedAt_.end() && it->second <= readyAt) return;
  delayedAt_[key] = readyAt;
  delayed_.push(Delayed{readyAt, seq_++, key});
  // A blocked get() recomputes how long to sleep.
  cv_.notify_all();
}

void WorkQueue::addRateLimited(const std::string& key) {
  std::chrono::nanoseconds delay;
  {
    std::lock_guard lock(mu_);
    delay = backoff_.when(key);
  }
  addAfter(key, delay);
}

void WorkQueue::forget(const std::string& key) {
  std::lock_guard lock(mu_);
  backoff_.forget(key);
}

int WorkQueue::numRequeues(const std::string& key) const {
  std::lock_guard lock(mu_);
  return backoff_.numRequeues(key);
}

void WorkQueue::promoteLocked() {
  if (delayed_.empty()) return;
  TimePoint now = clock_->now();
  while (!delayed_.empty() && delayed_.top().readyAt <= now) {
    Delayed d = delayed_.top();
    delayed_.pop();
    auto it = delayedAt_.find(d.key);
    if (it == delayedAt_.end() || it->second != d.readyAt) continue;  // superseded by an earlier time
    delayedAt_.erase(it);
    addLocked(d.key);
  }
}

std::optional<std::string> WorkQueue::popLocked() {
  promoteLocked();
  if (queue_.empty()) return std::nullopt;
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  processing_.insert(key);
  dirty_.erase(key);
  return key;
}

std::optional<std::string> WorkQueue::get() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (auto key = popLocked()) return key;
    if (shuttingDown_) return std::nullopt;
    if (delayed_.empty()) {
      cv_.wait(lock);
    } else {
      // Sleep on the real clock for as long as the queue's clock says is left;
      // an injected clock that is advanced is seen at the next add or wake-up.
      auto left = delayed_.top().readyAt - clock_->now();
      cv_.wait_for(lock, std::max<std::chrono::nanoseconds>(left, std::chrono::milliseconds(1)));
    }
  }
}

std::optional<std::string> WorkQueue::tryGet() {
  std::lock_guard lock(mu_);
  return popLocked();
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard lock(mu_);
  processing_.erase(key);
  if (dirty_.contains(key)) {
    queue_.push_back(key);
    cv_.notify_one();
  }
}

void WorkQueue::shutDown() {
  std::lock_guard lock(mu_);
  shuttingDown_ = true;
  delayed_ = {};
  delayedAt_.clear();
  cv_.notify_all();
}

bool WorkQueue::shuttingDown() const {
  std::lock_guard lock(mu_);
  return shuttingDown_;
}

size_t WorkQueue::len() {
  std::lock_guard lock(mu_);
  promoteLocked();
  return queue_.size();
}

size_t WorkQueue::waiting() {
  std::lock_guard lock(mu_);
  return delayedAt_.size();
}

}  // namespace nanokube::client
