#include "api/table.h"
#include "api/object.h"

#include <algorithm>
#include <cstdio>

#include "api/selector.h"
#include "api/table_internal.h"

namespace nanokube::api {

namespace {

std::string fmt(const char* format, long long a) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, a);
  return buf;
}

std::string fmt(const char* format, long long a, long long b) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, a, b);
  return buf;
}

}  // namespace

// A port of k8s.io/apimachinery/pkg/util/duration.HumanDuration, branch for branch,
// so that ages and restart times read exactly as a real server prints them.
std::string humanDuration(std::chrono::nanoseconds d) {
  using namespace std::chrono;
  // Go's int(d.Seconds()) truncates toward zero, as C++ integer division does.
  long long seconds = d.count() / 1'000'000'000LL;
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return fmt("%llds", seconds);
  long long minutes = duration_cast<std::chrono::minutes>(d).count();
  if (minutes < 10) {
    long long s = seconds % 60;
    return s == 0 ? fmt("%lldm", minutes) : fmt("%lldm%llds", minutes, s);
  }
  if (minutes < 60 * 3) return fmt("%lldm", minutes);
  long long hours = duration_cast<std::chrono::hours>(d).count();
  if (hours < 8) {
    long long m = minutes % 60;
    return m == 0 ? fmt("%lldh", hours) : fmt("%lldh%lldm", hours, m);
  }
  if (hours < 48) return fmt("%lldh", hours);
  if (hours < 24 * 8) {
    long long h = hours % 24;
    return h == 0 ? fmt("%lldd", hours / 24) : fmt("%lldd%lldh", hours / 24, h);
  }
  if (hours < 24 * 365 * 2) return fmt("%lldd", hours / 24);
  if (hours < 24 * 365 * 8) {
    long long dy = (hours / 24) % 365;
    return dy == 0 ? fmt("%lldy", hours / 24 / 365) : fmt("%lldy%lldd", hours / 24 / 365, dy);
  }
  return fmt("%lldy", hours / 24 / 365);
}

namespace table {

const Json* at(const Json& obj, std::initializer_list<const char*> path) { return fieldAt(obj, path); }

std::string str(const Json& obj, std::initializer_list<const char*> path) { return stringAt(obj, path); }

std::int64_t num(const Json& obj, std::initializer_list<const char*> path) {
  const Json* v = at(obj, path);
  if (v == nullptr || !v->is_number()) return 0;
  return v->is_number_float() ? static_cast<std::int64_t>(v->get<double>()) : v->get<std::int64_t>();
}

bool flag(const Json& obj, std::initializer_list<const char*> path) {
  const Json* v = at(obj, path);
  return v != nullptr && v->is_boolean() && v->get<bool>();
}

const Json& arr(const Json& obj, std::initializer_list<const char*> path) {
  static const Json kEmpty = Json::array();
  const Json* v = at(obj, path);
  return v != nullptr && v->is_array() ? *v : kEmpty;
}

std::string since(const Json* timestamp, TimePoint now) {
  if (timestamp == nullptr || !timestamp->is_string()) return "<unknown>";
  auto t = parseRfc3339(timestamp->get<std::string>());
  if (!t) return "<unknown>";
  return humanDuration(now - *t);
}

std::string age(const Json& obj, TimePoint now) {
  return since(at(obj, {"metadata", "creationTimestamp"}), now);
}

std::string formatLabels(const Json* map) {
  if (map == nullptr || !map->is_object() || map->empty()) return "<none>";
  // nlohmann's object keeps keys sorted, which is the order FormatLabels sorts into.
  std::string out;
  for (const auto& [k, v] : map->items()) {
    if (!out.empty()) out += ',';
    out += k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  return out;
}

std::string formatLabelSelector(const Json* selector) {
  if (selector == nullptr || selector->is_null()) return "<none>";
  auto sel = labelSelectorFromJson(*selector);
  if (!sel) return "<error>";
  std::string s = sel->str();
  return s.empty() ? "<none>" : s;
}

std::pair<std::string, std::string> containerCells(const Json& podSpec) {
  std::string names;
  std::string images;
  const Json& containers = arr(podSpec, {"containers"});
  for (size_t i = 0; i < containers.size(); ++i) {
    if (i > 0) {
      names += ',';
      images += ',';
    }
    names += str(containers[i], {"name"});
    images += str(containers[i], {"image"});
  }
  return {names, images};
}

}  // namespace table

Json columnDefinitions(const ResourceInfo& r) {
  Json out = Json::array();
  for (const auto& c : table::printerFor(r.kind).columns) {
    // TableColumnDefinition has no omitempty tags, so a real server sends all five keys.
    out.push_back({{"name", c.name},
                   {"type", c.type},
                   {"format", c.format},
                   {"description", c.description},
                   {"priority", c.priority}});
  }
  return out;
}

namespace {

Json rowObject(const Json& obj, IncludeObject include) {
  if (include == IncludeObject::kObject) return obj;
  Json meta = obj.contains("metadata") ? obj["metadata"] : Json::object();
  return {{"kind", "PartialObjectMetadata"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", std::move(meta)}};
}

}  // namespace

Json tableRow(const ResourceInfo& r, const Json& obj, TimePoint now, IncludeObject include) {
  const auto& printer = table::printerFor(r.kind);
  Json row = {{"cells", printer.cells(obj, now)}};
  if (printer.conditions != nullptr) {
    Json conditions = printer.conditions(obj);
    if (!conditions.is_null()) row["conditions"] = std::move(conditions);
  }
  if (include != IncludeObject::kNone) row["object"] = rowObject(obj, include);
  return row;
}

Json toTable(const ResourceInfo& r, const std::vector<const Json*>& objs, const Json& listMetadata,
             TimePoint now, IncludeObject include, bool withColumns) {
  Json rows = Json::array();
  for (const Json* obj : objs) rows.push_back(tableRow(r, *obj, now, include));
  Json meta = listMetadata.is_object() ? listMetadata : Json::object();
  return {{"kind", "Table"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", std::move(meta)},
          {"columnDefinitions", withColumns ? columnDefinitions(r) : Json::array()},
          {"rows", std::move(rows)}};
}

}  // namespace nanokube::api
