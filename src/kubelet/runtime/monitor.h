#pragma once
// The per-container monitor behind RuncImpl::create (see runc.h for why it
// exists). Internal to the runtime.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "kubelet/runtime/runc.h"

namespace nanokube::kubelet::runtime {

struct MonitorSpec {
  std::vector<std::string> argv;  // the full `runc ... create ...` command line
  std::string runcPath;           // argv[0] resolved to an absolute path
  std::string pidFile;            // runc --pid-file
  std::string exitFile;           // written when the container's init is reaped
  std::string lockFile;           // flock held while the monitor lives
  std::string stdoutPath;
  std::string stderrPath;
};

// What `runc create` did, as the monitor saw it before it detached.
struct CreateOutcome {
  int runcExitCode = 0;  // 128 + signal when runc was killed
  int containerPid = 0;  // 0 when runc failed
};

// Starts the detached monitor, which runs `runc create` and reports back once
// runc has exited. Fails when the monitor could not be started at all.
Result<CreateOutcome> startMonitor(const MonitorSpec& spec);

// Parses an exit file written by the monitor: "exited 3 <unix-ns>\n" or
// "signaled 9 <unix-ns>\n". nullopt on anything else.
std::optional<ExitStatus> parseExitFile(const std::string& text);

}  // namespace nanokube::kubelet::runtime
