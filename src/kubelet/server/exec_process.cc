#include "kubelet/server/exec_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

extern char** environ;

namespace nanokube::kubelet::server {

namespace {

std::string errnoText(int err) {
  const char* name = strerrorname_np(err);
  return fmt::format("{} ({})", std::strerror(err), name ? name : std::to_string(err));
}

void closeFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

int takeFd(int& fd) {
  int out = fd;
  fd = -1;
  return out;
}

// Closes its descriptors on every early return.
struct Fds {
  std::vector<int*> fds;
  ~Fds() {
    for (int* fd : fds) closeFd(*fd);
  }
};

int pidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// The absolute path of a binary looked up in PATH, as execvp would find it.
std::string resolveBinary(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  std::istringstream in(dirs);
  std::string dir;
  while (std::getline(in, dir, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return name;
}

int codeOf(int waitStatus) {
  if (WIFEXITED(waitStatus)) return WEXITSTATUS(waitStatus);
  if (WIFSIGNALED(waitStatus)) return 128 + WTERMSIG(waitStatus);
  return 255;
}

// Receives one descriptor sent with SCM_RIGHTS (runc's utils.SendFd sends the
// pty's name as data alongside it).
int receiveFd(int sock) {
  char data[4096];
  iovec iov{data, sizeof data};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return -1;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
      return fd;
    }
  }
  errno = EPROTO;
  return -1;
}

}  // namespace

std::string lastRuncError(const std::string& jsonLog) {
  std::istringstream in(jsonLog);
  std::string line, last;
  while (std::getline(in, line)) {
    Json j = Json::parse(line, nullptr, false);
    if (j.is_object() && j.value("level", "") == "error") last = j.value("msg", "");
  }
  return last;
}

Result<std::unique_ptr<ExecProcess>> ExecProcess::start(const ExecSpec& spec) {
  std::unique_ptr<ExecProcess> p(new ExecProcess());
  p->tty_ = spec.tty;
  char tmpl[] = "/tmp/nk-exec-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return fail(Code::kInternal, "mkdtemp /tmp/nk-exec-*: " + errnoText(errno));
  p->workDir_ = tmpl;
  std::string logPath = (p->workDir_ / "runc.log").string();
  std::string socketPath = (p->workDir_ / "console.sock").string();
  std::string pidPath = (p->workDir_ / "exec.pid").string();
  const char* pidFile = pidPath.c_str();

  std::vector<std::string> argv = {resolveBinary(spec.runcBinary), "--root", spec.runcRoot.string(), "--log",
                                   logPath, "--log-format", "json", "exec"};
  if (spec.tty) {
    argv.insert(argv.end(), {"--detach", "--tty", "--console-socket", socketPath, "--pid-file", pidPath});
  }
  argv.push_back(spec.containerId);
  argv.insert(argv.end(), spec.command.begin(), spec.command.end());
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);

  if (!spec.tty) {
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    Fds guard{{&in[0], &in[1], &out[0], &out[1], &err[0], &err[1]}};
    if ((spec.stdin && ::pipe2(in, O_CLOEXEC) != 0) || (spec.stdout && ::pipe2(out, O_CLOEXEC) != 0) ||
        (spec.stderr && ::pipe2(err, O_CLOEXEC) != 0)) {
      return fail(Code::kInternal, "pipe: " + errnoText(errno));
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    auto wire = [&](int pipeEnd, int target, int flags) {
      if (pipeEnd >= 0) posix_spawn_file_actions_adddup2(&actions, pipeEnd, target);
      else posix_spawn_file_actions_addopen(&actions, target, "/dev/null", flags, 0);
    };
    wire(in[0], 0, O_RDONLY);
    wire(out[1], 1, O_WRONLY);
    wire(err[1], 2, O_WRONLY);
    // runc would otherwise hold every descriptor of the agent that lacks
    // O_CLOEXEC (client sockets among them) for as long as the command runs.
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return fail(Code::kInternal, fmt::format("exec {}: {}", argv[0], errnoText(rc)));
    p->pid_ = pid;
    p->stdin_ = takeFd(in[1]);
    p->stdout_ = takeFd(out[0]);
    p->stderr_ = takeFd(err[0]);
  } else {
    int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    Fds guard{{&listener}};
    if (listener < 0) return fail(Code::kInternal, "socket: " + errnoText(errno));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socketPath.size() >= sizeof addr.sun_path) return fail(Code::kInternal, "console socket path too long");
    std::memcpy(addr.sun_path, socketPath.c_str(), socketPath.size() + 1);
    if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listener, 1) != 0) {
      return fail(Code::kInternal, fmt::format("console socket {}: {}", socketPath, errnoText(errno)));
    }
    pid_t helper = ::fork();
    if (helper < 0) return fail(Code::kInternal, "fork: " + errnoText(errno));
    if (helper == 0) {
      // The helper: raw system calls only from here on.
      ::prctl(PR_SET_CHILD_SUBREAPER, 1);
      ::setsid();
      int devnull = ::open("/dev/null", O_RDWR);
      ::dup2(devnull, 0);
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
      ::close_range(3, ~0U, 0);
      pid_t runc = ::fork();
      if (runc < 0) ::_exit(255);
      if (runc == 0) {
        ::execve(args[0], args.data(), environ);
        ::_exit(127);
      }
      int status = 0;
      while (::waitpid(runc, &status, 0) < 0) {
        if (errno != EINTR) ::_exit(255);
      }
      if (codeOf(status) != 0) ::_exit(codeOf(status));
      // runc started the command and left; the command is our child now.
      pid_t command = 0;
      int pf = ::open(pidFile, O_RDONLY | O_CLOEXEC);
      if (pf >= 0) {
        char digits[32];
        ssize_t n = ::read(pf, digits, sizeof digits);
        for (ssize_t i = 0; i < n && digits[i] >= '0' && digits[i] <= '9'; ++i) command = command * 10 + (digits[i] - '0');
        ::close(pf);
      }
      for (;;) {
        pid_t r = ::waitpid(command > 0 ? command : -1, &status, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) ::_exit(255);
        // A command killed by a signal is told by an exit code of 128 + signal.
        if (command <= 0 || r == command) ::_exit(codeOf(status));
      }
    }
    p->pid_ = helper;
    p->pidFd_ = pidfdOpen(helper);
    if (p->pidFd_ < 0) return fail(Code::kInternal, "pidfd_open: " + errnoText(errno));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      pollfd fds[2] = {{listener, POLLIN, 0}, {p->pidFd_, POLLIN, 0}};
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        p->terminate();
        return fail(Code::kInternal, "runc exec --tty: no terminal received within 10s");
      }
      int n = ::poll(fds, 2, static_cast<int>(left.count()));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail(Code::kInternal, "poll: " + errnoText(errno));
      if (fds[0].revents & POLLIN) {
        int conn = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (conn < 0) return fail(Code::kInternal, "accept console socket: " + errnoText(errno));
        int master = receiveFd(conn);
        int e = errno;
        ::close(conn);
        if (master < 0) return fail(Code::kInternal, "receive terminal: " + errnoText(e));
        p->terminal_ = master;
        p->terminalControl_ = ::fcntl(master, F_DUPFD_CLOEXEC, 3);
        break;
      }
      if (fds[1].revents & POLLIN) break;  // runc ended without a terminal: it failed
    }
  }
  if (p->pidFd_ < 0) {
    p->pidFd_ = pidfdOpen(p->pid_);
    if (p->pidFd_ < 0) return fail(Code::kInternal, "pidfd_open: " + errnoText(errno));
  }
  return p;
}

ExecExit ExecProcess::exitFrom(int waitStatus) {
  ExecExit e;
  e.code = codeOf(waitStatus);
  std::ifstream in(workDir_ / "runc.log");
  std::stringstream ss;
  ss << in.rdbuf();
  // runc exits 255 when it could not start the command (a command may exit
  // 255 itself: runc's log tells them apart); the terminal helper passes
  // runc's code on when no command was started.
  if (e.code != 0) {
    std::string err = lastRuncError(ss.str());
    if (!err.empty()) {
      e.runtimeError = err;
      e.code = startFailureExitCode(err);
    }
  }
  return e;
}

std::optional<ExecExit> ExecProcess::tryWait() {
  if (exit_) return exit_;
  if (pid_ < 0) return std::nullopt;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    pid_ = -1;
    exit_ = exitFrom(status);
  }
  return exit_;
}

int ExecProcess::takeStdin() { return takeFd(stdin_); }
int ExecProcess::takeStdout() { return takeFd(stdout_); }
int ExecProcess::takeStderr() { return takeFd(stderr_); }
int ExecProcess::takeTerminal() { return takeFd(terminal_); }

Result<void> ExecProcess::resize(TerminalSize size) {
  if (terminalControl_ < 0) return fail(Code::kBadRequest, "resize without a terminal");
  winsize ws{};
  ws.ws_col = size.width;
  ws.ws_row = size.height;
  if (::ioctl(terminalControl_, TIOCSWINSZ, &ws) != 0) return fail(Code::kInternal, "TIOCSWINSZ: " + errnoText(errno));
  return {};
}

void ExecProcess::terminate() {
  if (tty_) {
    closeFd(terminal_);
    closeFd(terminalControl_);
    return;
  }
  if (pid_ > 0 && !tryWait()) ::kill(pid_, SIGTERM);
}

ExecProcess::~ExecProcess() {
  closeFd(stdin_);
  closeFd(stdout_);
  closeFd(stderr_);
  terminate();
  closeFd(terminal_);
  closeFd(terminalControl_);
  closeFd(pidFd_);
  if (pid_ > 0 && !tryWait()) {
    // Reap it once it ends; runc gets SIGKILL if it outlives the grace.
    pid_t pid = pid_;
    bool tty = tty_;
    std::thread([pid, tty] {
      int status;
      for (int i = 0; i < 50; ++i) {
        if (::waitpid(pid, &status, WNOHANG) == pid) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (!tty) ::kill(pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
    }).detach();
  }
  std::error_code ec;
  if (!workDir_.empty()) std::filesystem::remove_all(workDir_, ec);
}

}  // namespace nanokube::kubelet::server
