#include "store/watch_hub.h"

#include <utility>

namespace nanokube::store {

class WatchHandle final : public Watch {
 public:
  WatchHandle(std::weak_ptr<WatchHub> hub, uint64_t id) : hub_(std::move(hub)), id_(id) {}
  ~WatchHandle() override {
    if (auto hub = hub_.lock()) hub->remove(id_);
  }

 private:
  std::weak_ptr<WatchHub> hub_;
  uint64_t id_;
};

std::unique_ptr<Watch> WatchHub::add(std::string prefix, WatchCallback callback) {
  std::lock_guard lock(mu_);
  uint64_t id = nextId_++;
  watchers_.emplace(id, Watcher{std::move(prefix), std::move(callback)});
  return std::make_unique<WatchHandle>(weak_from_this(), id);
}

void WatchHub::deliver(const Event& event) {
  std::lock_guard lock(mu_);
  if (watchers_.empty()) return;
  // Cleared on every way out, an exception from a callback included, so that a
  // later remove() on this thread does not believe it runs inside deliver().
  struct Delivering {
    std::atomic<std::thread::id>& thread;
    explicit Delivering(std::atomic<std::thread::id>& t) : thread(t) { thread.store(std::this_thread::get_id()); }
    ~Delivering() { thread.store(std::thread::id{}); }
  };
  {
    Delivering delivering(deliveringThread_);
    for (auto& [id, watcher] : watchers_) {
      if (watcher.active && event.kv.key.starts_with(watcher.prefix)) watcher.callback(event);
    }
  }
  if (erasePending_) {
    std::erase_if(watchers_, [](const auto& entry) { return !entry.second.active; });
    erasePending_ = false;
  }
}

void WatchHub::remove(uint64_t id) {
  if (deliveringThread_.load() == std::this_thread::get_id()) {
    // Called from a callback: deliver() holds mu_ on this very thread.
    auto it = watchers_.find(id);
    if (it != watchers_.end()) it->second.active = false;
    erasePending_ = true;
    return;
  }
  std::lock_guard lock(mu_);
  watchers_.erase(id);
}

size_t WatchHub::size() const {
  std::lock_guard lock(mu_);
  return watchers_.size();
}

}  // namespace nanokube::store
