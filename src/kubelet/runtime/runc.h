#pragma once
// The runc driver: the only code in the runtime that starts runc. `Runc` is the
// interface the sandbox and container managers use, `RuncImpl` forks and execs
// the real runc with a nanokube-owned state root, and `RuncFake` keeps
// containers in memory for unit tests.
//
// Exit codes. runc's `create` returns as soon as the container's init waits on
// its exec FIFO; the init then belongs to nobody the agent can wait() on. So
// RuncImpl::create double-forks a small monitor that makes itself a child
// subreaper (prctl PR_SET_CHILD_SUBREAPER), runs `runc create` as its child,
// inherits the container's init when runc exits, reaps it, and writes the wait
// status to `<workDir>/<id>.exit`. The monitor is detached (own session,
// re-parented to init), so it survives an agent restart; it holds an flock on
// `<workDir>/<id>.lock` for its lifetime, so a reader can tell "still running"
// from "the monitor is gone". The monitor uses raw system calls only between
// fork and exit, which is safe in a multi-threaded agent.
//
// Thread safety: RuncImpl keeps no mutable state; calls for different
// containers may run concurrently. RuncFake is not thread-safe.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace nanokube::kubelet::runtime {

enum class Status { kCreating, kCreated, kRunning, kPaused, kStopped, kUnknown };

std::string_view statusName(Status status);
Status parseStatus(std::string_view name);

// How a container's init process ended, as wait() reported it to the monitor.
struct ExitStatus {
  int code = 0;    // exit code; 128 + signal when killed, as Kubernetes reports it
  int signal = 0;  // the terminating signal, 0 when the process exited
  std::chrono::system_clock::time_point finishedAt;
};

struct ContainerState {
  std::string id;
  Status status = Status::kUnknown;
  int pid = 0;  // 0 once stopped
  std::string bundle;
  std::string created;  // RFC 3339 as runc reports it
  std::map<std::string, std::string> annotations;
};

struct CreateOptions {
  std::string id;
  std::filesystem::path bundle;      // holds config.json
  std::filesystem::path stdoutPath;  // appended to; created when missing
  std::filesystem::path stderrPath;  // may equal stdoutPath
};

class Runc {
 public:
  virtual ~Runc() = default;

  // `runc create`, with the container's stdio passed through to the log files
  // (no terminal) and a monitor recording its exit status. Fails with runc's
  // own message, e.g. `runc create nk-1: exec: "nope": executable file not
  // found in $PATH`; nothing of a failed create stays behind. Returns the pid
  // of the container's init process.
  virtual Result<int> create(const CreateOptions& options) = 0;
  // `runc start`: the created container runs its process.
  virtual Result<void> start(std::string_view id) = 0;
  // `runc state`; kNotFound when runc does not know the container.
  virtual Result<ContainerState> state(std::string_view id) = 0;
  // `runc kill [--all] <id> <signal>`.
  virtual Result<void> kill(std::string_view id, int signal, bool all = false) = 0;
  // `runc delete [--force]`, then the monitor's files. Deleting an unknown
  // container succeeds, so that cleanup is idempotent.
  virtual Result<void> remove(std::string_view id, bool force) = 0;
  // `runc list`.
  virtual Result<std::vector<ContainerState>> list() = 0;
  // The exit status the monitor recorded; nullopt while the container runs.
  // kUnavailable when the container stopped but its monitor died first.
  virtual Result<std::optional<ExitStatus>> exitStatus(std::string_view id) = 0;
};

struct RuncOptions {
  std::string binary = "runc";
  std::filesystem::path root;     // runc --root: never the default /run/runc
  std::filesystem::path workDir;  // monitor files: <id>.exit, <id>.lock, <id>.runc.log
};

class RuncImpl : public Runc {
 public:
  explicit RuncImpl(RuncOptions options);

  Result<int> create(const CreateOptions& options) override;
  Result<void> start(std::string_view id) override;
  Result<ContainerState> state(std::string_view id) override;
  Result<void> kill(std::string_view id, int signal, bool all) override;
  Result<void> remove(std::string_view id, bool force) override;
  Result<std::vector<ContainerState>> list() override;
  Result<std::optional<ExitStatus>> exitStatus(std::string_view id) override;

 private:
  std::filesystem::path workFile(std::string_view id, std::string_view suffix) const;
  bool monitorAlive(std::string_view id) const;

  RuncOptions options_;
};

// An in-memory runc: create/start/kill/remove move a container through the
// same states as runc, kill with a deadly signal stops it with 128+signal, and
// tests make processes exit or fail on their own with exit() and failNext().
class RuncFake : public Runc {
 public:
  Result<int> create(const CreateOptions& options) override;
  Result<void> start(std::string_view id) override;
  Result<ContainerState> state(std::string_view id) override;
  Result<void> kill(std::string_view id, int signal, bool all) override;
  Result<void> remove(std::string_view id, bool force) override;
  Result<std::vector<ContainerState>> list() override;
  Result<std::optional<ExitStatus>> exitStatus(std::string_view id) override;

  // The container's process exits on its own with this code.
  void exit(std::string_view id, int code);
  // The next call of `operation` ("create", "start", ...) fails with message.
  void failNext(std::string operation, std::string message);
  // Signals a container ignores (as a PID 1 without a handler ignores SIGTERM).
  void ignoreSignal(std::string_view id, int signal);
  // Every call, in order: "create nk-1", "kill nk-1 15", ...
  const std::vector<std::string>& calls() const { return calls_; }

 private:
  struct Entry {
    ContainerState state;
    CreateOptions options;
    std::optional<ExitStatus> exit;
    std::vector<int> ignored;
  };
  Result<void> injected(std::string_view operation, std::string_view id);

  std::map<std::string, Entry, std::less<>> containers_;
  std::map<std::string, std::string> failures_;
  std::vector<std::string> calls_;
  int nextPid_ = 1000;
};

}  // namespace nanokube::kubelet::runtime
