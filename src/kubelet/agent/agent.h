#pragma once
// `nanokube agent`: the node agent. It runs in the node's network namespace,
// registers its Node, keeps a Lease, and runs the pods bound to the node
// through the pod workers (pod_worker.h), a work queue of pod keys fed by an
// informer on the node's pods and a relist every second (the kubelet's PLEG
// period). It also programs the node's hostPorts (net/hostport.h).
//
// Stopping the agent leaves its pods running; a new agent finds them again.

#include <string>

#include "common/error.h"

namespace nanokube::kubelet {

struct AgentOptions {
  std::string kubeconfig;  // the node's credentials
  // Or, instead of a kubeconfig (an agent joining from another machine): the
  // server's URL, a join token (`nanokube token create`) and the cluster CA.
  std::string server, token, certificateAuthority;
  std::string nodeName;
  std::string nodeIp;      // InternalIP; hostPorts and the HTTPS endpoint answer here
  std::string dataDir;
  std::string imageStore;
  std::string tlsCert, tlsKey;  // the HTTPS endpoint's (logs, exec)
  std::string clientCa;         // who may call it: certificates signed by this CA
  std::string pauseBinary;
  std::string cgroupRoot = "/nanokube";
  int port = 10250;
  int workers = 8;
  // The node's LAN link and its MTU: the overlay's underlay.
  std::string lanInterface = "eth0";
  unsigned lanMtu = 1500;
  // How pods reach pods on other nodes: vxlan, udp, host-gw (net/overlay), or
  // none (pods reach only pods of their own node).
  std::string overlay = "vxlan";
};

// Runs until SIGINT or SIGTERM.
Result<void> runAgent(const AgentOptions& options);

}  // namespace nanokube::kubelet
