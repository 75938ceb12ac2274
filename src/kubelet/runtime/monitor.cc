#include "kubelet/runtime/monitor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "kubelet/runtime/process.h"

extern char** environ;

namespace nanokube::kubelet::runtime {

namespace {

// Everything below up to startMonitor() runs in a forked child of a possibly
// multi-threaded agent, so it only calls async-signal-safe functions: no
// allocation, no stdio, no locks. All strings were prepared by the parent.

void writeAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
}

// Appends the decimal form of value at out, returning the new end.
char* formatInt(char* out, long long value) {
  char digits[24];
  int n = 0;
  bool negative = value < 0;
  unsigned long long v = negative ? 0ULL - static_cast<unsigned long long>(value) : value;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
  if (negative) *out++ = '-';
  while (n > 0) *out++ = digits[--n];
  return out;
}

int readPid(const char* path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[32];
  ssize_t n = read(fd, buf, sizeof buf);
  close(fd);
  int pid = 0;
  for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; ++i) pid = pid * 10 + (buf[i] - '0');
  return pid;
}

void writeExitFile(const char* path, const char* tmpPath, int status) {
  char buf[96];
  char* p = buf;
  const char* kind = WIFSIGNALED(status) ? "signaled " : "exited ";
  for (const char* k = kind; *k; ++k) *p++ = *k;
  p = formatInt(p, WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
  *p++ = ' ';
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  p = formatInt(p, static_cast<long long>(now.tv_sec) * 1000000000LL + now.tv_nsec);
  *p++ = '\n';
  // Written aside and renamed, so a reader never sees half a line.
  int fd = open(tmpPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  writeAll(fd, buf, static_cast<size_t>(p - buf));
  fsync(fd);
  close(fd);
  rename(tmpPath, path);
}

// Closes every descriptor except those in keep (sorted ascending), so the
// monitor holds none of the agent's sockets or files open after a restart.
void closeAllExcept(const int* keep, int count) {
  unsigned int from = 0;
  for (int i = 0; i < count; ++i) {
    if (keep[i] < 0) continue;
    if (static_cast<unsigned int>(keep[i]) > from) close_range(from, keep[i] - 1, 0);
    from = keep[i] + 1;
  }
  close_range(from, ~0U, 0);
}

// An ignored SIGCHLD would make the kernel reap the container behind the
// monitor's back, and an ignored or blocked signal survives exec into runc and
// the container; so every disposition and the mask go back to the defaults.
void resetSignals() {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

struct ChildArgs {
  char* const* argv;
  const char* runcPath;
  const char* pidFile;
  const char* exitFile;
  const char* exitTmp;
  const char* lockFile;
  int devNull, out, err, report;
};

[[noreturn]] void monitorMain(const ChildArgs& a) {
  // The container's init is re-parented to the nearest subreaper once runc
  // exits; being that subreaper is what lets the monitor wait() for it.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  resetSignals();
  int lock = open(a.lockFile, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock >= 0) flock(lock, LOCK_EX);
  int keep[] = {a.devNull, a.out, a.err, a.report, lock};
  std::sort(keep, keep + 5);
  closeAllExcept(keep, 5);

  pid_t runc = _Fork();
  if (runc == 0) {
    // runc passes its own stdio through to the container: /dev/null in, the
    // log files out. dup2 clears close-on-exec on the copies.
    dup2(a.devNull, 0);
    dup2(a.out, 1);
    dup2(a.err, 2);
    close_range(3, ~0U, 0);
    execve(a.runcPath, a.argv, environ);
    _exit(127);
  }
  int status = 0;
  if (runc < 0) {
    status = 127 << 8;
  } else {
    while (waitpid(runc, &status, 0) < 0 && errno == EINTR) {
    }
  }
  CreateOutcome outcome;
  outcome.runcExitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (outcome.runcExitCode == 0) outcome.containerPid = readPid(a.pidFile);
  writeAll(a.report, reinterpret_cast<const char*>(&outcome), sizeof outcome);
  close(a.report);
  dup2(a.devNull, 0);
  dup2(a.devNull, 1);
  dup2(a.devNull, 2);
  close(a.out);
  if (a.err != a.out) close(a.err);
  if (outcome.containerPid <= 0) _exit(0);

  // Reap everything re-parented here (runc's intermediate processes too)
  // until the container's init itself ends.
  for (;;) {
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0 && errno == EINTR) continue;
    if (pid < 0) _exit(1);  // ECHILD: the init was never ours; nothing to record
    if (pid == outcome.containerPid) break;
  }
  writeExitFile(a.exitFile, a.exitTmp, status);
  _exit(0);
}

}  // namespace

Result<CreateOutcome> startMonitor(const MonitorSpec& spec) {
  auto openLog = [](const std::string& path) {
    return open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  };
  int devNull = open("/dev/null", O_RDWR | O_CLOEXEC);
  int out = openLog(spec.stdoutPath);
  int err = spec.stderrPath == spec.stdoutPath ? out : openLog(spec.stderrPath);
  int report[2] = {-1, -1};
  auto closeAll = [&] {
    for (int fd : {devNull, out, err == out ? -1 : err, report[0], report[1]}) {
      if (fd >= 0) close(fd);
    }
  };
  if (devNull < 0 || out < 0 || err < 0) {
    int e = errno;
    closeAll();
    return fail(Code::kInternal, "open container log " + spec.stdoutPath + ": " + errnoText(e));
  }
  if (pipe2(report, O_CLOEXEC) != 0) {
    int e = errno;
    closeAll();
    return fail(Code::kInternal, "pipe: " + errnoText(e));
  }

  std::vector<char*> argv;
  for (const auto& s : spec.argv) argv.push_back(const_cast<char*>(s.c_str()));
  argv.push_back(nullptr);
  std::string exitTmp = spec.exitFile + ".tmp";
  ChildArgs args{argv.data(), spec.runcPath.c_str(), spec.pidFile.c_str(), spec.exitFile.c_str(),
                 exitTmp.c_str(), spec.lockFile.c_str(), devNull, out, err, report[1]};

  pid_t first = fork();
  if (first == 0) {
    // The first child only starts a new session and forks the monitor, so the
    // monitor is re-parented to init at once and never becomes the agent's
    // zombie; it also outlives an agent restart.
    setsid();
    pid_t monitor = _Fork();
    if (monitor == 0) monitorMain(args);
    _exit(monitor < 0 ? 1 : 0);
  }
  int forkErrno = errno;
  close(report[1]);
  report[1] = -1;
  if (first < 0) {
    closeAll();
    return fail(Code::kInternal, "fork runc monitor: " + errnoText(forkErrno));
  }
  int status = 0;
  while (waitpid(first, &status, 0) < 0 && errno == EINTR) {
  }
  CreateOutcome outcome;
  size_t got = 0;
  while (got < sizeof outcome) {
    ssize_t n = read(report[0], reinterpret_cast<char*>(&outcome) + got, sizeof outcome - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  closeAll();
  if (got != sizeof outcome) {
    return fail(Code::kInternal, "runc monitor exited before reporting on runc create");
  }
  return outcome;
}

std::optional<ExitStatus> parseExitFile(const std::string& text) {
  auto space = text.find(' ');
  if (space == std::string::npos) return std::nullopt;
  std::string kind = text.substr(0, space);
  const char* p = text.data() + space + 1;
  const char* end = text.data() + text.size();
  int value = 0;
  auto r = std::from_chars(p, end, value);
  if (r.ec != std::errc()) return std::nullopt;
  long long ns = 0;
  if (r.ptr < end && *r.ptr == ' ') std::from_chars(r.ptr + 1, end, ns);
  ExitStatus status;
  status.finishedAt = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(ns)));
  if (kind == "exited") {
    status.code = value;
  } else if (kind == "signaled") {
    status.signal = value;
    status.code = 128 + value;
  } else {
    return std::nullopt;
  }
  return status;
}

}  // namespace nanokube::kubelet::runtime
