#include "client/informer.h"

#include <spdlog/spdlog.h>

namespace nanokube::client {

namespace {

std::string resourceVersionOf(const Json& object) {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return {};
  auto rv = meta->find("resourceVersion");
  return rv != meta->end() && rv->is_string() ? rv->get<std::string>() : std::string();
}

}  // namespace

Informer::Informer(ApiClient& client, InformerOptions options, InformerHandlers handlers)
    : client_(client), options_(std::move(options)), handlers_(std::move(handlers)),
      backoff_(options_.initialBackoff) {}

Informer::~Informer() { stop(); }

void Informer::start() { thread_ = std::thread([this] { run(); }); }

void Informer::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool Informer::waitForSync(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [this] { return synced_.load() || stopping_; });
  return synced_;
}

ObjectPtr Informer::get(const std::string& key) const {
  std::shared_lock lock(cacheMu_);
  auto it = cache_.find(key);
  return it == cache_.end() ? nullptr : it->second;
}

std::shared_ptr<const ObjectMap> Informer::snapshot() const {
  std::lock_guard snapLock(snapMu_);
  if (!snap_) {
    std::shared_lock lock(cacheMu_);
    snap_ = std::make_shared<const ObjectMap>(cache_);
  }
  return snap_;
}

size_t Informer::size() const {
  std::shared_lock lock(cacheMu_);
  return cache_.size();
}

std::string Informer::lastResourceVersion() const {
  std::shared_lock lock(cacheMu_);
  return resourceVersion_;
}

bool Informer::sleepFor(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, d, [this] { return stopping_; });
}

void Informer::backoff() {
  // Up to a quarter of jitter, so that many informers do not retry in step.
  auto jitter = std::uniform_int_distribution<int64_t>(0, backoff_.count() / 4)(rng_);
  sleepFor(backoff_ + std::chrono::milliseconds(jitter));
  backoff_ = std::min(backoff_ * 2, options_.maxBackoff);
}

void Informer::run() {
  bool listed = false;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    if (!listed) {
      if (!relist()) {
        backoff();
        continue;
      }
      listed = true;
    }
    bool failed = watchOnce();
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    if (failed) {
      // As client-go's reflector: after a broken watch, list again (the cache
      // may have missed deletions and the resourceVersion may be compacted).
      listed = false;
      bool gone;
      {
        std::lock_guard lock(mu_);
        gone = needRelist_ && !watchFailed_;
      }
      // An expired resourceVersion says nothing about the server's health:
      // relist at once. A failed connection waits.
      if (!gone) backoff();
    } else {
      backoff_ = options_.initialBackoff;
    }
  }
}

bool Informer::relist() {
  ++lists_;
  ObjectMap fresh;
  std::string rv;
  std::string continueToken;
  do {
    Query q;
    if (!options_.labelSelector.empty()) q["labelSelector"] = options_.labelSelector;
    if (!options_.fieldSelector.empty()) q["fieldSelector"] = options_.fieldSelector;
    if (options_.listPageSize > 0) q["limit"] = std::to_string(options_.listPageSize);
    if (!continueToken.empty()) q["continue"] = continueToken;
    auto page = client_.list(options_.path, q);
    if (!page) {
      spdlog::warn("informer {}: list: {}", options_.path, page.error().message);
      return false;
    }
    if (!page->is_object()) {
      spdlog::warn("informer {}: list: the answer is not an object", options_.path);
      return false;
    }
    rv = resourceVersionOf(*page);
    auto meta = page->find("metadata");
    continueToken = meta != page->end() && meta->is_object() ? meta->value("continue", "") : "";
    // List items carry no kind/apiVersion; watch events do. Fill them in so
    // that cached objects look the same whichever way they arrived.
    std::string kind = page->value("kind", "");
    if (kind.size() > 4 && kind.ends_with("List")) kind.resize(kind.size() - 4);
    std::string apiVersion = page->value("apiVersion", "");
    if (auto items = page->find("items"); items != page->end() && items->is_array()) {
      for (auto& item : *items) {
        if (!item.contains("kind") && !kind.empty()) item["kind"] = kind;
        if (!item.contains("apiVersion") && !apiVersion.empty()) item["apiVersion"] = apiVersion;
        std::string key = objectKey(item);
        if (!key.empty()) fresh[key] = std::make_shared<const Json>(std::move(item));
      }
    }
    {
      std::lock_guard lock(mu_);
      if (stopping_) return false;
    }
  } while (!continueToken.empty());

  ObjectMap old;
  {
    std::lock_guard snapLock(snapMu_);
    std::unique_lock lock(cacheMu_);
    old = std::exchange(cache_, fresh);
    resourceVersion_ = rv;
    snap_.reset();
  }
  for (const auto& [key, obj] : fresh) {
    auto it = old.find(key);
    if (it == old.end()) {
      if (handlers_.onAdd) handlers_.onAdd(key, obj);
    } else if (handlers_.onUpdate) {
      handlers_.onUpdate(key, it->second, obj);
    }
  }
  for (const auto& [key, obj] : old) {
    if (!fresh.contains(key) && handlers_.onDelete) handlers_.onDelete(key, obj);
  }
  if (!synced_.exchange(true)) {
    std::lock_guard lock(mu_);
    cv_.notify_all();
  }
  return true;
}

bool Informer::watchOnce() {
  {
    std::lock_guard lock(mu_);
    watchEnded_ = needRelist_ = watchFailed_ = false;
  }
  WatchQuery q;
  q.resourceVersion = lastResourceVersion();
  q.labelSelector = options_.labelSelector;
  q.fieldSelector = options_.fieldSelector;
  q.allowWatchBookmarks = true;
  int lo = std::max(1, options_.minWatchSeconds), hi = std::max(lo, options_.maxWatchSeconds);
  q.timeoutSeconds = std::uniform_int_distribution<int>(lo, hi)(rng_);
  auto onEnd = [this](const Result<void>& end) {
    std::lock_guard lock(mu_);
    watchEnded_ = true;
    if (!end) {
      spdlog::info("informer {}: watch ended: {}", options_.path, end.error().message);
      watchFailed_ = true;
    }
    cv_.notify_all();
  };
  auto watch = client_.watch(
      options_.path, q, [this](std::string_view type, const Json& object) { applyEvent(type, object); }, onEnd);
  if (!watch) {
    spdlog::warn("informer {}: watch: {}", options_.path, watch.error().message);
    std::lock_guard lock(mu_);
    watchFailed_ = true;
    return true;
  }
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return stopping_ || watchEnded_; });
  }
  // Destroyed without mu_ held: it waits for the watch thread, which may be
  // inside applyEvent() taking mu_.
  watch->reset();
  std::lock_guard lock(mu_);
  return needRelist_ || watchFailed_;
}

void Informer::upsert(const std::string& key, ObjectPtr obj) {
  ObjectPtr old;
  {
    std::lock_guard snapLock(snapMu_);
    std::unique_lock lock(cacheMu_);
    auto& slot = cache_[key];
    old = std::exchange(slot, obj);
    std::string rv = resourceVersionOf(*obj);
    if (!rv.empty()) resourceVersion_ = rv;
    snap_.reset();
  }
  if (!old) {
    if (handlers_.onAdd) handlers_.onAdd(key, obj);
  } else if (handlers_.onUpdate) {
    handlers_.onUpdate(key, old, obj);
  }
}

void Informer::erase(const std::string& key, const Json& last) {
  ObjectPtr old;
  {
    std::lock_guard snapLock(snapMu_);
    std::unique_lock lock(cacheMu_);
    if (auto it = cache_.find(key); it != cache_.end()) {
      old = it->second;
      cache_.erase(it);
    }
    std::string rv = resourceVersionOf(last);
    if (!rv.empty()) resourceVersion_ = rv;
    snap_.reset();
  }
  // The DELETED event's object is the final state; report that.
  if (handlers_.onDelete) handlers_.onDelete(key, std::make_shared<const Json>(last));
}

void Informer::applyEvent(std::string_view type, const Json& object) {
  if (type == "ADDED" || type == "MODIFIED") {
    std::string key = objectKey(object);
    if (!key.empty()) upsert(key, std::make_shared<const Json>(object));
  } else if (type == "DELETED") {
    std::string key = objectKey(object);
    if (!key.empty()) erase(key, object);
  } else if (type == "BOOKMARK") {
    std::string rv = resourceVersionOf(object);
    std::unique_lock lock(cacheMu_);
    if (!rv.empty()) resourceVersion_ = rv;
  } else if (type == "ERROR") {
    spdlog::info("informer {}: watch error: {}", options_.path, object.value("message", ""));
    std::lock_guard lock(mu_);
    needRelist_ = true;
    watchEnded_ = true;
    cv_.notify_all();
  }
}

}  // namespace nanokube::client
