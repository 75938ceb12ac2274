// List and watch over the store, with label and field selectors, pagination and
// the resourceVersion rules of Kubernetes' storage layer.

#include <fmt/format.h>

#include "api/object.h"
#include "apiserver/encoding.h"
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

Result<Json> Registry::list(const ResourceInfo& r, const std::string& ns, const ListOptions& opts) {
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
  Json items = Json::array();
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
      if (opts.limit > 0 && static_cast<int64_t>(items.size()) >= opts.limit) {
        more = true;
        break;
      }
      Json obj = decode(kv);
      if (!matches(r, opts, obj)) continue;
      lastKey = kv.key;
      items.push_back(std::move(obj));
    }
    if (more || !page->more || pageSize == 0) {
      more = more || (page->more && opts.limit > 0 && static_cast<int64_t>(items.size()) >= opts.limit);
      break;
    }
  }
  Json list = {{"kind", r.listKind()}, {"apiVersion", r.apiVersion()}};
  list["metadata"] = {{"resourceVersion", std::to_string(listRevision)}};
  if (more) list["metadata"]["continue"] = encodeContinue(atRevision, lastKey);
  list["items"] = std::move(items);
  return list;
}

Result<std::unique_ptr<store::Watch>> Registry::watch(const ResourceInfo& r, const std::string& ns,
                                                      const ListOptions& opts, WatchSink sink,
                                                      int64_t& startRevision) {
  auto rv = parseRevision(opts.resourceVersion);
  if (!rv) return std::unexpected(rv.error());
  int64_t from = *rv;
  if (from == 0) {
    // Kubernetes starts a watch without a resourceVersion with synthetic ADDED
    // events for the current state, then continues from that state's revision.
    auto page = store_.list(prefix(r, ns), 0, 0, {});
    if (!page) return std::unexpected(page.error());
    for (const auto& kv : page->items) {
      Json obj = decode(kv);
      if (matches(r, opts, obj)) sink("ADDED", std::move(obj));
    }
    from = page->revision;
  }
  startRevision = from;
  auto filter = [this, &r, opts, sink = std::move(sink)](const store::Event& ev) {
    Json obj = decode(ev.kv);
    if (ev.type == store::Event::Type::kDelete) {
      if (matches(r, opts, obj)) sink("DELETED", std::move(obj));
      return;
    }
    bool now = matches(r, opts, obj);
    bool before = false;
    if (ev.prev) before = matches(r, opts, decode(*ev.prev));
    if (now && before) sink("MODIFIED", std::move(obj));
    else if (now) sink("ADDED", std::move(obj));
    else if (before) sink("DELETED", std::move(obj));
  };
  auto w = store_.watch(prefix(r, ns), from, std::move(filter));
  if (!w && w.error().code == Code::kGone) {
    return fail(Code::kGone, fmt::format("too old resource version: {} ({})", from, store_.compactedRevision()));
  }
  return w;
}

}  // namespace nanokube::apiserver
