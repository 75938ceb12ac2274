// `nanokube agent`: the node agent (src/kubelet/agent).
#include <filesystem>
#include <memory>

#include <spdlog/spdlog.h>

#include "cmd/commands.h"
#include "kubelet/agent/agent.h"

namespace nanokube {

void addAgentCommand(CLI::App& app) {
  auto opts = std::make_shared<kubelet::AgentOptions>();
  auto* cmd = app.add_subcommand(
      "agent", "Run the node agent in this network namespace: register the Node, run its pods, until SIGINT/SIGTERM");
  cmd->add_option("--kubeconfig", opts->kubeconfig, "The node's kubeconfig (its client certificate)")->required();
  cmd->add_option("--node-name", opts->nodeName, "Name of the Node to register")->required();
  cmd->add_option("--node-ip", opts->nodeIp, "The node's InternalIP")->required();
  cmd->add_option("--data-dir", opts->dataDir, "The agent's state: containers, pod namespaces, IPAM, logs")->required();
  cmd->add_option("--image-store", opts->imageStore, "The local image store (see `nanokube image`)")->required();
  cmd->add_option("--tls-cert", opts->tlsCert, "Certificate of the agent's HTTPS endpoint (logs, exec)");
  cmd->add_option("--tls-key", opts->tlsKey, "Key of the agent's HTTPS endpoint");
  cmd->add_option("--client-ca", opts->clientCa, "CA whose client certificates may call the HTTPS endpoint");
  cmd->add_option("--port", opts->port, "Port of the HTTPS endpoint")->capture_default_str();
  cmd->add_option("--pause", opts->pauseBinary, "The pause binary (default: nanokube-pause beside this binary)");
  cmd->add_option("--cgroup-root", opts->cgroupRoot, "Parent cgroup of the node's pods")->capture_default_str();
  cmd->add_option("--workers", opts->workers, "Pods synced at once")->capture_default_str();
  cmd->add_option("--mtu", opts->mtu, "MTU of the pods' interfaces and the node bridge")->capture_default_str();
  cmd->callback([opts] {
    if (opts->pauseBinary.empty()) {
      opts->pauseBinary = (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "nanokube-pause").string();
    }
    auto r = kubelet::runAgent(*opts);
    if (!r) {
      spdlog::error("agent: {}", r.error().message);
      throw CLI::RuntimeError(1);
    }
  });
}

}  // namespace nanokube
