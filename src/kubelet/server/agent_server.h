#pragma once
// The node agent's HTTPS endpoint, as the kubelet's port 10250 serves it to
// the API server:
//
//   GET /containerLogs/{namespace}/{pod}/{container}?follow=&tailLines=&previous=&limitBytes=
//       the container's log file, byte for byte (text/plain); with follow the
//       answer streams until that run of the container has ended.
//   GET /exec/{namespace}/{pod}/{container}?command=..&stdin=&stdout=&stderr=&tty=
//       with a WebSocket upgrade offering v5.channel.k8s.io (or v4): the
//       command runs with `runc exec` and its streams travel as channel
//       messages (channel.h); its exit is the Status on channel 3.
//
// Only clients with a certificate signed by the cluster CA get in (401
// otherwise), and of those only the API server's kubelet client
// (CN kube-apiserver-kubelet-client) and members of system:masters (403
// otherwise). Errors are Kubernetes Status bodies, which the API server's
// proxy relays as they are.
//
// Threading: start() serves on two threads of its own; each connection runs on
// its own strand. ContainerLookup::find is called from those threads, at
// any time and concurrently, until stop() returns.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "common/error.h"

namespace nanokube::kubelet {

struct ContainerTarget {
  std::string containerId;  // runc's id
  bool running = false;
  std::filesystem::path logPath;  // the log file of this run of the container
};

// Implemented by the agent: maps (namespace, pod name, container name) to the
// container. previous: the container's previous run (its log file). Fails with
// kNotFound/kBadRequest and the kubelet's messages, e.g. `container "x" in pod
// "y" is waiting to start: ContainerCreating` or `previous terminated container
// "x" in pod "y" not found`. Must be thread-safe.
class ContainerLookup {
 public:
  virtual ~ContainerLookup() = default;
  virtual Result<ContainerTarget> find(const std::string& ns, const std::string& pod, const std::string& container,
                                       bool previous) = 0;
};

struct AgentServerOptions {
  std::string address = "0.0.0.0";
  uint16_t port = 10250;  // 0: any free port, see AgentServer::port()
  std::string certFile, keyFile;  // the agent's serving certificate (PEM)
  std::string clientCaFile;       // the cluster CA that signs client certificates
  std::filesystem::path runcRoot;  // runc --root of the node's containers
  std::string runcBinary = "runc";
};

class AgentServer {
 public:
  AgentServer(AgentServerOptions options, ContainerLookup& lookup);
  ~AgentServer();  // stops
  AgentServer(const AgentServer&) = delete;
  AgentServer& operator=(const AgentServer&) = delete;

  // Loads the certificates, binds and serves on the server's own threads.
  // Ignores SIGPIPE in the process: a command that exits leaves its stdin pipe
  // without a reader.
  Result<void> start();
  // Stops accepting, ends open connections (commands still running get
  // SIGTERM or a hang-up) and joins the threads. Idempotent.
  void stop();
  // The bound port (the chosen one when options.port was 0).
  uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nanokube::kubelet
