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
  auto* kubeconfig = cmd->add_option("--kubeconfig", opts->kubeconfig, "The node's kubeconfig (its client certificate)");
  auto* server = cmd->add_option("--server", opts->server, "The API server's URL, with --token (instead of --kubeconfig)");
  auto* token = cmd->add_option("--token", opts->token, "A join token from `nanokube token create`");
  cmd->add_option("--certificate-authority", opts->certificateAuthority, "The cluster CA that signs the server's certificate (with --server)");
  kubeconfig->excludes(server)->excludes(token);
  server->needs(token);
  token->needs(server);
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
  cmd->add_option("--overlay", opts->overlay,
                  "Pod-to-pod overlay to the other nodes: vxlan, udp, host-gw, or none")
      ->capture_default_str()
      ->check(CLI::IsMember({"vxlan", "udp", "host-gw", "none"}));
  cmd->add_option("--lan-interface", opts->lanInterface, "The node's LAN link (the overlay's underlay)")
      ->capture_default_str();
  cmd->add_option("--lan-mtu", opts->lanMtu, "MTU of the LAN; pods get it minus the overlay's encapsulation")
      ->capture_default_str();
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
