#pragma once
// `nanokube cluster up|down|status` and `nanokube ps`: a Kubernetes cluster of
// N nodes on this machine, each node a network namespace on a LAN bridge with a
// `nanokube agent` in it, and one `nanokube server` on the host's end of the
// LAN. plan.h has the layout; this is the orchestration.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "cluster/format.h"
#include "cluster/plan.h"
#include "common/error.h"

namespace nanokube::cluster {

// Where the nanokube binaries are: the running one and nanokube-pause beside it.
struct Binaries {
  std::filesystem::path nanokube;
  std::filesystem::path pause;
};
// The running binary (/proc/self/exe) and <its directory>/nanokube-pause.
Binaries selfBinaries();

struct UpOptions {
  std::filesystem::path dataDir;
  int nodes = 1;
  std::string overlay = "vxlan";  // vxlan, udp or host-gw: the pod-to-pod overlay between nodes
  std::chrono::seconds timeout{60};
  std::filesystem::path imageCache;  // default: <binary dir>/images
  std::filesystem::path imagesDir;   // default: findImagesDir(<binary dir>)
  bool images = true;                // build (if needed) and import the seeds' images
  // False while the binary has no `agent` subcommand: the nodes' namespaces are
  // made but no agent starts and up waits for the server only.
  bool agents = true;
  Binaries binaries;
};

// Brings the cluster up and waits until every Node is Ready. Refuses
// (kAlreadyExists) when a cluster runs for the data dir or holds the LAN.
// Leaves nothing running when it fails; the error carries the tail of the log
// of the process that failed.
Result<ClusterPlan> up(const UpOptions& options);

struct DownOptions {
  std::filesystem::path dataDir;
  bool purge = false;  // remove the data directory too
  Binaries binaries;
};
// Stops and removes everything up made. Idempotent; works on a half-made or
// crashed cluster. Carries on past failures and reports the first.
Result<void> down(const DownOptions& options);

// The "already running" refusal for a data dir, shared with the CLI.
std::string alreadyRunningMessage(const std::string& dataDir);

// kNotFound when the data dir holds no cluster.
Result<ClusterStatus> status(const std::filesystem::path& dataDir);

// One row per container of each node (or only `node`'s).
Result<std::vector<PsRow>> ps(const std::filesystem::path& dataDir, const std::string& node, const Binaries& binaries);

}  // namespace nanokube::cluster
