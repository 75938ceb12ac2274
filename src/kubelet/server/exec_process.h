#pragma once
// A command run in a container with `runc exec`, for the agent's exec endpoint.
//
// Without a terminal, `runc exec` runs in the foreground: it hands its own
// stdin/stdout/stderr (pipes here) to the process, waits for it and exits with
// its code (128 + signal when killed), or with 255 and an error in its log when
// it could not start the process.
//
// With a terminal, runc only allocates the pty when it detaches
// (`--detach --tty --console-socket`): it sends the pty master over the unix
// socket (SCM_RIGHTS) and exits at once, so nobody would be left to wait for
// the process. A small helper forked for the purpose makes itself a child
// subreaper (PR_SET_CHILD_SUBREAPER) and runs runc as its child: when runc
// exits, the orphaned process is re-parented to the helper, which waits for it
// and exits with its code — containerd's shim does the same. Between fork and
// exit the helper uses raw system calls only (the agent is multi-threaded) and
// closes every inherited descriptor.
//
// Thread safety: one owner; not shared between threads.

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "kubelet/server/channel.h"

namespace nanokube::kubelet::server {

struct ExecSpec {
  std::string runcBinary = "runc";
  std::filesystem::path runcRoot;  // runc --root
  std::string containerId;
  std::vector<std::string> command;
  bool tty = false;
  bool stdin = false;
  bool stdout = false;
  bool stderr = false;
};

struct ExecExit {
  int code = 0;
  // runc's own error when it could not start the command (`exec: "nope":
  // executable file not found in $PATH`); code is then 127 or 126, what a
  // shell answers for a command it cannot run. Empty when the command ran.
  std::string runtimeError;
};

class ExecProcess {
 public:
  // Starts runc. With a terminal, waits (up to 10 s) for the pty master. A
  // command runc cannot start is not an error here: the process exits at once
  // and tryWait() reports runtimeError. Fails only when runc cannot be run.
  static Result<std::unique_ptr<ExecProcess>> start(const ExecSpec& spec);
  ExecProcess(const ExecProcess&) = delete;
  ExecProcess& operator=(const ExecProcess&) = delete;
  // Ends a command still running (see terminate) and reaps it, in the
  // background when it does not end at once.
  ~ExecProcess();

  // The caller's ends of the streams; ownership moves to the caller, -1 when
  // the stream was not asked for. Without a terminal: a pipe each. With one:
  // the pty master (read and write), and no stdout/stderr.
  int takeStdin();
  int takeStdout();
  int takeStderr();
  int takeTerminal();
  bool hasTerminal() const { return terminal_ >= 0; }

  // Readable once the process (runc, or the terminal helper) has exited.
  int pidFd() const { return pidFd_; }
  // The exit once the process has exited (does not block); nullopt before.
  std::optional<ExecExit> tryWait();
  // TIOCSWINSZ on the pty master; the kernel sends SIGWINCH to the command.
  Result<void> resize(TerminalSize size);
  // Without a terminal SIGTERM goes to runc, which forwards it to the command;
  // with one the pty is hung up (the shell gets SIGHUP).
  void terminate();

 private:
  ExecProcess() = default;
  ExecExit exitFrom(int waitStatus);

  pid_t pid_ = -1;  // runc (no terminal) or the helper (terminal)
  int pidFd_ = -1;
  int stdin_ = -1, stdout_ = -1, stderr_ = -1, terminal_ = -1;
  int terminalControl_ = -1;  // a copy of the pty master kept for resize
  bool tty_ = false;
  std::optional<ExecExit> exit_;
  std::filesystem::path workDir_;  // console socket, runc's log
};

// The last `"level":"error"` message of a runc JSON log, or "".
std::string lastRuncError(const std::string& jsonLog);

}  // namespace nanokube::kubelet::server
