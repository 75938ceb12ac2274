#pragma once
// A stateful in-memory ApiClient for other components' unit tests, in the
// spirit of client-go's fake clientset: objects live in a map keyed by their
// path, writes bump a resourceVersion counter, watches get the events.
//
// What it does as the API server does: NotFound / AlreadyExists / Conflict
// (stale metadata.resourceVersion on update) with Kubernetes' messages; uid,
// resourceVersion, creationTimestamp and generateName on create; the three
// patch types (strategic merge with the kind's patch strategies when nanokube
// serves the kind); label selectors on list and watch; watch from a
// resourceVersion replaying what happened since, and 410 (an ERROR event)
// from before compact(). What it does not: field selectors (ignored),
// defaulting, validation, graceful deletion, finalizers, pagination.
//
// Threading: safe from any thread. Watch callbacks run synchronously on the
// thread that made the write, in resourceVersion order, with no fake lock held
// but one delivery lock (recursive): a callback may call the fake again.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "client/api_client.h"

namespace nanokube::client {

class ApiClientFake : public ApiClient {
 public:
  struct Action {
    std::string verb;  // get, list, create, update, patch, delete, watch
    std::string path;
    Json body;  // the request body (null for get/list/watch)
  };

  ApiClientFake();
  ~ApiClientFake() override;

  Result<Json> get(const std::string& path, const Query& query = {}) override;
  Result<Json> list(const std::string& path, const Query& query = {}) override;
  Result<Json> create(const std::string& path, const Json& body, const Query& query = {}) override;
  Result<Json> update(const std::string& path, const Json& body, const Query& query = {}) override;
  Result<Json> patch(const std::string& path, PatchType type, const Json& body, const Query& query = {}) override;
  Result<Json> remove(const std::string& path, const Json& deleteOptions = nullptr) override;
  Result<std::unique_ptr<Watch>> watch(const std::string& path, const WatchQuery& query, WatchCallback callback,
                                       WatchEndCallback onEnd = nullptr) override;

  // The next call of `verb` fails with `error` (once per injection, FIFO).
  void injectError(const std::string& verb, Error error);
  // Forgets the event history: watches from an older resourceVersion get 410.
  void compact();
  // Ends every open watch: with an ERROR 410 event first when `expired`, then
  // onEnd(end) (an Error simulates a dropped connection).
  void endWatches(bool expired, Result<void> end = {});
  // Every call so far, in order.
  std::vector<Action> actions() const;
  void clearActions();
  size_t openWatches() const;
  int64_t resourceVersion() const;

 private:
  struct Watcher;
  struct Event {
    int64_t rv;
    std::string type;
    std::string path;  // the object's path
    Json object;
  };
  class FakeWatch;

  Result<Json> write(const std::string& verb, const std::string& path, const Json& body,
                     const std::function<Result<Json>(std::optional<Json>& current)>& mutate);
  std::optional<Error> takeError(const std::string& verb);
  void record(const std::string& verb, const std::string& path, const Json& body);
  // Delivers events recorded since `from` to every watcher they match.
  void deliver(const std::vector<Event>& events);
  void unregister(uint64_t id);

  mutable std::recursive_mutex deliveryMu_;  // taken before mu_
  mutable std::mutex mu_;
  std::map<std::string, Json> objects_;  // object path → object
  std::vector<Event> history_;
  int64_t rv_ = 0;
  int64_t compactedRv_ = 0;
  uint64_t uid_ = 0;
  std::map<std::string, std::vector<Error>> errors_;
  std::vector<Action> actions_;
  std::map<uint64_t, std::shared_ptr<Watcher>> watchers_;
  uint64_t nextWatcher_ = 0;
};

}  // namespace nanokube::client
