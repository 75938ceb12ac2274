// Strategic merge patch, following k8s.io/apimachinery/pkg/util/strategicpatch/patch.go
// (mergeMap, mergeSlice, mergePatchIntoOriginal, normalizeElementOrder) with the
// options the API server uses: MergeParallelList and IgnoreUnmatchedNulls.

#include <algorithm>
#include <climits>

#include "api/patch.h"
#include "api/patch_schema.h"

namespace nanokube::api {

namespace {

using patch::FieldMeta;
using patch::Schema;

constexpr std::string_view kDirective = "$patch";
constexpr std::string_view kRetainKeys = "$retainKeys";
constexpr std::string_view kSetOrderPrefix = "$setElementOrder/";
constexpr std::string_view kDeletePrimitivePrefix = "$deleteFromPrimitiveList/";

using Status = Result<void>;

std::unexpected<Error> bad(std::string msg) { return fail(Code::kBadRequest, std::move(msg)); }

Result<Json> mergeMap(Json original, Json patch, const Schema& schema);
Result<Json> mergeSlice(const Json& original, const Json& patch, const FieldMeta& meta,
                        const Schema& schema, bool isDeleteList);

std::string noMergeKey(const Json& m, const std::string& key) {
  return "map: " + m.dump() + " does not contain declared merge key: " + key;
}

// index(): the position of an item in a list, by merge key for maps.
long indexOf(const Json& list, const Json& item, const std::string& mergeKey) {
  for (size_t i = 0; i < list.size(); ++i) {
    if (mergeKey.empty() ? list[i] == item
                         : (list[i].is_object() && item.is_object() && list[i].contains(mergeKey) &&
                            item.contains(mergeKey) && list[i][mergeKey] == item[mergeKey])) {
      return static_cast<long>(i);
    }
  }
  return -1;
}

// normalizeSliceOrder: items found in `order` sorted by it; others keep their place at the end.
Json sortByOrder(Json items, const Json& order, const std::string& mergeKey) {
  std::vector<std::pair<long, Json>> keyed;
  for (auto& it : items) {
    long ix = indexOf(order, it, mergeKey);
    keyed.emplace_back(ix < 0 ? LONG_MAX : ix, std::move(it));
  }
  std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  Json out = Json::array();
  for (auto& [ix, it] : keyed) out.push_back(std::move(it));
  return out;
}

// normalizeElementOrder + mergeSortedSlice: patch items in `patchOrder`, server-only
// items in the live order, interleaved so each keeps its relative place.
Json normalizeOrder(const Json& merged, const Json& patchOrder, const Json& serverOrder,
                    const std::string& mergeKey) {
  Json patchItems = Json::array();
  Json serverOnly = Json::array();
  for (const auto& it : merged) {
    (indexOf(patchOrder, it, mergeKey) >= 0 ? patchItems : serverOnly).push_back(it);
  }
  Json right = sortByOrder(patchItems, patchOrder, mergeKey);
  Json left = sortByOrder(serverOnly, serverOrder, mergeKey);
  Json out = Json::array();
  size_t i = 0;
  size_t j = 0;
  while (i < left.size() || j < right.size()) {
    if (j >= right.size()) {
      out.push_back(left[i++]);
    } else if (i >= left.size()) {
      out.push_back(right[j++]);
    } else {
      long li = indexOf(serverOrder, left[i], mergeKey);
      long ri = indexOf(serverOrder, right[j], mergeKey);
      out.push_back(li >= 0 && ri >= 0 && li < ri ? left[i++] : right[j++]);
    }
  }
  return out;
}

// mergeSliceWithSpecialElements: {"$patch":"delete", key: v} removes entries and
// {"$patch":"replace"} makes the rest of the patch list the whole list.
Status applySpecialElements(Json& original, Json& patch, const std::string& mergeKey) {
  Json rest = Json::array();
  bool replace = false;
  for (const auto& v : patch) {
    auto d = v.find(kDirective);
    if (d == v.end()) {
      rest.push_back(v);
      continue;
    }
    if (*d == "delete") {
      if (!v.contains(mergeKey)) return bad(noMergeKey(v, mergeKey));
      Json kept = Json::array();
      for (const auto& o : original) {
        if (!(o.is_object() && o.contains(mergeKey) && o[mergeKey] == v[mergeKey])) kept.push_back(o);
      }
      original = std::move(kept);
    } else if (*d == "replace") {
      replace = true;
    } else if (*d == "merge") {
      return bad("merging lists cannot yet be specified in the patch");
    } else {
      return bad("unknown patch type: " + d->dump() + " in map: " + v.dump());
    }
  }
  if (replace) {
    original = std::move(rest);
    patch = Json::array();
  } else {
    patch = std::move(rest);
  }
  return {};
}

Result<Json> mergeSlice(const Json& originalIn, const Json& patchIn, const FieldMeta& meta,
                        const Schema& schema, bool isDeleteList) {
  Json original = originalIn.is_array() ? originalIn : Json::array();
  Json patch = patchIn;
  if (original.empty() && patch.empty()) return original;
  bool maps = (!patch.empty() ? patch[0] : original[0]).is_object();
  Json merged = Json::array();
  if (!maps) {
    if (isDeleteList) {
      for (const auto& o : original) {
        if (indexOf(patch, o, "") < 0) merged.push_back(o);
      }
      return merged;
    }
    for (const auto& v : original) {
      if (indexOf(merged, v, "") < 0) merged.push_back(v);  // deduplicateScalars
    }
    for (const auto& v : patch) {
      if (indexOf(merged, v, "") < 0) merged.push_back(v);
    }
    return normalizeOrder(merged, patch, original, "");
  }
  if (meta.mergeKey.empty()) return bad("cannot merge lists without merge key for " + schema.type());
  if (auto st = applySpecialElements(original, patch, meta.mergeKey); !st) return std::unexpected(st.error());
  Schema child = schema.child(meta);
  merged = original;
  for (const auto& v : patch) {
    if (!v.is_object() || !v.contains(meta.mergeKey)) return bad(noMergeKey(v, meta.mergeKey));
    long ix = indexOf(merged, v, meta.mergeKey);
    auto m = mergeMap(ix >= 0 ? merged[ix] : Json::object(), v, child);
    if (!m) return m;
    if (ix >= 0) {
      merged[ix] = std::move(*m);
    } else {
      merged.push_back(std::move(*m));
    }
  }
  return normalizeOrder(merged, patch, original, meta.mergeKey);
}

// applyRetainKeysDirective: drop the original's keys that the list does not name.
Status applyRetainKeys(Json& original, Json& patch) {
  auto it = patch.find(kRetainKeys);
  if (it == patch.end()) return {};
  Json keys = *it;
  patch.erase(it);
  if (!keys.is_array()) return bad("invalid patch format of retainKeys");
  auto listed = [&](const std::string& k) { return std::find(keys.begin(), keys.end(), Json(k)) != keys.end(); };
  for (const auto& [k, v] : patch.items()) {
    if (v.is_null() || k.starts_with(kDeletePrimitivePrefix) || k.starts_with(kSetOrderPrefix)) continue;
    if (!listed(k)) return bad("invalid patch format of retainKeys");
  }
  for (auto o = original.begin(); o != original.end();) {
    o = listed(o.key()) ? std::next(o) : original.erase(o);
  }
  return {};
}

// mergePatchIntoOriginal: each $setElementOrder/<field> with its patch list, merged and
// ordered with precedence $setElementOrder > patch list > live list.
Status applySetElementOrder(Json& original, Json& patch, const Schema& schema) {
  std::vector<std::string> directives;
  for (const auto& [k, v] : patch.items()) {
    if (k.starts_with(kSetOrderPrefix)) directives.push_back(k);
  }
  for (const auto& directive : directives) {
    Json order = patch[directive];
    std::string field = directive.substr(kSetOrderPrefix.size());
    if (!order.is_array()) return bad("invalid patch format of setElementOrder list");
    FieldMeta meta = schema.field(field);
    Json orig = original.contains(field) && original[field].is_array() ? original[field] : Json::array();
    Json list = patch.contains(field) && patch[field].is_array() ? patch[field] : Json::array();
    for (const auto& item : list) {
      if (item.is_object() && item.contains(kDirective)) continue;
      if (indexOf(order, item, meta.mergeKey) < 0) {
        return bad("invalid patch format of setElementOrder list");
      }
    }
    Json merged = orig;
    if (!list.empty()) {
      if (meta.merge) {
        auto m = mergeSlice(orig, list, meta, schema, false);
        if (!m) return std::unexpected(m.error());
        merged = std::move(*m);
      } else {
        merged = list;
      }
    }
    original[field] = normalizeOrder(merged, order, orig, meta.mergeKey);
    patch.erase(directive);
    patch.erase(field);
  }
  return {};
}

Result<Json> mergeValue(const Json& original, const Json& patchV, const FieldMeta& meta,
                        const Schema& schema, bool isDeleteList) {
  if (patchV.is_object()) {
    return mergeMap(original.is_object() ? original : Json::object(), patchV, schema.child(meta));
  }
  if (patchV.is_array() && (original.is_array() || original.is_null())) {
    if (!meta.merge) {
      // Lists without a merge strategy are replaced; elements still lose their nulls.
      Json out = Json::array();
      for (const auto& v : patchV) {
        if (!v.is_object()) {
          out.push_back(v);
          continue;
        }
        auto m = mergeMap(Json::object(), v, schema.child(meta));
        if (!m) return m;
        out.push_back(std::move(*m));
      }
      return out;
    }
    return mergeSlice(original, patchV, meta, schema, isDeleteList);
  }
  return patchV;
}

Result<Json> mergeMap(Json original, Json patch, const Schema& schema) {
  if (auto d = patch.find(kDirective); d != patch.end()) {
    if (*d == "replace") {
      patch.erase(kDirective);
      return mergeMap(Json::object(), patch, schema);
    }
    if (*d == "delete") return Json::object();
    return bad("unknown patch type: " + d->dump() + " in map: " + patch.dump());
  }
  if (auto st = applyRetainKeys(original, patch); !st) return std::unexpected(st.error());
  if (auto st = applySetElementOrder(original, patch, schema); !st) return std::unexpected(st.error());
  for (const auto& [key, patchV] : patch.items()) {
    std::string k = key;
    bool isDeleteList = k.starts_with(kDeletePrimitivePrefix);
    if (isDeleteList) {
      k = k.substr(kDeletePrimitivePrefix.size());
      if (!patchV.is_array()) return bad("invalid patch format of primitive list");
    }
    if (patchV.is_null()) {
      original.erase(k);  // IgnoreUnmatchedNulls: a null for a missing key is dropped
      continue;
    }
    auto it = original.find(k);
    if (it == original.end()) {
      if (isDeleteList) continue;
      auto v = mergeValue(Json(nullptr), patchV, schema.field(k), schema, false);
      if (!v) return v;
      original[k] = std::move(*v);
      continue;
    }
    bool sameType = (it->is_object() && patchV.is_object()) || (it->is_array() && patchV.is_array());
    if (!sameType && (it->is_object() || it->is_array() || patchV.is_object() || patchV.is_array())) {
      if (isDeleteList) continue;
      auto v = mergeValue(Json(nullptr), patchV, schema.field(k), schema, false);
      if (!v) return v;
      *it = std::move(*v);
      continue;
    }
    auto v = mergeValue(*it, patchV, schema.field(k), schema, isDeleteList);
    if (!v) return v;
    *it = std::move(*v);
  }
  return original;
}

}  // namespace

Result<Json> applyStrategicMergePatch(const ResourceInfo& r, const Json& original, const Json& patch) {
  if (!patch.is_object()) return bad("invalid JSON document");
  return mergeMap(original.is_object() ? original : Json::object(), patch, Schema::forKind(r.kind));
}

}  // namespace nanokube::api
