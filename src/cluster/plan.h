#pragma once
// The shape of a local cluster, computed from its data directory and node count
// alone: names, addresses, files and the command lines of its processes. Pure:
// `cluster up`, `down`, `status` and `ps` all derive what they touch from here,
// so they agree on it, and a later `down` finds what an earlier `up` made.
//
// On the host, the only thing a cluster adds to the network is one veth end,
// kHostLink, with kHostAddress/24 (and its connected route). Everything else
// lives in network namespaces pinned under <dataDir>/netns:
//
//   lan       the LAN: bridge kLanBridge (192.168.250.0/24), the host veth's
//             peer kLanHostPort, and one port per node ("node-<i>")
//   node-<i>  eth0 192.168.250.(10+i)/24 on the LAN bridge, lo, ip_forward=1,
//             and no default route: the host does not forward
//
// Files under <dataDir>:
//   cluster.json             what up made: id, node count (see state.h)
//   server/                  `nanokube server --data-dir`: store, pki/, kubeconfig
//   server.log, server.pid
//   kubeconfig               the admin's, server https://192.168.250.1:6443
//   images/                  the nodes' shared image store
//   nodes/node-<i>/          the agent's --data-dir: kubeconfig, kubelet.crt/.key,
//                            agent.log, agent.pid, runtime/, netns/, logs/
//   netns/                   the pinned namespaces above

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace nanokube::cluster {

inline constexpr std::string_view kHostLink = "nk-lan0";      // the host's end of the LAN veth
inline constexpr std::string_view kLanHostPort = "host0";     // its peer, a port of the LAN bridge
inline constexpr std::string_view kLanBridge = "br0";         // in the lan namespace
inline constexpr std::string_view kLanNetns = "lan";
inline constexpr std::string_view kNodeLink = "eth0";         // a node's LAN interface
inline constexpr std::string_view kHostAddress = "192.168.250.1";
inline constexpr int kLanPrefix = 24;
inline constexpr int kServerPort = 6443;
inline constexpr unsigned kLanMtu = 1500;
// Nodes take 192.168.250.11 up to .199: the LoadBalancer pool starts at .200.
inline constexpr int kMaxNodes = 189;
// Marks the host link as this project's: "nanokube <dataDir>" in its IFLA_IFALIAS,
// so that a second cluster can name the one that holds the LAN address.
inline constexpr std::string_view kAliasPrefix = "nanokube ";

struct NodePlan {
  int index = 0;                // 1-based
  std::string name;             // "node-<i>"
  std::string ip;               // "192.168.250.(10+i)"
  std::filesystem::path dir;    // <dataDir>/nodes/node-<i>: the agent's --data-dir
  std::filesystem::path netns;  // <dataDir>/netns/node-<i>
  std::string cgroupRoot;       // "/nanokube-<id>/node-<i>"

  std::filesystem::path kubeconfig() const { return dir / "kubeconfig"; }
  std::filesystem::path clientCert() const { return dir / "node.crt"; }
  std::filesystem::path clientKey() const { return dir / "node.key"; }
  std::filesystem::path servingCert() const { return dir / "kubelet.crt"; }
  std::filesystem::path servingKey() const { return dir / "kubelet.key"; }
  std::filesystem::path log() const { return dir / "agent.log"; }
  std::filesystem::path pidFile() const { return dir / "agent.pid"; }
};

struct ClusterPlan {
  std::filesystem::path dataDir;  // absolute, normalized
  std::string id;                 // 8 hex digits derived from dataDir
  std::vector<NodePlan> nodes;
  std::string overlay = "vxlan";  // the agents' --overlay: vxlan, udp or host-gw

  std::filesystem::path stateFile() const { return dataDir / "cluster.json"; }
  std::filesystem::path serverDir() const { return dataDir / "server"; }
  std::filesystem::path serverLog() const { return dataDir / "server.log"; }
  std::filesystem::path serverPidFile() const { return dataDir / "server.pid"; }
  std::filesystem::path serverKubeconfig() const { return serverDir() / "kubeconfig"; }
  std::filesystem::path caCert() const { return serverDir() / "pki" / "ca.crt"; }
  std::filesystem::path kubeconfig() const { return dataDir / "kubeconfig"; }
  std::filesystem::path imageStore() const { return dataDir / "images"; }
  std::filesystem::path nodesDir() const { return dataDir / "nodes"; }
  std::filesystem::path netnsDir() const { return dataDir / "netns"; }
  std::filesystem::path lanNetns() const { return netnsDir() / std::string(kLanNetns); }
  // "/nanokube-<id>": the parent of every node's cgroup root.
  std::string cgroupParent() const { return "/nanokube-" + id; }
  // "nanokube <dataDir>", the host link's alias.
  std::string hostLinkAlias() const { return std::string(kAliasPrefix) + dataDir.string(); }
  std::string serverListen() const;  // "192.168.250.1:6443"
  std::string serverUrl() const;     // "https://192.168.250.1:6443"
};

// The cluster of `nodes` nodes in `dataDir` (made absolute and normalized, not
// resolved through symlinks). kInvalid when nodes is outside 1..kMaxNodes.
Result<ClusterPlan> planCluster(const std::filesystem::path& dataDir, int nodes);

// Stable for a data directory: the first 8 hex digits of its FNV-1a hash. Keeps
// the cgroups of two clusters on one machine apart.
std::string clusterId(const std::filesystem::path& dataDir);

// "192.168.250.(10+i)".
std::string nodeIp(int index);

// The index in "node-<i>", or 0 when `name` is not a node name.
int nodeIndex(std::string_view name);

// The data directory named by a host link alias made by hostLinkAlias(); empty
// when the alias is not one of ours.
std::string dataDirFromAlias(std::string_view alias);

// `nanokube server` for the cluster, argv[0] = binary.
std::vector<std::string> serverArgv(const ClusterPlan& plan, const std::filesystem::path& binary);

// `nanokube agent` for one node, argv[0] = binary: the flags the agent reads.
std::vector<std::string> agentArgv(const ClusterPlan& plan, const NodePlan& node, const std::filesystem::path& binary,
                                   const std::filesystem::path& pauseBinary);

}  // namespace nanokube::cluster
