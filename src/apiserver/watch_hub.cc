#include "apiserver/watch_hub.h"

#include "apiserver/handler.h"

namespace nanokube::apiserver {

const std::string& SharedObject::json() const {
  std::call_once(text_->once, [this] { text_->text = dumpJson(*object_); });
  return text_->text;
}

class WatchHub::Subscription : public store::Watch {
 public:
  Subscription(WatchHub* hub, std::list<Subscriber>::iterator it) : hub_(hub), it_(it) {}
  ~Subscription() override { hub_->unsubscribe(it_); }

 private:
  WatchHub* hub_;
  std::list<Subscriber>::iterator it_;
};

Result<std::unique_ptr<WatchHub>> WatchHub::start(store::Store& store, std::string prefix, Decode decode,
                                                  size_t ringSize) {
  int64_t rev = store.revision();
  std::unique_ptr<WatchHub> hub(new WatchHub(std::move(decode), ringSize, rev));
  WatchHub* h = hub.get();
  auto w = store.watch(prefix, rev, [h](const store::Event& ev) {
    {
      std::lock_guard lock(h->mu_);
      h->pending_.push_back(ev);
    }
    h->cv_.notify_one();
  });
  if (!w) return std::unexpected(w.error());
  hub->storeWatch_ = std::move(*w);
  hub->thread_ = std::thread([h] { h->run(); });
  return hub;
}

WatchHub::WatchHub(Decode decode, size_t ringSize, int64_t startRevision)
    : decode_(std::move(decode)), ringSize_(ringSize), ringFloor_(startRevision), processed_(startRevision) {}

WatchHub::~WatchHub() {
  storeWatch_.reset();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void WatchHub::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
    if (stopping_) return;
    store::Event raw = std::move(pending_.front());
    pending_.pop_front();
    // Decoding happens outside the lock: subscribers may register meanwhile,
    // and they see this event through the `processed_` check below.
    lock.unlock();
    auto ev = std::make_shared<HubEvent>();
    ev->type = raw.type;
    ev->revision = raw.kv.modRevision;
    ev->key = raw.kv.key;
    ev->object = SharedObject(decode_(raw.kv));
    if (raw.prev && raw.type == store::Event::Type::kPut) {
      ev->prev = std::make_shared<const SharedObject>(decode_(*raw.prev));
    }
    lock.lock();
    ring_.push_back(ev);
    if (ring_.size() > ringSize_) {
      ringFloor_ = ring_.front()->revision;
      ring_.pop_front();
    }
    processed_ = ev->revision;
    for (auto& sub : subscribers_) {
      if (ev->revision > sub.from && ev->key.compare(0, sub.keyPrefix.size(), sub.keyPrefix) == 0) {
        sub.callback(*ev);
      }
    }
  }
}

std::unique_ptr<store::Watch> WatchHub::subscribe(const std::string& keyPrefix, int64_t from, Callback callback) {
  std::lock_guard lock(mu_);
  if (from < ringFloor_) return nullptr;
  for (const auto& ev : ring_) {
    if (ev->revision > from && ev->key.compare(0, keyPrefix.size(), keyPrefix) == 0) callback(*ev);
  }
  // Events still pending have revisions above processed_; the subscriber skips
  // what it has already seen through `from`.
  auto it = subscribers_.insert(subscribers_.end(), Subscriber{keyPrefix, std::max(from, processed_), std::move(callback)});
  return std::make_unique<Subscription>(this, it);
}

void WatchHub::unsubscribe(std::list<Subscriber>::iterator it) {
  std::lock_guard lock(mu_);
  subscribers_.erase(it);
}

}  // namespace nanokube::apiserver
