#include "client/api_client_fake.h"

#include <atomic>
#include <ctime>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "api/patch.h"
#include "api/resources.h"
#include "api/selector.h"

namespace nanokube::client {

namespace {

struct PathParts {
  std::string prefix;  // "/api/v1" or "/apis/<group>/<version>"
  std::string group, version;
  std::string ns, plural, name, sub;

  std::string objectPath() const {
    return prefix + (ns.empty() ? "" : "/namespaces/" + ns) + "/" + plural + "/" + name;
  }
  std::string qualified() const { return group.empty() ? plural : plural + "." + group; }
  bool inCollection(const PathParts& collection) const {
    return prefix == collection.prefix && plural == collection.plural &&
           (collection.ns.empty() || collection.ns == ns);
  }
};

std::optional<PathParts> parsePath(std::string_view path) {
  std::vector<std::string> segs;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) segs.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  PathParts p;
  size_t rest;
  if (segs.size() >= 3 && segs[0] == "api") {
    p.version = segs[1];
    p.prefix = "/api/" + segs[1];
    rest = 2;
  } else if (segs.size() >= 4 && segs[0] == "apis") {
    p.group = segs[1];
    p.version = segs[2];
    p.prefix = "/apis/" + segs[1] + "/" + segs[2];
    rest = 3;
  } else {
    return std::nullopt;
  }
  std::vector<std::string> r(segs.begin() + static_cast<long>(rest), segs.end());
  size_t k = 0;
  if (r.size() >= 3 && r[0] == "namespaces") {
    p.ns = r[1];
    k = 2;
  }
  p.plural = r[k];
  if (r.size() > k + 1) p.name = r[k + 1];
  if (r.size() > k + 2) p.sub = r[k + 2];
  if (r.size() > k + 3) return std::nullopt;
  return p;
}

Json details(const PathParts& p) {
  Json d = {{"name", p.name}, {"kind", p.plural}};
  if (!p.group.empty()) d["group"] = p.group;
  return d;
}

Error notFound(const PathParts& p) {
  return Error{Code::kNotFound, fmt::format("{} \"{}\" not found", p.qualified(), p.name), details(p)};
}

std::string nowRfc3339() { return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::time(nullptr))); }

Json labelsOf(const Json& obj) {
  auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->is_object()) return nullptr;
  auto labels = meta->find("labels");
  return labels == meta->end() ? Json(nullptr) : *labels;
}

}  // namespace

struct ApiClientFake::Watcher {
  PathParts collection;
  api::LabelSelector selector;
  WatchCallback callback;
  WatchEndCallback onEnd;
  std::atomic<bool> ended{false};
};

class ApiClientFake::FakeWatch : public Watch {
 public:
  FakeWatch(ApiClientFake& fake, uint64_t id, std::shared_ptr<Watcher> w) : fake_(fake), id_(id), w_(std::move(w)) {}
  ~FakeWatch() override { fake_.unregister(id_); }
  bool done() const override { return w_->ended; }

 private:
  ApiClientFake& fake_;
  uint64_t id_;
  std::shared_ptr<Watcher> w_;
};

ApiClientFake::ApiClientFake() = default;
ApiClientFake::~ApiClientFake() = default;

void ApiClientFake::record(const std::string& verb, const std::string& path, const Json& body) {
  actions_.push_back(Action{verb, path, body});
}

std::optional<Error> ApiClientFake::takeError(const std::string& verb) {
  auto it = errors_.find(verb);
  if (it == errors_.end() || it->second.empty()) return std::nullopt;
  Error e = std::move(it->second.front());
  it->second.erase(it->second.begin());
  return e;
}

void ApiClientFake::injectError(const std::string& verb, Error error) {
  std::lock_guard lock(mu_);
  errors_[verb].push_back(std::move(error));
}

std::vector<ApiClientFake::Action> ApiClientFake::actions() const {
  std::lock_guard lock(mu_);
  return actions_;
}

void ApiClientFake::clearActions() {
  std::lock_guard lock(mu_);
  actions_.clear();
}

size_t ApiClientFake::openWatches() const {
  std::lock_guard lock(mu_);
  return watchers_.size();
}

int64_t ApiClientFake::resourceVersion() const {
  std::lock_guard lock(mu_);
  return rv_;
}

void ApiClientFake::compact() {
  std::lock_guard lock(mu_);
  history_.clear();
  compactedRv_ = rv_;
}

Result<Json> ApiClientFake::get(const std::string& path, const Query&) {
  std::lock_guard lock(mu_);
  record("get", path, nullptr);
  if (auto e = takeError("get")) return std::unexpected(*e);
  auto p = parsePath(path);
  if (!p || p->name.empty()) return fail(Code::kNotFound, fmt::format("the server could not find {}", path));
  auto it = objects_.find(p->objectPath());
  if (it == objects_.end()) return std::unexpected(notFound(*p));
  return it->second;
}

Result<Json> ApiClientFake::list(const std::string& path, const Query& query) {
  std::lock_guard lock(mu_);
  record("list", path, nullptr);
  if (auto e = takeError("list")) return std::unexpected(*e);
  auto p = parsePath(path);
  if (!p || !p->name.empty()) return fail(Code::kNotFound, fmt::format("the server could not find {}", path));
  api::LabelSelector selector;
  if (auto it = query.find("labelSelector"); it != query.end()) {
    auto s = api::parseLabelSelector(it->second);
    if (!s) return std::unexpected(s.error());
    selector = *s;
  }
  Json items = Json::array();
  for (const auto& [objPath, obj] : objects_) {
    auto op = parsePath(objPath);
    if (op && op->inCollection(*p) && selector.matches(labelsOf(obj))) {
      Json item = obj;
      // A List's items carry no kind/apiVersion, as the API server sends them.
      item.erase("kind");
      item.erase("apiVersion");
      items.push_back(std::move(item));
    }
  }
  const api::ResourceInfo* info = api::findResource(p->group, p->version, p->plural);
  return Json{{"kind", info ? info->listKind() : "List"},
              {"apiVersion", p->group.empty() ? p->version : p->group + "/" + p->version},
              {"metadata", {{"resourceVersion", std::to_string(rv_)}}},
              {"items", std::move(items)}};
}

Result<Json> ApiClientFake::write(const std::string& verb, const std::string& path, const Json& body,
                                  const std::function<Result<Json>(std::optional<Json>& current)>& mutate) {
  std::lock_guard delivery(deliveryMu_);
  std::vector<Event> events;
  Json result;
  {
    std::lock_guard lock(mu_);
    record(verb, path, body);
    if (auto e = takeError(verb)) return std::unexpected(*e);
    auto p = parsePath(path);
    if (!p) return fail(Code::kNotFound, fmt::format("the server could not find {}", path));
    // create names the object in the body; the other verbs in the path.
    PathParts target = *p;
    if (verb == "create" && target.name.empty()) {
      target.name = body.is_object() && body.contains("metadata") ? body["metadata"].value("name", "") : "";
      if (target.name.empty()) {
        std::string generate = body.is_object() && body.contains("metadata")
                                   ? body["metadata"].value("generateName", "")
                                   : "";
        if (generate.empty()) return fail(Code::kInvalid, "metadata.name: Required value: name or generateName is required");
        target.name = fmt::format("{}{:05x}", generate, ++uid_ & 0xfffff);
      }
    }
    target.sub.clear();
    std::string objPath = target.objectPath();
    std::optional<Json> current;
    if (auto it = objects_.find(objPath); it != objects_.end()) current = it->second;
    bool existed = current.has_value();
    if (verb == "create" && p->sub.empty() && existed) {
      return fail(Code::kAlreadyExists, fmt::format("{} \"{}\" already exists", target.qualified(), target.name),
                  details(target));
    }
    if (verb != "create" && !existed) return std::unexpected(notFound(target));
    if (verb == "create" && !p->sub.empty() && !existed) return std::unexpected(notFound(target));
    if (verb == "create" && p->sub.empty()) {
      Json obj = body;
      obj["metadata"]["name"] = target.name;
      if (!target.ns.empty()) obj["metadata"]["namespace"] = target.ns;
      obj["metadata"]["uid"] = fmt::format("fake-uid-{}", ++uid_);
      obj["metadata"]["creationTimestamp"] = nowRfc3339();
      current = std::move(obj);
    }
    auto r = mutate(current);
    if (!r) return r;
    if (current) {
      if (!existed || *current != objects_[objPath]) {
        (*current)["metadata"]["resourceVersion"] = std::to_string(++rv_);
        objects_[objPath] = *current;
        events.push_back(Event{rv_, existed ? "MODIFIED" : "ADDED", objPath, *current});
      }
      result = r->is_null() ? *current : *r;
    } else {
      Json last = objects_[objPath];
      objects_.erase(objPath);
      last["metadata"]["resourceVersion"] = std::to_string(++rv_);
      events.push_back(Event{rv_, "DELETED", objPath, last});
      result = last;
    }
    history_.insert(history_.end(), events.begin(), events.end());
  }
  deliver(events);
  return result;
}

Result<Json> ApiClientFake::create(const std::string& path, const Json& body, const Query&) {
  auto p = parsePath(path);
  return write("create", path, body, [&](std::optional<Json>& cur) -> Result<Json> {
    if (p && p->sub == "binding") {
      // pods/<name>/binding, as the scheduler binds: sets spec.nodeName.
      std::string node = body.contains("target") ? body["target"].value("name", "") : "";
      if (node.empty()) return fail(Code::kInvalid, "target.name: Required value");
      if (!(*cur)["spec"].value("nodeName", "").empty()) {
        return fail(Code::kConflict, fmt::format("pod {} is already assigned to node \"{}\"", p->name,
                                                 (*cur)["spec"].value("nodeName", "")));
      }
      (*cur)["spec"]["nodeName"] = node;
      return Json{{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", Json::object()}, {"status", "Success"},
                  {"code", 201}};
    }
    if (p && !p->sub.empty()) return fail(Code::kMethodNotAllowed, fmt::format("create on {} is not supported", path));
    return Json(nullptr);
  });
}

Result<Json> ApiClientFake::update(const std::string& path, const Json& body, const Query&) {
  auto p = parsePath(path);
  return write("update", path, body, [&](std::optional<Json>& cur) -> Result<Json> {
    std::string want = body.contains("metadata") ? body["metadata"].value("resourceVersion", "") : "";
    std::string have = (*cur)["metadata"].value("resourceVersion", "");
    if (!want.empty() && want != have) {
      return fail(Code::kConflict,
                  fmt::format("Operation cannot be fulfilled on {} \"{}\": the object has been modified; please "
                              "apply your changes to the latest version and try again",
                              p->qualified(), p->name),
                  details(*p));
    }
    Json next = *cur;
    if (p->sub == "status") {
      next["status"] = body.value("status", Json::object());
    } else {
      // Identity and server-set fields stay the stored ones.
      Json meta = body.value("metadata", Json::object());
      for (const char* keep : {"name", "namespace", "uid", "creationTimestamp"}) {
        if ((*cur)["metadata"].contains(keep)) meta[keep] = (*cur)["metadata"][keep];
      }
      next = body;
      next["metadata"] = meta;
      if (cur->contains("status") && !body.contains("status")) next["status"] = (*cur)["status"];
    }
    *cur = std::move(next);
    return Json(nullptr);
  });
}

Result<Json> ApiClientFake::patch(const std::string& path, PatchType type, const Json& body, const Query&) {
  auto p = parsePath(path);
  return write("patch", path, body, [&](std::optional<Json>& cur) -> Result<Json> {
    Result<Json> patched;
    const api::ResourceInfo* info = api::findResource(p->group, p->version, p->plural);
    switch (type) {
      case PatchType::kMerge: patched = api::applyMergePatch(*cur, body); break;
      case PatchType::kJson: patched = api::applyJsonPatch(*cur, body); break;
      case PatchType::kStrategic:
        patched = info ? api::applyStrategicMergePatch(*info, *cur, body) : api::applyMergePatch(*cur, body);
        break;
    }
    if (!patched) return patched;
    (*patched)["metadata"]["name"] = (*cur)["metadata"]["name"];
    *cur = std::move(*patched);
    return Json(nullptr);
  });
}

Result<Json> ApiClientFake::remove(const std::string& path, const Json& deleteOptions) {
  return write("delete", path, deleteOptions, [&](std::optional<Json>& cur) -> Result<Json> {
    cur.reset();
    return Json(nullptr);
  });
}

void ApiClientFake::deliver(const std::vector<Event>& events) {
  if (events.empty()) return;
  std::vector<std::shared_ptr<Watcher>> watchers;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, w] : watchers_) watchers.push_back(w);
  }
  for (const auto& event : events) {
    auto op = parsePath(event.path);
    for (const auto& w : watchers) {
      if (w->ended || !op || !op->inCollection(w->collection)) continue;
      if (!w->selector.matches(labelsOf(event.object))) continue;
      w->callback(event.type, event.object);
    }
  }
}

Result<std::unique_ptr<Watch>> ApiClientFake::watch(const std::string& path, const WatchQuery& query,
                                                    WatchCallback callback, WatchEndCallback onEnd) {
  std::lock_guard delivery(deliveryMu_);
  auto w = std::make_shared<Watcher>();
  std::vector<std::pair<std::string, Json>> replay;
  bool expired = false;
  uint64_t id;
  {
    std::lock_guard lock(mu_);
    record("watch", path, nullptr);
    if (auto e = takeError("watch")) return std::unexpected(*e);
    auto p = parsePath(path);
    if (!p || !p->name.empty()) return fail(Code::kNotFound, fmt::format("the server could not find {}", path));
    w->collection = *p;
    if (!query.labelSelector.empty()) {
      auto s = api::parseLabelSelector(query.labelSelector);
      if (!s) return std::unexpected(s.error());
      w->selector = *s;
    }
    w->callback = std::move(callback);
    w->onEnd = std::move(onEnd);
    if (query.resourceVersion.empty() || query.resourceVersion == "0") {
      for (const auto& [objPath, obj] : objects_) {
        auto op = parsePath(objPath);
        if (op && op->inCollection(*p) && w->selector.matches(labelsOf(obj))) replay.emplace_back("ADDED", obj);
      }
    } else {
      int64_t from = 0;
      try {
        from = std::stoll(query.resourceVersion);
      } catch (const std::exception&) {
        return fail(Code::kBadRequest, fmt::format("invalid resourceVersion {}", query.resourceVersion));
      }
      if (from < compactedRv_) {
        expired = true;
      } else {
        for (const auto& e : history_) {
          auto op = parsePath(e.path);
          if (e.rv > from && op && op->inCollection(*p) && w->selector.matches(labelsOf(e.object))) {
            replay.emplace_back(e.type, e.object);
          }
        }
      }
    }
    id = nextWatcher_++;
    if (!expired) watchers_[id] = w;
  }
  if (expired) {
    Error gone{Code::kGone, fmt::format("too old resource version: {} ({})", query.resourceVersion, compactedRv_)};
    w->callback("ERROR", toStatus(gone));
    w->ended = true;
    if (w->onEnd) w->onEnd(Result<void>{});
  } else {
    for (const auto& [type, obj] : replay) w->callback(type, obj);
  }
  return std::make_unique<FakeWatch>(*this, id, w);
}

void ApiClientFake::unregister(uint64_t id) {
  std::lock_guard delivery(deliveryMu_);
  std::lock_guard lock(mu_);
  if (auto it = watchers_.find(id); it != watchers_.end()) {
    it->second->ended = true;
    watchers_.erase(it);
  }
}

void ApiClientFake::endWatches(bool expired, Result<void> end) {
  std::lock_guard delivery(deliveryMu_);
  std::map<uint64_t, std::shared_ptr<Watcher>> watchers;
  int64_t rv;
  {
    std::lock_guard lock(mu_);
    watchers.swap(watchers_);
    rv = compactedRv_;
  }
  for (auto& [id, w] : watchers) {
    if (expired) w->callback("ERROR", toStatus(Error{Code::kGone, fmt::format("too old resource version ({})", rv)}));
    w->ended = true;
    if (w->onEnd) w->onEnd(end);
  }
}

}  // namespace nanokube::client
