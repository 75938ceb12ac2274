#pragma once
// Named, persistent network namespaces, made and removed the way `ip netns add|del` does,
// and a way to run code inside one without moving the caller.
//
// Threading contract: a network namespace belongs to a thread, not to the process
// (setns(CLONE_NEWNET) and unshare(CLONE_NEWNET) change only the calling thread). Every
// function here that enters a namespace does so on a short-lived thread of its own and
// joins it before returning, so the caller's thread never changes namespace, even when
// the work inside fails. Sockets keep the namespace they were created in, which is how
// a netlink socket made on such a thread keeps talking to that namespace afterwards.

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "common/error.h"

namespace nanokube::net {

// An owned file descriptor, closed on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset();

 private:
  int fd_ = -1;
};

// Prepares `dir` to hold namespace mounts as iproute2 prepares /run/netns: creates it and
// makes it a shared mount point (bind-mounting it onto itself first when it is not a mount
// point), so that an unmount there propagates into mount namespaces copied later, such as
// a container's, instead of leaving a copy that pins the namespace. Idempotent.
Result<void> ensureNetnsDir(const std::filesystem::path& dir);

// Undoes ensureNetnsDir once no namespace is left in `dir`: unmounts the self bind mount
// and removes the directory. For `cluster down` and tests. Idempotent.
Result<void> removeNetnsDir(const std::filesystem::path& dir);

// Creates a new network namespace and pins it by bind-mounting it onto `dir/name`, as
// `ip netns add name` does under /run/netns. Returns the path. Fails with kAlreadyExists
// when `dir/name` already holds a namespace; an empty file left by an interrupted create
// is reused.
Result<std::filesystem::path> createNetns(const std::filesystem::path& dir, const std::string& name);

// Opens a pinned namespace (the path of createNetns, or /proc/<pid>/ns/net) and checks that
// it is a network namespace.
Result<Fd> openNetns(const std::filesystem::path& path);

// Unmounts and unlinks a namespace made by createNetns. The namespace itself lives on while
// a process or an open fd still holds it. Missing paths are not an error.
Result<void> deleteNetns(const std::filesystem::path& path);

// Writes a network sysctl of the namespace `netnsFd`, e.g. ("net/ipv4/ip_forward", "1").
// Files under /proc/sys/net belong to the namespace of the task that opens them, so the
// write happens on a thread inside the namespace. `key` is relative to /proc/sys.
Result<void> writeNetSysctl(int netnsFd, const std::string& key, const std::string& value);
Result<std::string> readNetSysctl(int netnsFd, const std::string& key);

namespace detail {
// Runs `fn` on a new thread that has entered the namespace `netnsFd` and joins it.
// Fails without running `fn` when setns fails.
Result<void> runOnNetnsThread(int netnsFd, const std::function<void()>& fn);
}  // namespace detail

// Runs `fn` inside the network namespace `netnsFd` on a dedicated thread and returns what
// it returns. `fn` returns a Result<T>; failing to enter the namespace is reported as the
// same type. `fn` must not start threads that outlive it expecting to stay in the namespace.
template <class F>
std::invoke_result_t<F&> runInNetns(int netnsFd, F&& fn) {
  std::optional<std::invoke_result_t<F&>> out;
  auto entered = detail::runOnNetnsThread(netnsFd, [&] { out.emplace(fn()); });
  if (!entered) return std::unexpected(std::move(entered.error()));
  return std::move(*out);
}

}  // namespace nanokube::net
