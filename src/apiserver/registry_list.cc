// List and watch over the store, with label and field selectors, pagination and
// the resourceVersion rules of Kubernetes' storage layer.

#include <fmt/format.h>

#include "api/object.h"
#include "apiserver/encoding.h"
#include "apiserver/handler.h"
#include "apiserver/registry.h"

namespace nanokube::apiserver {

using api::ResourceInfo;

namespace {

bool matches(const ResourceInfo& r, const ListOptions& o, const Json& obj) {
  return o.labels.matches(api::labelsOf(obj)) && o.fields.matches(r, obj);
}

Result<int64_t> parseRevision(const std::string& rv) {
  if (rv.empty()) return 0;
  int64_t v = 0;
  for (char c : rv) {
    if (c < '0' || c > '9') {
      return fail(Code::kBadRequest, fmt::format("invalid resource version: {}", rv));
    }
    v = v * 10 + (c - '0');
  }
  return v;
}

// The continue token, as Kubernetes encodes it: base64 of
// {"v":"meta.k8s.io/v1","rv":<revision>,"start":"<next key>"}.
std::string encodeContinue(int64_t rev, const std::string& lastKey) {
  Json t = {{"v", "meta.k8s.io/v1"}, {"rv", rev}, {"start", lastKey}};
  return base64Encode(t.dump());
}

}  // namespace

namespace {

size_t skipSpace(std::string_view s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r')) ++i;
  return i;
}

// Index just past the JSON string starting at s[i] == '"', or npos.
size_t skipString(std::string_view s, size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') ++i;
    else if (s[i] == '"') return i + 1;
  }
  return std::string_view::npos;
}

// Index just past the JSON value starting at s[i], or npos.
size_t skipValue(std::string_view s, size_t i) {
  if (i >= s.size()) return std::string_view::npos;
  if (s[i] == '"') return skipString(s, i);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    while (i < s.size()) {
      char c = s[i];
      if (c == '"') {
        i = skipString(s, i);
        if (i == std::string_view::npos) return i;
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') {
        if (--depth == 0) return i + 1;
      }
      ++i;
    }
    return std::string_view::npos;
  }
  while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']') ++i;
  return i;
}

}  // namespace

std::optional<std::string> withResourceVersion(std::string_view json, int64_t revision) {
  size_t i = skipSpace(json, 0);
  if (i >= json.size() || json[i] != '{') return std::nullopt;
  i = skipSpace(json, i + 1);
  while (i < json.size() && json[i] == '"') {
    size_t keyEnd = skipString(json, i);
    if (keyEnd == std::string_view::npos) return std::nullopt;
    std::string_view key = json.substr(i + 1, keyEnd - i - 2);
    i = skipSpace(json, keyEnd);
    if (i >= json.size() || json[i] != ':') return std::nullopt;
    i = skipSpace(json, i + 1);
    if (key == "metadata" && i < json.size() && json[i] == '{') {
      size_t inside = skipSpace(json, i + 1);
      if (inside >= json.size()) return std::nullopt;
      std::string field = fmt::format("\"resourceVersion\":\"{}\"", revision);
      if (json[inside] != '}') field += ',';
      std::string out;
      out.reserve(json.size() + field.size());
      out.append(json.substr(0, i + 1)).append(field).append(json.substr(i + 1));
      return out;
    }
    i = skipValue(json, i);
    if (i == std::string_view::npos) return std::nullopt;
    i = skipSpace(json, i);
    if (i < json.size() && json[i] == ',') i = skipSpace(json, i + 1);
  }
  return std::nullopt;
}

Result<Registry::ListMeta> Registry::listEach(const ResourceInfo& r, const std::string& ns,
                                              const ListOptions& opts,
                                              const std::function<bool(const store::KeyValue&)>& take) {
  int64_t atRevision = 0;
  std::string startAfter;
  if (!opts.continueToken.empty()) {
    auto raw = base64Decode(opts.continueToken);
    Json t = raw ? Json::parse(*raw, nullptr, false) : Json();
    if (!t.is_object() || !t.contains("rv") || !t["rv"].is_number_integer() || !t.contains("start")) {
      return fail(Code::kBadRequest, "continue key is not valid: incorrect encoded start resourceVersion");
    }
    atRevision = t["rv"].get<int64_t>();
    startAfter = t["start"].get<std::string>();
  } else if (opts.resourceVersionMatch == "Exact") {
    auto rv = parseRevision(opts.resourceVersion);
    if (!rv) return std::unexpected(rv.error());
    atRevision = *rv;
  } else {
    auto rv = parseRevision(opts.resourceVersion);
    if (!rv) return std::unexpected(rv.error());
    if (*rv > store_.revision()) {
      return fail(Code::kTimeout, fmt::format("Too large resource version: {}, current: {}", *rv,
                                              store_.revision()));
    }
  }
  if (r.namespaced && !ns.empty()) {
    if (auto c = checkNamespace(r, ns, false); !c && c.error().code != Code::kNotFound) {
      return std::unexpected(c.error());
    }
  }
  int64_t taken = 0;
  std::string pfx = prefix(r, ns);
  int64_t listRevision = 0;
  std::string lastKey;
  bool more = false;
  // Selectors filter after the read, so a limited list reads in pages until it
  // has `limit` matches or the keys run out (as the etcd3 storage does).
  int64_t pageSize = opts.limit > 0 ? std::max<int64_t>(opts.limit, 100) : 0;
  std::string cursor = startAfter;
  for (;;) {
    auto page = store_.list(pfx, atRevision, pageSize, cursor);
    if (!page) {
      if (page.error().code == Code::kGone && !opts.continueToken.empty()) {
        return fail(Code::kGone,
                    "The provided continue parameter is too old to display a consistent list result. You can "
                    "start a new list without the continue parameter, or use the continue token in this "
                    "response to retrieve the remainder of the results. Continuing with the provided token "
                    "results in an inconsistent list - objects that were created, modified, or deleted between "
                    "the time the first chunk was returned and now may show up in the list.");
      }
      return std::unexpected(page.error());
    }
    listRevision = page->revision;
    if (atRevision == 0) atRevision = page->revision;
    for (const auto& kv : page->items) {
      cursor = kv.key;
      if (opts.limit > 0 && taken >= opts.limit) {
        more = true;
        break;
      }
      if (!take(kv)) continue;
      ++taken;
      lastKey = kv.key;
    }
    if (more || !page->more || pageSize == 0) {
      more = more || (page->more && opts.limit > 0 && taken >= opts.limit);
      break;
    }
  }
  ListMeta meta;
  meta.resourceVersion = listRevision;
  if (more) meta.continueToken = encodeContinue(atRevision, lastKey);
  return meta;
}

Result<Json> Registry::list(const ResourceInfo& r, const std::string& ns, const ListOptions& opts) {
  Json items = Json::array();
  auto meta = listEach(r, ns, opts, [&](const store::KeyValue& kv) {
    Json obj = decode(kv);
    if (!matches(r, opts, obj)) return false;
    items.push_back(std::move(obj));
    return true;
  });
  if (!meta) return std::unexpected(meta.error());
  Json list = {{"kind", r.listKind()}, {"apiVersion", r.apiVersion()}};
  list["metadata"] = {{"resourceVersion", std::to_string(meta->resourceVersion)}};
  if (!meta->continueToken.empty()) list["metadata"]["continue"] = meta->continueToken;
  list["items"] = std::move(items);
  return list;
}

Result<std::string> Registry::listJson(const ResourceInfo& r, const std::string& ns, const ListOptions& opts) {
  std::string items;
  bool filter = !opts.labels.empty() || !opts.fields.empty();
  auto meta = listEach(r, ns, opts, [&](const store::KeyValue& kv) {
    // The stored text gets its resourceVersion spliced in; objects are parsed
    // only to evaluate selectors (or when the text cannot be spliced).
    std::optional<std::string> text;
    if (filter) {
      Json obj = decode(kv);
      if (!matches(r, opts, obj)) return false;
      text = withResourceVersion(kv.value, kv.modRevision);
      if (!text) text = dumpJson(obj);
    } else {
      text = withResourceVersion(kv.value, kv.modRevision);
      if (!text) text = dumpJson(decode(kv));
    }
    if (!items.empty()) items.push_back(',');
    items += *text;
    return true;
  });
  if (!meta) return std::unexpected(meta.error());
  Json head = {{"resourceVersion", std::to_string(meta->resourceVersion)}};
  if (!meta->continueToken.empty()) head["continue"] = meta->continueToken;
  return fmt::format("{{\"apiVersion\":\"{}\",\"items\":[{}],\"kind\":\"{}\",\"metadata\":{}}}", r.apiVersion(),
                     items, r.listKind(), head.dump());
}

Result<WatchHub*> Registry::hub(const ResourceInfo& r) {
  std::lock_guard lock(hubsMu_);
  auto& slot = hubs_[r.qualifiedName()];
  if (!slot) {
    auto h = WatchHub::start(store_, prefix(r, ""), [this](const store::KeyValue& kv) { return decode(kv); });
    if (!h) return std::unexpected(h.error());
    slot = std::move(*h);
  }
  return slot.get();
}

Result<std::unique_ptr<store::Watch>> Registry::watch(const ResourceInfo& r, const std::string& ns,
                                                      const ListOptions& opts, WatchSink sink,
                                                      int64_t& startRevision) {
  auto rv = parseRevision(opts.resourceVersion);
  if (!rv) return std::unexpected(rv.error());
  int64_t from = *rv;
  if (from > store_.revision()) {
    return fail(Code::kTimeout, fmt::format("Too large resource version: {}, current: {}", from, store_.revision()));
  }
  if (from == 0) {
    // Kubernetes starts a watch without a resourceVersion with synthetic ADDED
    // events for the current state, then continues from that state's revision.
    auto page = store_.list(prefix(r, ns), 0, 0, {});
    if (!page) return std::unexpected(page.error());
    for (const auto& kv : page->items) {
      SharedObject obj(decode(kv));
      if (matches(r, opts, obj.object())) sink("ADDED", obj);
    }
    from = page->revision;
  }
  startRevision = from;
  // Selectors turn an object that starts or stops matching into ADDED or DELETED,
  // as Kubernetes' cacher does.
  auto deliver = [&r, opts, sink](store::Event::Type type, const SharedObject& obj, const Json* prev) {
    bool now = matches(r, opts, obj.object());
    if (type == store::Event::Type::kDelete) {
      if (now) sink("DELETED", obj);
      return;
    }
    bool before = prev != nullptr && matches(r, opts, *prev);
    if (now && before) {
      sink("MODIFIED", obj);
    } else if (now) {
      sink("ADDED", obj);
    } else if (before) {
      // The watcher last saw the object matching: it gets that state, at the
      // revision of the change (storage/etcd3/watcher.go).
      Json last = *prev;
      last["metadata"]["resourceVersion"] = obj.object()["metadata"]["resourceVersion"];
      sink("DELETED", SharedObject(std::move(last)));
    }
  };
  auto h = hub(r);
  if (!h) return std::unexpected(h.error());
  auto sub = (*h)->subscribe(prefix(r, ns), from, [deliver](const HubEvent& ev) {
    deliver(ev.type, ev.object, ev.prev ? &ev.prev->object() : nullptr);
  });
  if (sub) return sub;
  // Older than the hub's ring: replay from the store's history.
  auto w = store_.watch(prefix(r, ns), from, [this, deliver](const store::Event& ev) {
    SharedObject obj(decode(ev.kv));
    Json prev;
    if (ev.prev) prev = decode(*ev.prev);
    deliver(ev.type, obj, ev.prev ? &prev : nullptr);
  });
  if (!w && w.error().code == Code::kGone) {
    return fail(Code::kGone, fmt::format("too old resource version: {} ({})", from, store_.compactedRevision()));
  }
  return w;
}

}  // namespace nanokube::apiserver
