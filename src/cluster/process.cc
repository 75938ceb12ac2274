#include "cluster/process.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

namespace nanokube::cluster {

namespace fs = std::filesystem;

namespace {

std::string errnoText(int err) { return fmt::format("{} ({})", std::strerror(err), err); }

// The state letter of /proc/<pid>/stat ('Z' for a zombie); 0 when there is no such process.
char procState(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string text;
  if (!std::getline(in, text)) return 0;
  // "pid (comm) S ...": comm may hold spaces and parentheses; the state follows the last ')'.
  size_t close = text.rfind(')');
  if (close == std::string::npos || close + 2 >= text.size()) return 0;
  return text[close + 2];
}

bool alive(pid_t pid) {
  if (waitExited(pid)) return false;
  return true;
}

}  // namespace

Result<pid_t> spawnDetached(const SpawnOptions& options) {
  if (options.argv.empty()) return fail(Code::kInvalid, "spawn: empty argv");
  // Everything the child needs is prepared before fork: between fork and exec a
  // child of a multi-threaded process may only make async-signal-safe calls.
  std::vector<char*> argv;
  for (const auto& arg : options.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  int log = ::open(options.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) return fail(Code::kInternal, fmt::format("open {}: {}", options.log.string(), errnoText(errno)));
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int report[2];
  if (devnull < 0 || ::pipe2(report, O_CLOEXEC) != 0) {
    int err = errno;
    ::close(log);
    if (devnull >= 0) ::close(devnull);
    return fail(Code::kInternal, fmt::format("spawn {}: {}", options.argv[0], errnoText(err)));
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    for (int fd : {log, devnull, report[0], report[1]}) ::close(fd);
    return fail(Code::kInternal, fmt::format("fork: {}", errnoText(err)));
  }
  if (pid == 0) {
    auto die = [&](int step) {
      int payload[2] = {step, errno};
      (void)!::write(report[1], payload, sizeof payload);
      ::_exit(127);
    };
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (::setsid() < 0) die(0);
    if (options.netnsFd >= 0 && ::setns(options.netnsFd, CLONE_NEWNET) != 0) die(1);
    if (::dup2(devnull, 0) < 0 || ::dup2(log, 1) < 0 || ::dup2(log, 2) < 0) die(2);
    // The report pipe stays open (close-on-exec) across this; every other fd goes.
    for (int fd = 3; fd < 1024; ++fd) {
      if (fd != report[1]) ::close(fd);
    }
    ::execv(argv[0], argv.data());
    die(3);
  }
  for (int fd : {log, devnull, report[1]}) ::close(fd);
  int payload[2];
  ssize_t n;
  do {
    n = ::read(report[0], payload, sizeof payload);
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n == static_cast<ssize_t>(sizeof payload)) {
    ::waitpid(pid, nullptr, 0);
    static constexpr const char* kSteps[] = {"setsid", "setns", "dup2", "exec"};
    return fail(Code::kInternal,
                fmt::format("{} {}: {}", kSteps[payload[0]], options.argv[0], errnoText(payload[1])));
  }
  return pid;
}

bool waitExited(pid_t pid) {
  int status;
  pid_t r = ::waitpid(pid, &status, WNOHANG);
  if (r == pid) return true;
  if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
  return procState(pid) == 'Z' || procState(pid) == 0;
}

std::vector<std::string> splitCmdline(std::string_view raw) {
  std::vector<std::string> argv;
  while (!raw.empty()) {
    size_t nul = raw.find('\0');
    argv.emplace_back(raw.substr(0, nul));
    if (nul == std::string_view::npos) break;
    raw.remove_prefix(nul + 1);
  }
  return argv;
}

bool isNanokubeProcess(const std::vector<std::string>& argv, std::string_view role, std::string_view flag,
                       std::string_view value) {
  if (argv.size() < 2 || fs::path(argv[0]).filename() != "nanokube" || argv[1] != role) return false;
  for (size_t i = 2; i + 1 < argv.size(); ++i) {
    if (argv[i] == flag && argv[i + 1] == value) return true;
  }
  return false;
}

std::optional<pid_t> readPidFile(const fs::path& file) {
  std::ifstream in(file);
  long pid = 0;
  if (!(in >> pid) || pid <= 1) return std::nullopt;
  return static_cast<pid_t>(pid);
}

Result<void> writePidFile(const fs::path& file, pid_t pid) {
  std::ofstream out(file, std::ios::trunc);
  out << pid << "\n";
  if (!out) return fail(Code::kInternal, fmt::format("write {}: failed", file.string()));
  return {};
}

std::optional<pid_t> runningProcess(const fs::path& pidFile, std::string_view role, std::string_view flag,
                                    std::string_view value) {
  auto pid = readPidFile(pidFile);
  if (!pid || !alive(*pid)) return std::nullopt;
  std::ifstream in(fmt::format("/proc/{}/cmdline", *pid), std::ios::binary);
  std::stringstream raw;
  raw << in.rdbuf();
  if (!isNanokubeProcess(splitCmdline(raw.str()), role, flag, value)) return std::nullopt;
  return pid;
}

std::vector<pid_t> terminate(const std::vector<pid_t>& pids, std::chrono::milliseconds grace) {
  auto waitAll = [](std::vector<pid_t> left, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (true) {
      std::erase_if(left, [](pid_t p) { return !alive(p); });
      if (left.empty() || std::chrono::steady_clock::now() >= deadline) return left;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  };
  for (pid_t pid : pids) ::kill(pid, SIGTERM);
  auto left = waitAll(pids, grace);
  for (pid_t pid : left) ::kill(pid, SIGKILL);
  return waitAll(left, std::chrono::seconds(5));
}

std::string tailFile(const fs::path& file, size_t lines) {
  std::ifstream in(file);
  std::deque<std::string> last;
  std::string line;
  while (std::getline(in, line)) {
    last.push_back(line);
    if (last.size() > lines) last.pop_front();
  }
  std::string out;
  for (const auto& l : last) out += l + "\n";
  return out;
}

}  // namespace nanokube::cluster
