// `nanokube cluster up|down|status` and `nanokube ps`.
#include <cstdio>
#include <memory>
#include <string>

#include "cluster/cluster.h"
#include "cmd/commands.h"

namespace nanokube {

namespace {

[[noreturn]] void failWith(const char* command, const Error& error, int code = 1) {
  std::fprintf(stderr, "nanokube %s: %s\n", command, error.message.c_str());
  throw CLI::RuntimeError(code);
}

// True when this binary has a subcommand called `name` (the node agent is being
// written alongside; until it lands `cluster up` starts no agents).
bool hasSubcommand(CLI::App& app, const std::string& name) {
  try {
    return app.get_subcommand(name) != nullptr;
  } catch (const CLI::OptionNotFound&) {
    return false;
  }
}

void printUsage(const cluster::ClusterPlan& plan, bool agents) {
  std::printf(
      "\nnanokube cluster is up: %zu node(s), API server %s (log: %s).\n"
      "Use it with kubectl:\n\n"
      "  export KUBECONFIG=%s\n"
      "  kubectl get nodes\n"
      "  kubectl create -f examples/seeds/nginxpod.yaml\n\n"
      "See the containers with: nanokube ps --data-dir %s\n"
      "Stop it with:            nanokube cluster down --data-dir %s\n",
      plan.nodes.size(), plan.serverUrl().c_str(), plan.serverLog().c_str(), plan.kubeconfig().c_str(),
      plan.dataDir.c_str(), plan.dataDir.c_str());
  if (!agents) std::printf("(no node agent in this build yet: the nodes do not register and pods stay Pending)\n");
}

}  // namespace

void addClusterCommands(CLI::App& app) {
  struct Options {
    std::string dataDir;
    int nodes = 1;
    std::string overlay = "vxlan";
    int timeout = 60;
    std::string imageCache;
    std::string imagesDir;
    bool noImages = false;
    bool purge = false;
    std::string node;
  };
  auto options = std::make_shared<Options>();

  auto* clusterCmd = app.add_subcommand(
      "cluster", "A local cluster on this machine: one network namespace per node on a LAN bridge (192.168.250.0/24)");
  clusterCmd->require_subcommand(1);
  auto addDataDir = [&](CLI::App* cmd) {
    cmd->add_option("--data-dir", options->dataDir, "The cluster's directory (state, logs, certificates, images)")
        ->required();
  };

  auto* upCmd = clusterCmd->add_subcommand(
      "up",
      "Start the API server on 192.168.250.1:6443 and one agent per node (node-<i> at 192.168.250.(10+i)), "
      "import the example images, wait until every Node is Ready and write DATA_DIR/kubeconfig");
  addDataDir(upCmd);
  upCmd->add_option("--nodes", options->nodes, "Number of nodes")->capture_default_str()->check(CLI::Range(1, cluster::kMaxNodes));
  upCmd->add_option("--overlay", options->overlay,
                    "How pods reach pods on other nodes: vxlan (kernel VXLAN), udp (a TUN device and UDP, as "
                    "flannel's udp backend) or host-gw (routes via the nodes' LAN addresses)")
      ->capture_default_str()
      ->check(CLI::IsMember({"vxlan", "udp", "host-gw"}));
  upCmd->add_option("--timeout", options->timeout, "Seconds to wait for the server and the Nodes to be Ready")
      ->capture_default_str();
  upCmd->add_option("--image-cache", options->imageCache,
                    "Directory of the example image archives, built with images/build-all when one is missing "
                    "(default: <directory of the nanokube binary>/images)");
  upCmd->add_option("--images-dir", options->imagesDir,
                    "The repository's images/ folder (default: found above the nanokube binary's directory)");
  upCmd->add_flag("--no-images", options->noImages, "Do not build or import the example images");
  upCmd->callback([options, &app] {
    cluster::UpOptions up;
    up.dataDir = options->dataDir;
    up.nodes = options->nodes;
    up.overlay = options->overlay;
    up.timeout = std::chrono::seconds(options->timeout);
    up.imageCache = options->imageCache;
    up.imagesDir = options->imagesDir;
    up.images = !options->noImages;
    up.agents = hasSubcommand(app, "agent");
    up.binaries = cluster::selfBinaries();
    auto plan = cluster::up(up);
    if (!plan) failWith("cluster up", plan.error());
    printUsage(*plan, up.agents);
  });

  auto* downCmd = clusterCmd->add_subcommand(
      "down", "Stop the cluster's processes and remove its pods, namespaces, links, mounts and cgroups");
  addDataDir(downCmd);
  downCmd->add_flag("--purge", options->purge, "Remove the data directory too (store, images, logs)");
  downCmd->callback([options] {
    auto r = cluster::down({options->dataDir, options->purge, cluster::selfBinaries()});
    if (!r) failWith("cluster down", r.error());
    std::printf("nanokube cluster in %s is down\n", options->dataDir.c_str());
  });

  auto* statusCmd = clusterCmd->add_subcommand(
      "status", "Show the server URL and the nodes with their IPs, agents and readiness; exits 1 when the server is not running");
  addDataDir(statusCmd);
  statusCmd->callback([options] {
    auto s = cluster::status(options->dataDir);
    if (!s) failWith("cluster status", s.error());
    std::fputs(cluster::formatStatus(*s).c_str(), stdout);
    if (!s->serverPid) throw CLI::RuntimeError(1);
  });

  auto* psCmd = app.add_subcommand(
      "ps", "List the containers of the cluster's nodes, pause containers included, with their PID and network namespace");
  addDataDir(psCmd);
  psCmd->add_option("--node", options->node, "Only this node (node-<i>)");
  psCmd->callback([options] {
    auto rows = cluster::ps(options->dataDir, options->node, cluster::selfBinaries());
    if (!rows) failWith("ps", rows.error());
    std::fputs(cluster::formatPs(*rows).c_str(), stdout);
  });
}

}  // namespace nanokube
