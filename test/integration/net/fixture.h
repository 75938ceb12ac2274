#pragma once
// Scratch namespaces for the net integration tests. Every test makes its own, named
// nktest-<pid>-<name> under a fresh temporary directory, and the destructor removes them
// (and the directory's own mount) whatever happened in the test, so a failing test leaves
// nothing behind on the host. Nothing is ever created in the host's namespace.

#include <gtest/gtest.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "net/netns.h"

namespace nanokube::net::testing {

class ScratchNamespaces {
 public:
  ScratchNamespaces() {
    std::string tmpl = "/tmp/nktest-" + std::to_string(::getpid()) + "-XXXXXX";
    if (::mkdtemp(tmpl.data())) dir_ = tmpl;
  }
  ~ScratchNamespaces() {
    fds_.clear();
    for (const auto& [name, path] : paths_) {
      auto deleted = deleteNetns(path);
      EXPECT_TRUE(deleted) << deleted.error().message;
    }
    if (!dir_.empty()) {
      auto removed = removeNetnsDir(netnsDir());
      EXPECT_TRUE(removed) << removed.error().message;
      std::filesystem::remove_all(dir_);
    }
  }
  ScratchNamespaces(const ScratchNamespaces&) = delete;
  ScratchNamespaces& operator=(const ScratchNamespaces&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path netnsDir() const { return dir_ / "netns"; }
  std::string fullName(const std::string& name) const { return "nktest-" + std::to_string(::getpid()) + "-" + name; }

  // Creates nktest-<pid>-<name> and returns an fd for it (-1 after a failed expectation).
  int create(const std::string& name) {
    auto path = createNetns(netnsDir(), fullName(name));
    EXPECT_TRUE(path) << path.error().message;
    if (!path) return -1;
    paths_[name] = *path;
    auto fd = openNetns(*path);
    EXPECT_TRUE(fd) << fd.error().message;
    if (!fd) return -1;
    int raw = fd->get();
    fds_[name] = std::move(*fd);
    return raw;
  }
  std::filesystem::path path(const std::string& name) const { return paths_.at(name); }
  int fd(const std::string& name) const { return fds_.at(name).get(); }

 private:
  std::filesystem::path dir_;
  std::map<std::string, std::filesystem::path> paths_;
  std::map<std::string, Fd> fds_;
};

// Runs a program and returns its exit status (-1 if it could not run); output is discarded
// unless `output` is given.
inline int runProgram(const std::vector<std::string>& argv, std::string* output = nullptr) {
  int pipeFds[2];
  if (::pipe(pipeFds) != 0) return -1;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipeFds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addclose(&actions, pipeFds[0]);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipeFds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipeFds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(pipeFds[0]);
  if (rc != 0) return -1;
  int status = 0;
  if (::waitpid(pid, &status, 0) < 0) return -1;
  if (output) *output = out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// One ICMP echo from inside the namespace at `netnsPath`, as `ip netns exec ... ping` would.
// Debian's iputils-ping is not installed on these machines; busybox-static is (scripts/setup).
inline bool pingFrom(const std::filesystem::path& netnsPath, const std::string& ip) {
  std::string ns = "--net=" + netnsPath.string();
  return runProgram({"nsenter", ns, "busybox", "ping", "-c1", "-W1", ip}) == 0;
}

}  // namespace nanokube::net::testing
