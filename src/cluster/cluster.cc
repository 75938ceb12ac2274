#include "cluster/cluster.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>

#include <algorithm>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "apiserver/pki.h"
#include "client/api_client_impl.h"
#include "client/config.h"
#include "cluster/cleanup.h"
#include "cluster/images.h"
#include "cluster/network.h"
#include "cluster/process.h"
#include "cluster/state.h"
#include "kubelet/agent/node_runtime.h"
#include "net/netns.h"

namespace nanokube::cluster {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr size_t kLogTail = 30;

// SIGINT/SIGTERM/SIGHUP during `up`: the waits stop and up cleans up as on failure.
std::atomic<bool> gInterrupted{false};
extern "C" void onInterrupt(int) { gInterrupted = true; }

bool interrupted() { return gInterrupted.load(); }

Error interruptedError() { return Error{Code::kInternal, "interrupted"}; }

// Installs onInterrupt for the scope (without SA_RESTART, so blocking calls return).
class InterruptScope {
 public:
  InterruptScope() {
    struct sigaction action {};
    action.sa_handler = onInterrupt;
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < std::size(kSignals); ++i) ::sigaction(kSignals[i], &action, &saved_[i]);
  }
  ~InterruptScope() {
    for (size_t i = 0; i < std::size(kSignals); ++i) ::sigaction(kSignals[i], &saved_[i], nullptr);
  }

 private:
  static constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};
  struct sigaction saved_[3];
};

// Keeps the previous run's log as <log>.1, so that a failing start shows its own lines.
void rotateLog(const fs::path& log) {
  std::error_code ec;
  if (fs::exists(log, ec)) fs::rename(log, fs::path(log.string() + ".1"), ec);
}

std::optional<pid_t> runningServer(const ClusterPlan& plan) {
  return runningProcess(plan.serverPidFile(), "server", "--data-dir", plan.serverDir().string());
}

std::optional<pid_t> runningAgent(const NodePlan& node) {
  return runningProcess(node.pidFile(), "agent", "--data-dir", node.dir.string());
}

Error withLog(Error error, const fs::path& log) {
  error.message += fmt::format("\nlast lines of {}:\n{}", log.string(), tailFile(log, kLogTail));
  return error;
}

// The plan of what is (or was) in dataDir: the recorded node count, or as many
// nodes as there are node directories or namespaces left (a crash before the
// state was written, or a state file deleted by hand).
ClusterPlan existingPlan(const fs::path& dataDir) {
  int nodes = 0;
  if (auto state = readState(fs::path(dataDir) / "cluster.json")) nodes = state->nodes;
  std::error_code ec;
  for (const fs::path& dir : {dataDir / "nodes", dataDir / "netns"}) {
    if (!fs::is_directory(dir, ec)) continue;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      nodes = std::max(nodes, nodeIndex(entry.path().filename().string()));
    }
  }
  auto plan = planCluster(dataDir, std::max(nodes, 1));
  if (plan && nodes == 0) plan->nodes.clear();
  return plan ? *plan : ClusterPlan{};
}

Result<std::unique_ptr<client::ApiClientImpl>> adminClient(const ClusterPlan& plan, std::chrono::milliseconds timeout) {
  auto config = client::loadKubeconfig(plan.kubeconfig().string());
  if (!config) return std::unexpected(config.error());
  client::ClientOptions options;
  options.connectTimeout = timeout;
  options.requestTimeout = timeout;
  options.userAgent = "nanokube-cluster";
  return client::ApiClientImpl::create(*config, options);
}

Result<void> writeCredentials(const ClusterPlan& plan) {
  const std::string host(kHostAddress);
  auto pki = apiserver::ensurePki(plan.serverDir().string(), {host, "127.0.0.1", "10.96.0.1"},
                                  {"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                                   "kubernetes.default.svc.cluster.local"});
  if (!pki) return std::unexpected(pki.error());
  for (const auto& node : plan.nodes) {
    std::error_code ec;
    fs::create_directories(node.dir, ec);
    if (ec) return fail(Code::kInternal, fmt::format("mkdir {}: {}", node.dir.string(), ec.message()));
    // The kubelet's identity as the Node authorizer knows it.
    if (auto r = apiserver::issueClientCert(*pki, "system:node:" + node.name, "system:nodes",
                                            node.clientCert().string(), node.clientKey().string());
        !r) {
      return r;
    }
    if (auto r = apiserver::writeKubeconfigFor(node.kubeconfig().string(), plan.serverUrl(), *pki, "nanokube",
                                               "system:node:" + node.name, node.clientCert().string(),
                                               node.clientKey().string());
        !r) {
      return r;
    }
    if (auto r = apiserver::issueServingCert(*pki, node.name, {node.ip}, {node.name}, node.servingCert().string(),
                                             node.servingKey().string());
        !r) {
      return r;
    }
  }
  return {};
}

Result<pid_t> startServer(const ClusterPlan& plan, const Binaries& binaries) {
  std::error_code ec;
  fs::remove(plan.serverKubeconfig(), ec);  // a stale one would pass for a started server
  rotateLog(plan.serverLog());
  auto pid = spawnDetached({serverArgv(plan, binaries.nanokube), plan.serverLog()});
  if (!pid) return std::unexpected(pid.error());
  if (auto r = writePidFile(plan.serverPidFile(), *pid); !r) return std::unexpected(r.error());
  return pid;
}

// Until the server has written its kubeconfig and answers a list of Nodes.
Result<void> waitForServer(const ClusterPlan& plan, pid_t pid, std::chrono::steady_clock::time_point deadline) {
  std::error_code ec;
  while (!fs::exists(plan.serverKubeconfig(), ec)) {
    if (interrupted()) return std::unexpected(interruptedError());
    if (waitExited(pid)) return std::unexpected(withLog(Error{Code::kInternal, "the API server exited"}, plan.serverLog()));
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::unexpected(withLog(Error{Code::kTimeout, "the API server did not start in time"}, plan.serverLog()));
    }
    std::this_thread::sleep_for(100ms);
  }
  fs::copy_file(plan.serverKubeconfig(), plan.kubeconfig(), fs::copy_options::overwrite_existing, ec);
  if (ec) return fail(Code::kInternal, fmt::format("copy {}: {}", plan.kubeconfig().string(), ec.message()));
  fs::permissions(plan.kubeconfig(), fs::perms::owner_read | fs::perms::owner_write, ec);
  auto api = adminClient(plan, 2s);
  if (!api) return std::unexpected(api.error());
  while (true) {
    if (interrupted()) return std::unexpected(interruptedError());
    auto nodes = (*api)->list("/api/v1/nodes");
    if (nodes) return {};
    if (waitExited(pid)) return std::unexpected(withLog(Error{Code::kInternal, "the API server exited"}, plan.serverLog()));
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::unexpected(withLog(Error{Code::kTimeout, "the API server does not answer: " + nodes.error().message},
                                     plan.serverLog()));
    }
    std::this_thread::sleep_for(200ms);
  }
}

Result<void> startAgents(const ClusterPlan& plan, const Binaries& binaries, std::vector<pid_t>& pids) {
  for (const auto& node : plan.nodes) {
    auto fd = net::openNetns(node.netns);
    if (!fd) return std::unexpected(fd.error());
    rotateLog(node.log());
    auto pid = spawnDetached({agentArgv(plan, node, binaries.nanokube, binaries.pause), node.log(), fd->get()});
    if (!pid) return std::unexpected(pid.error());
    pids.push_back(*pid);
    if (auto r = writePidFile(node.pidFile(), *pid); !r) return r;
  }
  return {};
}

// Until every node of the plan is a Ready Node; an agent or the server that
// exits on the way fails it at once.
Result<void> waitForNodes(const ClusterPlan& plan, pid_t server, const std::vector<pid_t>& agents,
                          std::chrono::steady_clock::time_point deadline) {
  auto api = adminClient(plan, 2s);
  if (!api) return std::unexpected(api.error());
  std::vector<std::string> waiting;
  while (true) {
    if (interrupted()) return std::unexpected(interruptedError());
    for (size_t i = 0; i < agents.size(); ++i) {
      if (waitExited(agents[i])) {
        const auto& node = plan.nodes[i];
        return std::unexpected(withLog(Error{Code::kInternal, "the agent of " + node.name + " exited"}, node.log()));
      }
    }
    if (waitExited(server)) return std::unexpected(withLog(Error{Code::kInternal, "the API server exited"}, plan.serverLog()));
    waiting.clear();
    auto list = (*api)->list("/api/v1/nodes");
    auto ready = list ? nodeReadiness(*list) : std::map<std::string, bool>{};
    for (const auto& node : plan.nodes) {
      if (auto it = ready.find(node.name); it == ready.end() || !it->second) waiting.push_back(node.name);
    }
    if (waiting.empty()) return {};
    if (std::chrono::steady_clock::now() >= deadline) {
      const NodePlan& first = plan.nodes[nodeIndex(waiting.front()) - 1];
      return std::unexpected(withLog(
          Error{Code::kTimeout, fmt::format("nodes not Ready in time: {}", fmt::join(waiting, ", "))}, first.log()));
    }
    std::this_thread::sleep_for(500ms);
  }
}

// What `up` needs settled before it makes anything: no cluster of dataDir runs,
// no other cluster holds the LAN, nothing else has the host address.
Result<void> checkFree(const ClusterPlan& plan) {
  ClusterPlan existing = existingPlan(plan.dataDir);
  bool running = runningServer(existing).has_value();
  for (const auto& node : existing.nodes) running = running || runningAgent(node).has_value();
  if (running) return fail(Code::kAlreadyExists, alreadyRunningMessage(plan.dataDir.string()));
  auto owner = lanOwner();
  if (!owner) return std::unexpected(owner.error());
  if (*owner && !(*owner)->empty() && **owner != plan.dataDir.string()) {
    return fail(Code::kAlreadyExists, alreadyRunningMessage(**owner));
  }
  auto user = hostAddressUser();
  if (!user) return std::unexpected(user.error());
  if (*user) {
    return fail(Code::kAlreadyExists, fmt::format("{} is already in use on this host (link {}); the cluster's LAN needs it",
                                                  kHostAddress, **user));
  }
  return {};
}

Result<void> bringUp(const ClusterPlan& plan, const UpOptions& options, std::vector<pid_t>& agents) {
  auto deadline = std::chrono::steady_clock::now() + options.timeout;
  if (options.images) {
    spdlog::info("importing the example images into {}", plan.imageStore().string());
    fs::path cache = options.imageCache.empty() ? options.binaries.nanokube.parent_path() / "images" : options.imageCache;
    fs::path imagesDir = options.imagesDir;
    if (imagesDir.empty() && !missingArchives(cache).empty()) {
      auto found = findImagesDir(options.binaries.nanokube.parent_path());
      if (!found) return std::unexpected(found.error());
      imagesDir = *found;
    }
    if (auto r = ensureImages(cache, imagesDir, plan.imageStore(), plan.dataDir / "images.log", interrupted); !r) {
      return r;
    }
    // Building images can take a while; the timeout is for the cluster itself.
    deadline = std::chrono::steady_clock::now() + options.timeout;
  }
  spdlog::info("issuing credentials for {} node(s)", plan.nodes.size());
  if (auto r = writeCredentials(plan); !r) return r;
  spdlog::info("creating the LAN {}/{} (host link {})", kHostAddress, kLanPrefix, kHostLink);
  if (auto r = setupLan(plan); !r) return r;
  if (interrupted()) return std::unexpected(interruptedError());
  spdlog::info("starting the API server (log: {})", plan.serverLog().string());
  auto server = startServer(plan, options.binaries);
  if (!server) return std::unexpected(server.error());
  if (auto r = waitForServer(plan, *server, deadline); !r) return r;
  for (const auto& node : plan.nodes) {
    if (auto r = setupNode(plan, node); !r) return fail(r.error().code, node.name + ": " + r.error().message);
  }
  if (!options.agents) {
    spdlog::warn("this nanokube has no `agent` subcommand yet: no node agent started, no Node will register");
    return {};
  }
  spdlog::info("starting {} node agent(s); waiting up to {}s for the Nodes to be Ready", plan.nodes.size(),
               options.timeout.count());
  if (auto r = startAgents(plan, options.binaries, agents); !r) return r;
  return waitForNodes(plan, *server, agents, deadline);
}

}  // namespace

Binaries selfBinaries() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return {self, self.parent_path() / "nanokube-pause"};
}

std::string alreadyRunningMessage(const std::string& dataDir) {
  return fmt::format("a nanokube cluster is already running (data dir {}); stop it with: nanokube cluster down --data-dir {}",
                     dataDir, dataDir);
}

Result<ClusterPlan> up(const UpOptions& options) {
  auto plan = planCluster(options.dataDir, options.nodes);
  if (!plan) return plan;
  plan->overlay = options.overlay;
  std::error_code ec;
  if (options.agents && !fs::is_regular_file(options.binaries.pause, ec)) {
    return fail(Code::kNotFound, fmt::format("{} is missing: build the nanokube-pause target", options.binaries.pause.string()));
  }
  if (auto r = checkFree(*plan); !r) return std::unexpected(r.error());
  // Whatever an earlier, crashed cluster of this data dir left behind goes first.
  if (fs::exists(plan->netnsDir(), ec) || fs::exists(plan->serverPidFile(), ec)) {
    spdlog::info("cleaning up what an earlier cluster left in {}", plan->dataDir.string());
    if (auto r = down({plan->dataDir, false, options.binaries}); !r) return std::unexpected(r.error());
  }
  fs::create_directories(plan->dataDir, ec);
  if (ec) return fail(Code::kInternal, fmt::format("mkdir {}: {}", plan->dataDir.string(), ec.message()));
  if (auto r = writeState(plan->stateFile(), {plan->id, static_cast<int>(plan->nodes.size()), plan->dataDir.string()});
      !r) {
    return std::unexpected(r.error());
  }
  std::vector<pid_t> agents;
  InterruptScope interruptScope;
  gInterrupted = false;
  if (auto r = bringUp(*plan, options, agents); !r) {
    spdlog::error("cluster up failed; cleaning up");
    if (auto d = down({plan->dataDir, false, options.binaries}); !d) spdlog::warn("cleanup: {}", d.error().message);
    return std::unexpected(r.error());
  }
  return plan;
}

Result<void> down(const DownOptions& options) {
  ClusterPlan plan = existingPlan(options.dataDir);
  if (plan.dataDir.empty()) return fail(Code::kInvalid, "--data-dir: want a directory");
  Result<void> first;
  auto keep = [&](Result<void> r, const std::string& what) {
    if (r) return;
    spdlog::warn("{}: {}", what, r.error().message);
    if (first) first = fail(r.error().code, what + ": " + r.error().message);
  };

  // Agents first, so that none restarts a pod while the runtimes are emptied.
  std::vector<pid_t> pids;
  for (const auto& node : plan.nodes) {
    if (auto pid = runningAgent(node)) pids.push_back(*pid);
  }
  if (!pids.empty()) terminate(pids, 10s);
  pids.clear();
  if (auto pid = runningServer(plan)) pids.push_back(*pid);
  if (!pids.empty()) terminate(pids, 10s);

  for (const auto& node : plan.nodes) {
    kubelet::AgentPaths paths{node.dir, node.cgroupRoot, options.binaries.pause};
    // Inside the node's namespace, where the agent made the pods' links; a node
    // whose namespace is gone has nothing left there to remove.
    Result<void> removed;
    if (auto fd = net::openNetns(node.netns)) {
      removed = net::runInNetns(fd->get(), [&] { return kubelet::removeAllPods(paths); });
    } else {
      removed = kubelet::removeAllPods(paths);
    }
    keep(std::move(removed), node.name + ": removing pods");
  }
  keep(removeCgroupTree(plan.cgroupParent()), "cgroups");
  keep(teardownNetwork(plan), "network");
  keep(unmountUnder(plan.dataDir), "mounts");
  std::error_code ec;
  fs::remove(plan.serverPidFile(), ec);
  for (const auto& node : plan.nodes) fs::remove(node.pidFile(), ec);
  if (options.purge) {
    if (auto left = currentMountsUnder(plan.dataDir); !left.empty()) {
      keep(fail(Code::kInternal, fmt::format("still mounted: {}", fmt::join(left, ", "))), "purge");
    } else {
      fs::remove_all(plan.dataDir, ec);
      if (ec) keep(fail(Code::kInternal, ec.message()), "purge " + plan.dataDir.string());
    }
  }
  return first;
}

Result<ClusterStatus> status(const fs::path& dataDir) {
  auto state = readState(dataDir / "cluster.json");
  if (!state) return fail(Code::kNotFound, fmt::format("no cluster in {} (start one with: nanokube cluster up --data-dir {})",
                                                       dataDir.string(), dataDir.string()));
  ClusterPlan plan = existingPlan(dataDir);
  ClusterStatus out;
  out.dataDir = plan.dataDir.string();
  out.serverUrl = plan.serverUrl();
  out.serverPid = runningServer(plan);
  out.kubeconfig = plan.kubeconfig().string();
  std::map<std::string, bool> ready;
  bool known = false;
  if (out.serverPid) {
    if (auto api = adminClient(plan, 2s)) {
      if (auto list = (*api)->list("/api/v1/nodes")) {
        ready = nodeReadiness(*list);
        known = true;
      }
    }
  }
  for (const auto& node : plan.nodes) {
    NodeStatus n{node.name, node.ip, runningAgent(node), net::openNetns(node.netns).has_value(), std::nullopt};
    if (known) n.ready = ready.contains(node.name) && ready[node.name];
    out.nodes.push_back(std::move(n));
  }
  return out;
}

Result<std::vector<PsRow>> ps(const fs::path& dataDir, const std::string& nodeName, const Binaries& binaries) {
  if (auto state = readState(dataDir / "cluster.json"); !state) {
    return fail(Code::kNotFound, fmt::format("no cluster in {}", dataDir.string()));
  }
  ClusterPlan plan = existingPlan(dataDir);
  if (!nodeName.empty() && std::none_of(plan.nodes.begin(), plan.nodes.end(),
                                        [&](const NodePlan& n) { return n.name == nodeName; })) {
    return fail(Code::kNotFound, fmt::format("no node {} in {}", nodeName, dataDir.string()));
  }
  std::vector<PsRow> rows;
  for (const auto& node : plan.nodes) {
    if (!nodeName.empty() && node.name != nodeName) continue;
    kubelet::AgentPaths paths{node.dir, node.cgroupRoot, binaries.pause};
    std::error_code ec;
    if (!fs::exists(paths.runcRoot(), ec)) continue;
    kubelet::NodeRuntime runtime(paths);
    auto containers = runtime.containers.list();
    if (!containers) return fail(containers.error().code, node.name + ": " + containers.error().message);
    for (const auto& c : *containers) {
      // The namespace's identity, "net:[4026532...]": one per pod, shared by its containers.
      std::string netns;
      std::error_code linkError;
      if (c.pid > 0) netns = fs::read_symlink(fmt::format("/proc/{}/ns/net", c.pid), linkError).string();
      rows.push_back(psRow(node.name, c, linkError ? std::string() : netns));
    }
  }
  return rows;
}

}  // namespace nanokube::cluster
