#include "cluster/state.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace nanokube::cluster {

namespace fs = std::filesystem;

Json stateToJson(const ClusterState& state) {
  return Json{{"id", state.id}, {"nodes", state.nodes}, {"dataDir", state.dataDir}};
}

Result<ClusterState> stateFromJson(const Json& json) {
  if (!json.is_object() || !json.contains("nodes") || !json["nodes"].is_number_integer()) {
    return fail(Code::kInvalid, "cluster state: want an object with an integer \"nodes\"");
  }
  ClusterState state;
  state.nodes = json["nodes"].get<int>();
  if (json.contains("id") && json["id"].is_string()) state.id = json["id"].get<std::string>();
  if (json.contains("dataDir") && json["dataDir"].is_string()) state.dataDir = json["dataDir"].get<std::string>();
  if (state.nodes < 0) return fail(Code::kInvalid, "cluster state: negative node count");
  return state;
}

Result<void> writeState(const fs::path& file, const ClusterState& state) {
  fs::path tmp = file;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << stateToJson(state).dump(2) << "\n";
    if (!out) return fail(Code::kInternal, fmt::format("write {}: failed", tmp.string()));
  }
  std::error_code ec;
  fs::rename(tmp, file, ec);
  if (ec) return fail(Code::kInternal, fmt::format("rename {}: {}", file.string(), ec.message()));
  return {};
}

Result<ClusterState> readState(const fs::path& file) {
  std::ifstream in(file);
  if (!in) return fail(Code::kNotFound, fmt::format("{}: no cluster state", file.string()));
  std::stringstream text;
  text << in.rdbuf();
  Json json = Json::parse(text.str(), nullptr, false);
  if (json.is_discarded()) return fail(Code::kInvalid, fmt::format("{}: not JSON", file.string()));
  auto state = stateFromJson(json);
  if (!state) return fail(Code::kInvalid, fmt::format("{}: {}", file.string(), state.error().message));
  return state;
}

}  // namespace nanokube::cluster
