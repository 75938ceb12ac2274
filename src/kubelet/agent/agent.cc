#include "kubelet/agent/agent.h"

#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/object.h"
#include "client/api_client_impl.h"
#include "client/config.h"
#include "client/informer.h"
#include "client/workqueue.h"
#include "kubelet/agent/events.h"
#include "kubelet/agent/node_runtime.h"
#include "kubelet/agent/node_status.h"
#include "kubelet/agent/pod_worker.h"
#include "kubelet/server/agent_server.h"
#include "net/hostport.h"
#include "net/ipam.h"
#include "net/netlink.h"
#include "net/netns.h"
#include "net/overlay/overlay.h"

namespace nanokube::kubelet {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr char kHostPortsKey[] = "#hostports";
constexpr char kOverlayKey[] = "#overlay";

std::string readWholeFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Creates the Node, or brings an existing one's status up to date; answers the Node.
Result<Json> registerNode(client::ApiClient& api, const NodeFacts& facts) {
  std::string now = formatRfc3339(systemNow());
  auto created = api.create(client::apiPath("v1", "nodes"), nodeObject(facts, now));
  if (created) return created;
  if (created.error().code != Code::kAlreadyExists) return created;
  auto patched = api.patch(client::apiPath("v1", "nodes", "", facts.name) + "/status", client::PatchType::kMerge,
                           {{"status", nodeStatus(facts, now)}});
  if (!patched) return patched;
  return api.get(client::apiPath("v1", "nodes", "", facts.name));
}

Result<void> renewLease(client::ApiClient& api, const std::string& node, const std::string& nodeUid) {
  std::string path = client::apiPath("coordination.k8s.io/v1", "leases", "kube-node-lease", node);
  Json lease = leaseObject(node, nodeUid, formatRfc3339Micro(systemNow()));
  auto current = api.get(path);
  if (!current) {
    if (current.error().code != Code::kNotFound) return std::unexpected(current.error());
    auto r = api.create(client::apiPath("coordination.k8s.io/v1", "leases", "kube-node-lease"), lease);
    return r ? Result<void>{} : std::unexpected(r.error());
  }
  Json next = *current;
  next["spec"] = lease["spec"];
  auto r = api.update(path, next);
  return r ? Result<void>{} : std::unexpected(r.error());
}

std::vector<net::HostPortMapping> toMappings(const std::vector<PodHostPort>& ports) {
  std::vector<net::HostPortMapping> out;
  for (const auto& p : ports) {
    auto ip = net::Ipv4::parse(p.podIp);
    if (!ip) continue;
    out.push_back({p.podUid, p.protocol, static_cast<uint16_t>(p.hostPort), p.hostIp, *ip,
                   static_cast<uint16_t>(p.containerPort)});
  }
  return out;
}

}  // namespace

Result<void> runAgent(const AgentOptions& o) {
  // Signals are taken by sigwait below; every thread started from here on
  // inherits the mask.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  AgentPaths paths{o.dataDir, o.cgroupRoot, o.pauseBinary};
  std::error_code ec;
  fs::create_directories(paths.dataDir, ec);
  if (ec) return fail(Code::kInternal, fmt::format("mkdir {}: {}", o.dataDir, ec.message()));

  Result<client::ClientConfig> cfg = fail(Code::kInvalid, "the agent needs --kubeconfig, or --server and --token");
  if (!o.kubeconfig.empty()) {
    cfg = client::loadKubeconfig(o.kubeconfig);
  } else if (!o.server.empty() && !o.token.empty()) {
    client::ClientConfig c;
    c.server = o.server;
    c.token = o.token;
    c.caFile = o.certificateAuthority;
    cfg = c;
  }
  if (!cfg) return std::unexpected(cfg.error());
  auto api = client::ApiClientImpl::create(*cfg);
  if (!api) return std::unexpected(api.error());

  // Registration; the server answers with the node's podCIDR.
  NodeFacts facts = readNodeFacts(o.nodeName, o.nodeIp, o.dataDir);
  facts.kubeletPort = o.port;
  Result<Json> node = fail(Code::kUnavailable, "not registered");
  for (int attempt = 0; attempt < 60; ++attempt) {
    node = registerNode(**api, facts);
    if (node) break;
    spdlog::warn("registering node {}: {}", o.nodeName, node.error().message);
    std::this_thread::sleep_for(1s);
  }
  if (!node) return std::unexpected(node.error());
  std::string podCidrText = api::stringAt(*node, {"spec", "podCIDR"});
  auto podCidr = net::Ipv4Cidr::parse(podCidrText);
  if (!podCidr) return fail(Code::kInternal, fmt::format("node {} has no valid podCIDR (\"{}\")", o.nodeName, podCidrText));
  std::string nodeUid = api::stringAt(*node, {"metadata", "uid"});
  spdlog::info("node {} registered, podCIDR {}", o.nodeName, podCidrText);

  // The node's network: forwarding between the LAN and the pods' bridge.
  {
    auto self = net::openNetns("/proc/self/ns/net");
    if (!self) return std::unexpected(self.error());
    if (auto r = net::writeNetSysctl(self->get(), "net/ipv4/ip_forward", "1"); !r) return r;
  }
  // The overlay to the other nodes: its device first, then what peers need
  // is published in the Node's annotations.
  std::unique_ptr<net::overlay::Overlay> overlay;
  unsigned podMtu = o.lanMtu;
  if (o.overlay != "none") {
    auto backend = net::overlay::parseBackend(o.overlay);
    if (!backend) return std::unexpected(backend.error());
    auto made = net::overlay::makeOverlay({*backend, o.lanInterface, o.lanMtu});
    if (!made) return std::unexpected(made.error());
    overlay = std::move(*made);
    auto nodeIp = net::Ipv4::parse(o.nodeIp);
    if (!nodeIp) return fail(Code::kInvalid, fmt::format("--node-ip {} is not an IPv4 address", o.nodeIp));
    net::overlay::NodeInfo self{o.nodeName, *nodeIp, *podCidr, std::string(net::overlay::backendName(*backend)), ""};
    auto published = overlay->setUp(self);
    if (!published) return std::unexpected(published.error());
    Json annotations = Json::object();
    for (const auto& [k, v] : net::overlay::annotationsFor(*backend, *published)) annotations[k] = v;
    auto r = (*api)->patch(client::apiPath("v1", "nodes", "", o.nodeName), client::PatchType::kMerge,
                           {{"metadata", {{"annotations", annotations}}}});
    if (!r) return std::unexpected(r.error());
    podMtu = overlay->podMtu();
    spdlog::info("overlay {} up, pod MTU {}", o.overlay, podMtu);
  }
  auto nodeLink = net::openNetlink(-1);
  if (!nodeLink) return std::unexpected(nodeLink.error());
  auto ipam = net::IpamStore::open(paths.ipamFile(), *podCidr);
  if (!ipam && fs::exists(paths.ipamFile())) {
    // The Node was deleted and registered again with another podCIDR: pods of
    // the old one keep their addresses (reachable on this node only); new pods
    // get addresses of the new one.
    auto aside = paths.ipamFile().string() + ".old";
    spdlog::warn("{}; keeping it as {} and starting IPAM afresh for {}", ipam.error().message, aside, podCidrText);
    fs::rename(paths.ipamFile(), aside, ec);
    ipam = net::IpamStore::open(paths.ipamFile(), *podCidr);
  }
  if (!ipam) return std::unexpected(ipam.error());
  net::PodNetwork network(**nodeLink, **ipam, net::openNetlink, net::NodeNetworkConfig{net::kBridgeName, podMtu});
  if (auto r = network.ensureBridge(); !r) return r;

  auto images = images::ImageStore::open(o.imageStore);
  if (!images) return std::unexpected(images.error());

  NodeRuntime rt(paths);
  EventRecorder events(**api, o.nodeName);
  PodWorkerConfig wc{paths, o.nodeName, o.nodeIp};
  wc.nodeResolvConf = readWholeFile("/etc/resolv.conf");
  PodWorkers workers(wc, rt, network, *images, **api, events);
  if (auto r = workers.recover(); !r) return r;

  client::WorkQueue queue;
  workers.onHostPortsChanged([&] { queue.add(kHostPortsKey); });
  client::Informer pods(**api,
                        client::InformerOptions{.path = "/api/v1/pods", .fieldSelector = "spec.nodeName=" + o.nodeName},
                        client::InformerHandlers{
                            .onAdd = [&](const std::string& key, const client::ObjectPtr&) { queue.add(key); },
                            .onUpdate = [&](const std::string& key, const client::ObjectPtr&,
                                            const client::ObjectPtr&) { queue.add(key); },
                            .onDelete = [&](const std::string& key, const client::ObjectPtr&) { queue.add(key); },
                        });
  // Every Node: the overlay follows the others' podCIDRs and addresses.
  client::Informer nodes(**api, client::InformerOptions{.path = "/api/v1/nodes"},
                         client::InformerHandlers{
                             .onAdd = [&](const std::string&, const client::ObjectPtr&) { queue.add(kOverlayKey); },
                             .onUpdate = [&](const std::string&, const client::ObjectPtr&,
                                             const client::ObjectPtr&) { queue.add(kOverlayKey); },
                             .onDelete = [&](const std::string&, const client::ObjectPtr&) { queue.add(kOverlayKey); },
                         });
  if (overlay) nodes.start();
  pods.start();
  if (!pods.waitForSync(60s)) spdlog::warn("pods of node {} not listed yet", o.nodeName);
  // Everything recovered is looked at once: pods gone meanwhile are removed.
  for (const auto& key : workers.keys()) queue.add(key);
  queue.add(kHostPortsKey);

  net::HostPorts hostPorts;
  std::vector<std::thread> threads;
  for (int i = 0; i < o.workers; ++i) {
    threads.emplace_back([&] {
      while (auto key = queue.get()) {
        if (*key == kOverlayKey) {
          std::vector<net::overlay::NodeInfo> peers;
          auto snapshot = nodes.snapshot();
          for (const auto& [name, node] : *snapshot) {
            if (name == o.nodeName) continue;
            auto info = net::overlay::nodeInfoOf(*node);
            if (info && info->backend == o.overlay) peers.push_back(*info);
          }
          if (auto r = overlay->sync(peers); !r) {
            spdlog::warn("overlay: {}", r.error().message);
            queue.done(*key);
            queue.addAfter(*key, 1s);
            continue;
          }
          spdlog::debug("overlay: {} peer(s)", peers.size());
        } else if (*key == kHostPortsKey) {
          if (auto r = hostPorts.sync(toMappings(workers.hostPorts())); !r) {
            spdlog::warn("hostPorts: {}", r.error().message);
            queue.done(*key);
            queue.addAfter(*key, 1s);
            continue;
          }
        } else {
          try {
            auto again = workers.sync(*key, pods.get(*key));
            if (again) queue.addAfter(*key, *again);
          } catch (const std::exception& e) {
            spdlog::error("sync pod {}: {}", *key, e.what());
            queue.addAfter(*key, 1s);
          }
        }
        queue.done(*key);
      }
    });
  }

  std::mutex stopMu;
  std::condition_variable stopCv;
  bool stopping = false;
  auto sleepFor = [&](std::chrono::milliseconds d) {
    std::unique_lock lock(stopMu);
    return !stopCv.wait_for(lock, d, [&] { return stopping; });
  };
  // The relist: every pod of the node and every pod the workers hold, once a second.
  threads.emplace_back([&] {
    while (sleepFor(1s)) {
      auto snapshot = pods.snapshot();  // held: the loop must not outlive the map
      for (const auto& [key, obj] : *snapshot) queue.add(key);
      for (const auto& key : workers.keys()) queue.add(key);
    }
  });
  // The Lease every 10 s; the Node's status every minute.
  threads.emplace_back([&] {
    int ticks = 0;
    do {
      if (auto r = renewLease(**api, o.nodeName, nodeUid); !r) spdlog::warn("lease: {}", r.error().message);
      // The status every minute, and at once when the node is not Ready (the
      // node lifecycle controller marked it Unknown while the agent was away).
      bool notReady = false;
      if (auto n = (*api)->get(client::apiPath("v1", "nodes", "", o.nodeName))) {
        for (const auto& c : api::fieldAt(*n, {"status", "conditions"}) ? (*n)["status"]["conditions"] : Json::array()) {
          if (c.value("type", "") == "Ready") notReady = c.value("status", "") != "True";
        }
      }
      if (++ticks % 6 == 0 || notReady) {
        auto r = (*api)->patch(client::apiPath("v1", "nodes", "", o.nodeName) + "/status", client::PatchType::kMerge,
                               {{"status", nodeStatus(facts, formatRfc3339(systemNow()))}});
        if (!r) spdlog::warn("node status: {}", r.error().message);
      }
    } while (sleepFor(10s));
  });

  // The HTTPS endpoint for logs and exec, on the node's address.
  std::unique_ptr<AgentServer> server;
  if (!o.tlsCert.empty()) {
    AgentServerOptions so;
    so.address = o.nodeIp;
    so.port = static_cast<uint16_t>(o.port);
    so.certFile = o.tlsCert;
    so.keyFile = o.tlsKey;
    so.clientCaFile = o.clientCa;
    so.runcRoot = paths.runcRoot();
    server = std::make_unique<AgentServer>(so, workers);
    if (auto r = server->start(); !r) {
      spdlog::error("HTTPS endpoint on {}:{}: {}", o.nodeIp, o.port, r.error().message);
      server.reset();
    }
  } else {
    spdlog::warn("no --tls-cert: no HTTPS endpoint, so kubectl logs and exec do not reach this node");
  }

  spdlog::info("agent of node {} running ({} workers)", o.nodeName, o.workers);
  int sig = 0;
  sigwait(&sigs, &sig);
  spdlog::info("signal {}: stopping (pods keep running)", sig);
  {
    std::lock_guard lock(stopMu);
    stopping = true;
  }
  stopCv.notify_all();
  if (server) server->stop();
  pods.stop();
  nodes.stop();
  queue.shutDown();
  for (auto& t : threads) t.join();
  return {};
}

}  // namespace nanokube::kubelet
