#pragma once
// One store watch per resource, shared by every API watch of that resource.
//
// The store runs watch callbacks on its writer thread, under its writer lock; a
// callback per API watcher that decodes the object would make every create wait
// for all watchers. The hub's store callback only queues the raw event; the hub's
// own thread decodes it once, keeps the last events in a ring for watchers that
// resume from a recent resourceVersion, and fans the shared, decoded event out to
// the subscribers (which only queue it for their connection).

#include <condition_variable>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/error.h"
#include "store/store.h"

namespace nanokube::apiserver {

// A decoded object shared by every watcher that receives it; its JSON text is
// made at most once.
class SharedObject {
 public:
  explicit SharedObject(Json object) : object_(std::make_shared<const Json>(std::move(object))) {}
  const Json& object() const { return *object_; }
  const std::string& json() const;

 private:
  std::shared_ptr<const Json> object_;
  struct Text {
    std::once_flag once;
    std::string text;
  };
  std::shared_ptr<Text> text_ = std::make_shared<Text>();
};

struct HubEvent {
  store::Event::Type type = store::Event::Type::kPut;
  int64_t revision = 0;
  std::string key;
  SharedObject object{Json::object()};
  std::shared_ptr<const SharedObject> prev;  // the object before a put; null for a create
};

class WatchHub {
 public:
  using Decode = std::function<Json(const store::KeyValue&)>;
  using Callback = std::function<void(const HubEvent&)>;

  // Starts watching `prefix` from the store's current revision. The ring keeps the
  // last `ringSize` decoded events for watchers that start slightly behind (a list
  // followed by a watch); older starts replay from the store instead. Each entry
  // holds two decoded objects, so the ring is kept small.
  static Result<std::unique_ptr<WatchHub>> start(store::Store& store, std::string prefix, Decode decode,
                                                 size_t ringSize = 128);
  ~WatchHub();

  // Subscribes to events on keys under `keyPrefix` with revision > `from`, replaying
  // the ring first. Returns null when `from` is older than the ring covers: the
  // caller then watches the store directly.
  std::unique_ptr<store::Watch> subscribe(const std::string& keyPrefix, int64_t from, Callback callback);

 private:
  struct Subscriber {
    std::string keyPrefix;
    int64_t from = 0;
    Callback callback;
  };
  class Subscription;

  WatchHub(Decode decode, size_t ringSize, int64_t startRevision);
  void run();
  void unsubscribe(std::list<Subscriber>::iterator it);

  Decode decode_;
  size_t ringSize_;
  std::mutex mu_;  // guards everything below and serializes delivery
  std::condition_variable cv_;
  std::deque<store::Event> pending_;
  std::deque<std::shared_ptr<const HubEvent>> ring_;
  int64_t ringFloor_;  // the ring holds every event with revision in (ringFloor_, processed_]
  int64_t processed_;
  std::list<Subscriber> subscribers_;
  bool stopping_ = false;
  std::unique_ptr<store::Watch> storeWatch_;
  std::thread thread_;
};

}  // namespace nanokube::apiserver
