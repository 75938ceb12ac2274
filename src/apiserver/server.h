#pragma once
// `nanokube server`: the store, the registry, the HTTPS API and its periodic
// work (compaction), wired together and run until SIGINT/SIGTERM.

#include <string>
#include <vector>

#include "common/error.h"

namespace nanokube::apiserver {

struct ServerOptions {
  std::string dataDir;
  std::string listenAddress = "127.0.0.1";
  int port = 6443;
  // The address kubectl and agents reach the server at (the kubeconfig's server
  // URL and the `kubernetes` Service's endpoint); defaults to the listen address.
  std::string advertiseAddress;
  std::vector<std::string> extraSans;  // more IPs or DNS names for the serving certificate
  int threads = 0;                     // 0: one per core
};

// Runs until a signal; returns the error that stopped it early.
Result<void> runServer(const ServerOptions& options);

}  // namespace nanokube::apiserver
