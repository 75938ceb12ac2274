#include <signal.h>

#include <algorithm>
#include <fstream>

#include "kubelet/runtime/runc.h"

namespace nanokube::kubelet::runtime {

Result<void> RuncFake::injected(std::string_view operation, std::string_view id) {
  calls_.push_back(std::string(operation) + (id.empty() ? "" : " " + std::string(id)));
  auto it = failures_.find(std::string(operation));
  if (it == failures_.end()) return {};
  std::string message = "runc " + std::string(operation) + " " + std::string(id) + ": " + it->second;
  failures_.erase(it);
  return fail(Code::kInternal, std::move(message));
}

Result<int> RuncFake::create(const CreateOptions& options) {
  if (auto r = injected("create", options.id); !r) return std::unexpected(r.error());
  if (containers_.contains(options.id)) {
    return fail(Code::kAlreadyExists, "runc create " + options.id + ": container with id exists");
  }
  Entry entry;
  entry.state.id = options.id;
  entry.state.status = Status::kCreated;
  entry.state.pid = nextPid_++;
  entry.state.bundle = options.bundle;
  // runc reports the bundle's annotations in state and list; so does the fake.
  std::ifstream config(options.bundle / "config.json");
  Json spec = Json::parse(config, nullptr, false);
  if (spec.is_object() && spec.contains("annotations") && spec["annotations"].is_object()) {
    for (const auto& [k, v] : spec["annotations"].items()) {
      if (v.is_string()) entry.state.annotations[k] = v.get<std::string>();
    }
  }
  entry.options = options;
  int pid = entry.state.pid;
  containers_.emplace(options.id, std::move(entry));
  return pid;
}

Result<void> RuncFake::start(std::string_view id) {
  if (auto r = injected("start", id); !r) return r;
  auto it = containers_.find(id);
  if (it == containers_.end()) {
    return fail(Code::kNotFound, "runc start " + std::string(id) + ": container does not exist");
  }
  if (it->second.state.status != Status::kCreated) {
    return fail(Code::kInternal, "runc start " + std::string(id) + ": cannot start a container that has stopped");
  }
  it->second.state.status = Status::kRunning;
  return {};
}

Result<ContainerState> RuncFake::state(std::string_view id) {
  if (auto r = injected("state", id); !r) return std::unexpected(r.error());
  auto it = containers_.find(id);
  if (it == containers_.end()) {
    return fail(Code::kNotFound, "runc state " + std::string(id) + ": container does not exist");
  }
  return it->second.state;
}

Result<void> RuncFake::kill(std::string_view id, int signal, bool all) {
  if (auto r = injected("kill", id); !r) return r;
  calls_.back() += " " + std::to_string(signal);
  auto it = containers_.find(id);
  if (it == containers_.end()) {
    return fail(Code::kNotFound, "runc kill " + std::string(id) + ": container does not exist");
  }
  Entry& e = it->second;
  if (e.state.status == Status::kStopped) {
    return fail(Code::kInternal, "runc kill " + std::string(id) + ": container not running");
  }
  bool ignored = std::find(e.ignored.begin(), e.ignored.end(), signal) != e.ignored.end();
  if (signal == SIGKILL || !ignored) {
    e.state.status = Status::kStopped;
    e.state.pid = 0;
    e.exit = ExitStatus{128 + signal, signal, std::chrono::system_clock::now()};
  }
  return {};
}

Result<void> RuncFake::remove(std::string_view id, bool force) {
  if (auto r = injected("delete", id); !r) return r;
  auto it = containers_.find(id);
  if (it == containers_.end()) return {};
  if (it->second.state.status == Status::kRunning && !force) {
    return fail(Code::kInternal,
                "runc delete " + std::string(id) + ": cannot delete container that is not stopped");
  }
  containers_.erase(it);
  return {};
}

Result<std::vector<ContainerState>> RuncFake::list() {
  if (auto r = injected("list", ""); !r) return std::unexpected(r.error());
  std::vector<ContainerState> out;
  for (const auto& [id, e] : containers_) out.push_back(e.state);
  return out;
}

Result<std::optional<ExitStatus>> RuncFake::exitStatus(std::string_view id) {
  auto it = containers_.find(id);
  if (it == containers_.end()) {
    return fail(Code::kNotFound, "container " + std::string(id) + " does not exist");
  }
  return it->second.exit;
}

void RuncFake::exit(std::string_view id, int code) {
  auto it = containers_.find(id);
  if (it == containers_.end()) return;
  it->second.state.status = Status::kStopped;
  it->second.state.pid = 0;
  it->second.exit = ExitStatus{code, 0, std::chrono::system_clock::now()};
}

void RuncFake::failNext(std::string operation, std::string message) {
  failures_[std::move(operation)] = std::move(message);
}

void RuncFake::ignoreSignal(std::string_view id, int signal) {
  auto it = containers_.find(id);
  if (it != containers_.end()) it->second.ignored.push_back(signal);
}

}  // namespace nanokube::kubelet::runtime
