#pragma once
// <dataDir>/cluster.json: what `cluster up` made, written before it makes
// anything, so that `down`, `status` and `ps` know the node count even after a
// crash half-way through `up`.
//   {"id": "1a2b3c4d", "nodes": 2, "dataDir": "/abs/dir"}

#include <filesystem>
#include <string>

#include "common/error.h"

namespace nanokube::cluster {

struct ClusterState {
  std::string id;
  int nodes = 0;
  std::string dataDir;
};

Json stateToJson(const ClusterState& state);
// kInvalid for a document that is not a cluster state.
Result<ClusterState> stateFromJson(const Json& json);

// Replaces the file atomically.
Result<void> writeState(const std::filesystem::path& file, const ClusterState& state);
// kNotFound when there is no file.
Result<ClusterState> readState(const std::filesystem::path& file);

}  // namespace nanokube::cluster
