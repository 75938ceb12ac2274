#pragma once
// The cluster's long-running processes (server, agents): started detached with
// their pid recorded in a file, found again by that file, and stopped only
// after /proc/<pid>/cmdline shows they are still the process that was started
// (pids are reused).

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include "common/error.h"

namespace nanokube::cluster {

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is the executable's path
  std::filesystem::path log;      // stdout and stderr, appended
  int netnsFd = -1;               // the network namespace to run in; -1: the caller's
};

// fork, then in the child: its own session (setsid), the network namespace,
// stdin from /dev/null, stdout/stderr to the log, no other inherited fds, exec.
// Returns once the exec succeeded (a close-on-exec pipe reports a failed setns
// or exec with its errno). The child stays the caller's child until the caller
// exits; waitExited() reaps it.
Result<pid_t> spawnDetached(const SpawnOptions& options);

// True once `pid` exited: a child of the caller that has been reaped (which this
// does, without blocking), a zombie, or no such process.
bool waitExited(pid_t pid);

// The NUL-separated /proc/<pid>/cmdline split into arguments. Pure.
std::vector<std::string> splitCmdline(std::string_view raw);

// True when `argv` is `nanokube <role> ... <flag> <value> ...`: argv[0]'s base
// name is "nanokube", argv[1] is `role`, and `flag` is followed by `value`.
// Pure.
bool isNanokubeProcess(const std::vector<std::string>& argv, std::string_view role, std::string_view flag,
                        std::string_view value);

// The pid in a pid file, when there is one that parses.
std::optional<pid_t> readPidFile(const std::filesystem::path& file);
Result<void> writePidFile(const std::filesystem::path& file, pid_t pid);

// The pid of `pidFile` when that process is alive and isNanokubeProcess(...).
std::optional<pid_t> runningProcess(const std::filesystem::path& pidFile, std::string_view role,
                                    std::string_view flag, std::string_view value);

// SIGTERM to every pid, up to `grace` for them to exit, then SIGKILL to the rest
// (and up to a few seconds more for those). Returns the pids still alive after it.
std::vector<pid_t> terminate(const std::vector<pid_t>& pids, std::chrono::milliseconds grace);

// The last `lines` lines of a file ("" when it cannot be read).
std::string tailFile(const std::filesystem::path& file, size_t lines);

}  // namespace nanokube::cluster
