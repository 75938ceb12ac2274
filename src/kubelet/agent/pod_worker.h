#pragma once
// The agent's pod workers: one level-triggered sync per pod, as the kubelet's
// syncPod. Each sync compares what the pod asks for with what runs (the
// sandbox, each container's current run) and makes one step towards it:
// create the network namespace, veth and IP and the pause sandbox, pull
// (resolve) images, create and start containers, restart them under the
// restartPolicy with crash-loop back-off, run probes, stop everything when
// the pod is deleted, then report the pod's status and events.
//
// What runs is re-derived from runc (container annotations) after a restart
// of the agent; what runc cannot tell (restart counts, last states, start
// times) comes back from the pod's reported status.
//
// Threading: sync() for different keys may run concurrently on the agent's
// workers (the work queue never hands one key to two workers at once);
// records are guarded by the PodWorkers' mutex, each record by its own.

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "client/api_client.h"
#include "client/informer.h"
#include "common/time.h"
#include "kubelet/agent/events.h"
#include "kubelet/agent/node_runtime.h"
#include "kubelet/agent/pod_spec.h"
#include "kubelet/agent/pod_status.h"
#include "kubelet/images/store.h"
#include "kubelet/server/agent_server.h"
#include "net/podnet.h"

namespace nanokube::kubelet {

struct PodWorkerConfig {
  AgentPaths paths;
  std::string nodeName;
  std::string nodeIp;
  std::string clusterDns = "10.96.0.10";
  std::string clusterDomain = "cluster.local";
  std::string nodeResolvConf;  // for dnsPolicy Default
};

// A hostPort of a running pod (the agent programs them; see net/hostport.h).
struct PodHostPort {
  std::string podUid;
  std::string protocol;
  int hostPort = 0;
  std::string hostIp;
  std::string podIp;
  int containerPort = 0;
};

class PodWorkers : public ContainerLookup {
 public:
  PodWorkers(PodWorkerConfig config, NodeRuntime& runtime, net::PodNetwork& network, images::ImageStore& images,
             client::ApiClient& client, EventRecorder& events);
  ~PodWorkers();

  // After an agent restart, before the first sync: finds the sandboxes and
  // containers that runc still runs for this node.
  Result<void> recover();

  // Converges the pod stored under `key` ("ns/name"); `pod` is null when the
  // API no longer has it. Returns when it wants to be synced again (a back-off
  // or a probe due), nullopt when the next periodic resync is soon enough.
  std::optional<std::chrono::milliseconds> sync(const std::string& key, const client::ObjectPtr& pod);

  // The keys of every pod the workers hold something for.
  std::set<std::string> keys() const;

  // kubectl logs/exec: the container `container` of the pod ns/name;
  // previous: its run before the current one. Errors carry the kubelet's
  // messages (kBadRequest/kNotFound).
  Result<ContainerTarget> find(const std::string& ns, const std::string& pod, const std::string& container,
                               bool previous) override;

  // The hostPorts of every pod that has a sandbox and an IP.
  std::vector<PodHostPort> hostPorts() const;

  // Called whenever the set of hostPorts may have changed, possibly with a
  // pod's lock held: it must only schedule a sync of the hostPort rules.
  void onHostPortsChanged(std::function<void()> fn) { hostPortsChanged_ = std::move(fn); }

  struct Record;

 private:
  std::shared_ptr<Record> recordFor(const std::string& uid, const std::string& key);
  std::vector<std::shared_ptr<Record>> recordsOfKey(const std::string& key) const;
  void drop(const std::string& uid);

  // Steps of a sync; each runs with the record's lock held.
  std::optional<std::chrono::milliseconds> syncAlive(Record& rec, const Json& pod);
  Result<void> ensureSandbox(Record& rec, const Json& pod);
  void startContainer(Record& rec, const Json& pod, const Json& container);
  std::optional<std::chrono::milliseconds> runProbes(Record& rec, const Json& pod, const Json& container);
  void observeExits(Record& rec);
  // Stops the containers (SIGTERM, grace, SIGKILL) and removes the sandbox,
  // network and files; keepRecord: the pod stays (terminal phase).
  void killPod(Record& rec, const Json* pod, std::chrono::seconds grace);
  void reportStatus(Record& rec, const Json& pod);
  // Drops the pod's logs and event history once the pod is gone.
  void forget(Record& rec);

  PodWorkerConfig config_;
  NodeRuntime& rt_;
  net::PodNetwork& network_;
  images::ImageStore& images_;
  client::ApiClient& client_;
  EventRecorder& events_;
  std::function<void()> hostPortsChanged_;

  // The node's netlink socket (libnl) and IPAM serve one call at a time.
  std::mutex netMu_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Record>> records_;  // by pod UID
  std::map<std::string, std::vector<PodHostPort>> ports_;   // by pod UID, pods with a sandbox
};

}  // namespace nanokube::kubelet
