#include "cluster/plan.h"

#include <charconv>
#include <cstdint>

#include <fmt/format.h>

namespace nanokube::cluster {

namespace fs = std::filesystem;

std::string ClusterPlan::serverListen() const { return fmt::format("{}:{}", kHostAddress, kServerPort); }

std::string ClusterPlan::serverUrl() const { return "https://" + serverListen(); }

std::string clusterId(const fs::path& dataDir) {
  uint32_t hash = 2166136261u;
  for (unsigned char c : dataDir.string()) {
    hash ^= c;
    hash *= 16777619u;
  }
  return fmt::format("{:08x}", hash);
}

std::string nodeIp(int index) { return fmt::format("192.168.250.{}", 10 + index); }

int nodeIndex(std::string_view name) {
  constexpr std::string_view prefix = "node-";
  if (!name.starts_with(prefix) || name.size() == prefix.size()) return 0;
  std::string_view digits = name.substr(prefix.size());
  if (digits[0] == '0') return 0;
  int index = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
  if (ec != std::errc() || end != digits.data() + digits.size() || index < 1 || index > kMaxNodes) return 0;
  return index;
}

std::string dataDirFromAlias(std::string_view alias) {
  if (!alias.starts_with(kAliasPrefix)) return {};
  return std::string(alias.substr(kAliasPrefix.size()));
}

Result<ClusterPlan> planCluster(const fs::path& dataDir, int nodes) {
  if (nodes < 1 || nodes > kMaxNodes) {
    return fail(Code::kInvalid, fmt::format("--nodes {}: want 1 to {}", nodes, kMaxNodes));
  }
  if (dataDir.empty()) return fail(Code::kInvalid, "--data-dir: want a directory");
  ClusterPlan plan;
  plan.dataDir = fs::absolute(dataDir).lexically_normal();
  // "/x/dir/" normalizes to "/x/dir/"; the alias and the id want one spelling.
  if (plan.dataDir.has_parent_path() && !plan.dataDir.has_filename()) plan.dataDir = plan.dataDir.parent_path();
  plan.id = clusterId(plan.dataDir);
  for (int i = 1; i <= nodes; ++i) {
    NodePlan node;
    node.index = i;
    node.name = fmt::format("node-{}", i);
    node.ip = nodeIp(i);
    node.dir = plan.nodesDir() / node.name;
    node.netns = plan.netnsDir() / node.name;
    node.cgroupRoot = plan.cgroupParent() + "/" + node.name;
    plan.nodes.push_back(std::move(node));
  }
  return plan;
}

std::vector<std::string> serverArgv(const ClusterPlan& plan, const fs::path& binary) {
  return {binary.string(), "server", "--data-dir", plan.serverDir().string(), "--listen", plan.serverListen()};
}

std::vector<std::string> agentArgv(const ClusterPlan& plan, const NodePlan& node, const fs::path& binary,
                                   const fs::path& pauseBinary) {
  return {binary.string(),
          "agent",
          "--kubeconfig",
          node.kubeconfig().string(),
          "--node-name",
          node.name,
          "--node-ip",
          node.ip,
          "--data-dir",
          node.dir.string(),
          "--image-store",
          plan.imageStore().string(),
          "--tls-cert",
          node.servingCert().string(),
          "--tls-key",
          node.servingKey().string(),
          "--client-ca",
          plan.caCert().string(),
          "--cgroup-root",
          node.cgroupRoot,
          "--pause",
          pauseBinary.string(),
          "--overlay",
          plan.overlay};
}

}  // namespace nanokube::cluster
