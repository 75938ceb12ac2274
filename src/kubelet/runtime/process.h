#pragma once
// Running a short-lived helper process (runc start/state/kill/delete/list) and
// collecting what it printed. posix_spawn is used rather than fork because the
// agent is multi-threaded and large: glibc spawns with CLONE_VFORK, which
// neither copies the address space nor runs atfork handlers.

#include <string>
#include <vector>

#include "common/error.h"

namespace nanokube::kubelet::runtime {

struct ProcessResult {
  int exitCode = 0;  // 128 + signal when the process was killed
  std::string out;
  std::string err;
};

// Runs argv[0] (looked up in PATH) with stdin from /dev/null and waits for it.
// Fails only when the process cannot be started; a non-zero exit is a result.
Result<ProcessResult> runProcess(const std::vector<std::string>& argv);

// "errno text (ENAME)", e.g. "No such file or directory (ENOENT)".
std::string errnoText(int err);

}  // namespace nanokube::kubelet::runtime
