#include "cluster/format.h"

#include <algorithm>
#include <tuple>

#include <fmt/format.h>

namespace nanokube::cluster {

namespace rt = kubelet::runtime;

std::string formatTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 3, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

namespace {

std::string annotation(const rt::ContainerStatus& c, std::string_view key) {
  auto it = c.annotations.find(std::string(key));
  return it == c.annotations.end() ? std::string() : it->second;
}

std::string statusText(const rt::ContainerStatus& c) {
  if (c.status == rt::Status::kStopped) {
    return c.exit ? fmt::format("exited ({})", c.exit->code) : std::string("exited (unknown)");
  }
  return std::string(rt::statusName(c.status));
}

}  // namespace

PsRow psRow(const std::string& node, const rt::ContainerStatus& c, const std::string& netns) {
  PsRow row;
  row.id = c.id;
  row.node = node;
  std::string ns = annotation(c, rt::kAnnotationPodNamespace), name = annotation(c, rt::kAnnotationPodName);
  row.pod = name.empty() ? "-" : (ns.empty() ? name : ns + "/" + name);
  std::string type = annotation(c, rt::kAnnotationType);
  row.type = type.empty() ? "-" : type;
  if (type == rt::kTypeSandbox) {
    row.container = "POD";
  } else {
    std::string container = annotation(c, rt::kAnnotationContainerName);
    row.container = container.empty() ? "-" : container;
  }
  row.status = statusText(c);
  bool running = c.pid > 0 && (c.status == rt::Status::kRunning || c.status == rt::Status::kCreated ||
                               c.status == rt::Status::kPaused);
  row.pid = running ? std::to_string(c.pid) : "-";
  row.netns = running && !netns.empty() ? netns : "-";
  return row;
}

std::string formatPs(std::vector<PsRow> rows) {
  std::sort(rows.begin(), rows.end(), [](const PsRow& a, const PsRow& b) {
    auto key = [](const PsRow& r) { return std::make_tuple(r.node, r.pod, r.type != "sandbox", r.container, r.id); };
    return key(a) < key(b);
  });
  std::vector<std::vector<std::string>> table{kPsHeader};
  for (const auto& r : rows) table.push_back({r.id, r.node, r.pod, r.container, r.type, r.status, r.pid, r.netns});
  return formatTable(table);
}

std::string formatStatus(const ClusterStatus& status) {
  std::string out;
  out += fmt::format("data dir:   {}\n", status.dataDir);
  out += fmt::format("server:     {} ({})\n", status.serverUrl,
                     status.serverPid ? fmt::format("running, pid {}", *status.serverPid) : "not running");
  out += fmt::format("kubeconfig: {}\n\n", status.kubeconfig);
  std::vector<std::vector<std::string>> table{{"NODE", "IP", "AGENT", "NETNS", "READY"}};
  for (const auto& n : status.nodes) {
    table.push_back({n.name, n.ip, n.agentPid ? fmt::format("running (pid {})", *n.agentPid) : "not running",
                     n.netns ? "present" : "missing",
                     n.ready ? (*n.ready ? "True" : "False") : "Unknown"});
  }
  return out + formatTable(table);
}

std::map<std::string, bool> nodeReadiness(const Json& nodeList) {
  std::map<std::string, bool> out;
  if (!nodeList.is_object() || !nodeList.contains("items") || !nodeList["items"].is_array()) return out;
  for (const auto& node : nodeList["items"]) {
    std::string name = node.value("/metadata/name"_json_pointer, std::string());
    if (name.empty()) continue;
    bool ready = false;
    auto conditions = node.value("/status/conditions"_json_pointer, Json::array());
    for (const auto& c : conditions) {
      if (c.value("type", "") == "Ready") ready = c.value("status", "") == "True";
    }
    out[name] = ready;
  }
  return out;
}

}  // namespace nanokube::cluster
