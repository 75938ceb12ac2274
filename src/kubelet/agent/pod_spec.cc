#include "kubelet/agent/pod_spec.h"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

#include "api/object.h"
#include "api/validation.h"

namespace nanokube::kubelet {

namespace {

// "metadata.labels['app']" → ("labels", "app").
std::optional<std::pair<std::string, std::string>> mapField(std::string_view path) {
  for (const char* m : {"labels", "annotations"}) {
    std::string prefix = fmt::format("metadata.{}['", m);
    if (path.starts_with(prefix) && path.ends_with("']")) {
      return std::make_pair(std::string(m), std::string(path.substr(prefix.size(), path.size() - prefix.size() - 2)));
    }
  }
  return std::nullopt;
}

Result<std::string> fieldRefValue(const Json& pod, std::string_view path, const PodPlacement& placement) {
  if (path == "metadata.name") return api::stringAt(pod, {"metadata", "name"});
  if (path == "metadata.namespace") return api::stringAt(pod, {"metadata", "namespace"});
  if (path == "metadata.uid") return api::stringAt(pod, {"metadata", "uid"});
  if (path == "spec.nodeName") return placement.nodeName;
  if (path == "spec.serviceAccountName") return api::stringAt(pod, {"spec", "serviceAccountName"});
  if (path == "status.hostIP" || path == "status.hostIPs") return placement.hostIp;
  if (path == "status.podIP" || path == "status.podIPs") return placement.podIp;
  if (auto m = mapField(path)) {
    const Json* map = api::fieldAt(pod, {"metadata", m->first.c_str()});
    if (map && map->is_object() && map->contains(m->second) && (*map)[m->second].is_string()) {
      return (*map)[m->second].get<std::string>();
    }
    return std::string();
  }
  return fail(Code::kInvalid, fmt::format("unsupported fieldRef fieldPath \"{}\"", path));
}

// The value of a resourceFieldRef: limits.cpu in cores (rounded up, divisor
// 1), memory in bytes; the node's capacity stands in for an unset limit in
// Kubernetes, which the agent does not model here: an unset limit gives "0".
Result<std::string> resourceFieldValue(const Json& container, const Json& ref) {
  std::string resource = ref.value("resource", "");
  auto dot = resource.find('.');
  if (dot == std::string::npos) return fail(Code::kInvalid, fmt::format("unsupported resource \"{}\"", resource));
  const Json* q = api::fieldAt(container, {"resources", resource.substr(0, dot).c_str(), resource.substr(dot + 1).c_str()});
  auto value = q ? api::parseQuantity(*q) : std::nullopt;
  __int128 divisor = 1'000'000'000;
  if (ref.contains("divisor")) {
    auto d = api::parseQuantity(ref["divisor"]);
    if (!d || d->nanos == 0) return fail(Code::kInvalid, "invalid resourceFieldRef divisor");
    divisor = d->nanos;
  }
  __int128 n = value ? value->nanos : 0;
  __int128 out = (n + divisor - 1) / divisor;  // ceil, as the kubelet rounds
  return fmt::format("{}", static_cast<long long>(out));
}

}  // namespace

Result<EnvList> containerEnv(const Json& pod, const Json& container, const PodPlacement& placement,
                             const EnvList& serviceEnv) {
  EnvList env = serviceEnv;
  const Json* list = api::fieldAt(container, {"env"});
  if (!list || !list->is_array()) return env;
  for (const auto& e : *list) {
    std::string name = e.value("name", "");
    if (name.empty()) continue;
    if (e.contains("valueFrom") && e["valueFrom"].is_object()) {
      const Json& from = e["valueFrom"];
      Result<std::string> value = std::string();
      if (from.contains("fieldRef")) {
        value = fieldRefValue(pod, from["fieldRef"].value("fieldPath", ""), placement);
      } else if (from.contains("resourceFieldRef")) {
        value = resourceFieldValue(container, from["resourceFieldRef"]);
      } else {
        std::string kind = from.contains("secretKeyRef") ? "secretKeyRef" : from.contains("configMapKeyRef") ? "configMapKeyRef" : "valueFrom";
        return fail(Code::kInvalid, fmt::format("env {}: {} is not supported by nanokube's agent yet", name, kind));
      }
      if (!value) return std::unexpected(value.error());
      env.emplace_back(name, *value);
      continue;
    }
    env.emplace_back(name, runtime::expandVars(e.value("value", ""), env));
  }
  return env;
}

runtime::Resources containerResources(const Json& container) {
  runtime::Resources r;
  auto milli = [](const Json* q) -> std::optional<int64_t> {
    if (!q) return std::nullopt;
    auto v = api::parseQuantity(*q);
    if (!v) return std::nullopt;
    return static_cast<int64_t>((v->nanos + 999'999) / 1'000'000);
  };
  auto bytes = [](const Json* q) -> std::optional<int64_t> {
    if (!q) return std::nullopt;
    auto v = api::parseQuantity(*q);
    if (!v) return std::nullopt;
    return static_cast<int64_t>((v->nanos + 999'999'999) / 1'000'000'000);
  };
  r.cpuRequestMilli = milli(api::fieldAt(container, {"resources", "requests", "cpu"}));
  r.cpuLimitMilli = milli(api::fieldAt(container, {"resources", "limits", "cpu"}));
  r.memoryLimitBytes = bytes(api::fieldAt(container, {"resources", "limits", "memory"}));
  return r;
}

std::string resolvConfFor(const Json& pod, std::string_view clusterDns, std::string_view clusterDomain,
                          std::string_view nodeResolvConf) {
  std::string policy = api::stringAt(pod, {"spec", "dnsPolicy"});
  bool hostNetwork = api::fieldAt(pod, {"spec", "hostNetwork"}) && pod["spec"]["hostNetwork"] == true;
  if (policy.empty()) policy = "ClusterFirst";
  if (policy == "ClusterFirstWithHostNet") policy = "ClusterFirst";
  else if (policy == "ClusterFirst" && hostNetwork) policy = "Default";

  std::vector<std::string> servers, searches, options;
  if (policy == "ClusterFirst") {
    std::string ns = api::stringAt(pod, {"metadata", "namespace"});
    servers.emplace_back(clusterDns);
    searches = {fmt::format("{}.svc.{}", ns, clusterDomain), fmt::format("svc.{}", clusterDomain),
                std::string(clusterDomain)};
    options = {"ndots:5"};
  } else if (policy == "Default") {
    std::istringstream in{std::string(nodeResolvConf)};
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream words(line);
      std::string key, word;
      words >> key;
      auto& into = key == "nameserver" ? servers : key == "search" ? searches : key == "options" ? options : options;
      if (key != "nameserver" && key != "search" && key != "options") continue;
      while (words >> word) into.push_back(word);
    }
  }
  if (const Json* cfg = api::fieldAt(pod, {"spec", "dnsConfig"}); cfg && cfg->is_object()) {
    for (const auto& s : cfg->value("nameservers", Json::array())) {
      if (s.is_string()) servers.push_back(s.get<std::string>());
    }
    for (const auto& s : cfg->value("searches", Json::array())) {
      if (s.is_string()) searches.push_back(s.get<std::string>());
    }
    for (const auto& o : cfg->value("options", Json::array())) {
      if (!o.is_object() || !o.contains("name")) continue;
      std::string name = o.value("name", "");
      std::string text = o.contains("value") ? name + ":" + o.value("value", "") : name;
      auto same = std::find_if(options.begin(), options.end(), [&](const std::string& x) {
        return x.substr(0, x.find(':')) == name;
      });
      if (same != options.end()) *same = text;
      else options.push_back(text);
    }
  }
  std::string out;
  for (const auto& s : servers) out += "nameserver " + s + "\n";
  if (!searches.empty()) {
    out += "search";
    for (const auto& s : searches) out += " " + s;
    out += "\n";
  }
  if (!options.empty()) {
    out += "options";
    for (const auto& o : options) out += " " + o;
    out += "\n";
  }
  return out;
}

std::string podHostname(const Json& pod) {
  std::string h = api::stringAt(pod, {"spec", "hostname"});
  if (h.empty()) h = api::stringAt(pod, {"metadata", "name"});
  if (h.size() > 63) {
    h.resize(63);
    while (!h.empty() && (h.back() == '-' || h.back() == '.')) h.pop_back();
  }
  return h;
}

bool shouldRestart(std::string_view restartPolicy, int exitCode) {
  if (restartPolicy == "Never") return false;
  if (restartPolicy == "OnFailure") return exitCode != 0;
  return true;
}

std::chrono::seconds nextBackoff(std::chrono::seconds current) {
  if (current.count() <= 0) return kInitialBackoff;
  return std::min(current * 2, std::chrono::seconds(kMaxBackoff));
}

std::string podDesc(const Json& pod) {
  return fmt::format("{}_{}({})", api::stringAt(pod, {"metadata", "name"}), api::stringAt(pod, {"metadata", "namespace"}),
                     api::stringAt(pod, {"metadata", "uid"}));
}

Result<std::optional<Probe>> parseProbe(const Json& container, const char* field) {
  const Json* p = api::fieldAt(container, {field});
  if (!p || !p->is_object()) return std::optional<Probe>();
  Probe probe;
  probe.initialDelaySeconds = p->value("initialDelaySeconds", 0);
  probe.periodSeconds = std::max(1, p->value("periodSeconds", 10));
  probe.timeoutSeconds = std::max(1, p->value("timeoutSeconds", 1));
  probe.successThreshold = std::max(1, p->value("successThreshold", 1));
  probe.failureThreshold = std::max(1, p->value("failureThreshold", 3));
  auto portOf = [&](const Json& handler) -> Result<int> {
    const Json& port = handler.contains("port") ? handler["port"] : Json();
    if (port.is_number_integer()) return port.get<int>();
    if (port.is_string()) {
      std::string name = port.get<std::string>();
      if (!name.empty() && std::all_of(name.begin(), name.end(), ::isdigit)) return std::stoi(name);
      for (const auto& cp : container.value("ports", Json::array())) {
        if (cp.value("name", "") == name) return cp.value("containerPort", 0);
      }
      return fail(Code::kInvalid, fmt::format("{}: no container port named \"{}\"", field, name));
    }
    return fail(Code::kInvalid, fmt::format("{}: missing port", field));
  };
  if (p->contains("httpGet")) {
    const Json& h = (*p)["httpGet"];
    probe.kind = Probe::Kind::kHttpGet;
    auto port = portOf(h);
    if (!port) return std::unexpected(port.error());
    probe.port = *port;
    probe.path = h.value("path", "/");
    if (probe.path.empty() || probe.path[0] != '/') probe.path = "/" + probe.path;
    probe.host = h.value("host", "");
    probe.scheme = h.value("scheme", "HTTP");
    for (const auto& hd : h.value("httpHeaders", Json::array())) {
      probe.headers.emplace_back(hd.value("name", ""), hd.value("value", ""));
    }
  } else if (p->contains("tcpSocket")) {
    probe.kind = Probe::Kind::kTcpSocket;
    auto port = portOf((*p)["tcpSocket"]);
    if (!port) return std::unexpected(port.error());
    probe.port = *port;
    probe.host = (*p)["tcpSocket"].value("host", "");
  } else if (p->contains("exec")) {
    probe.kind = Probe::Kind::kExec;
    for (const auto& c : (*p)["exec"].value("command", Json::array())) {
      if (c.is_string()) probe.command.push_back(c.get<std::string>());
    }
  } else if (p->contains("grpc")) {
    return fail(Code::kInvalid, fmt::format("{}: grpc probes are not supported by nanokube's agent yet", field));
  } else {
    return fail(Code::kInvalid, fmt::format("{}: the probe has no handler", field));
  }
  return std::optional<Probe>(std::move(probe));
}

}  // namespace nanokube::kubelet
