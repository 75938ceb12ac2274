#include "net/netns.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <thread>

namespace nanokube::net {

namespace {

// "mount /proc/thread-self/ns/net on /run/x: No such file or directory (ENOENT)".
std::string describe(const std::string& what, int err) {
  const char* name = strerrorname_np(err);
  return what + ": " + std::strerror(err) + " (" + (name ? name : std::to_string(err)) + ")";
}

auto sysFail(const std::string& what, int err) {
  Code code = err == ENOENT ? Code::kNotFound : err == EEXIST ? Code::kAlreadyExists : Code::kInternal;
  return fail(code, describe(what, err));
}

// Runs `fn` on a thread of its own and joins it. Creating a thread throws when the process
// is out of threads; that becomes an error value here, as nothing else in nanokube throws.
Result<void> onOwnThread(const std::function<void()>& fn) {
  try {
    std::thread(fn).join();
  } catch (const std::system_error& e) {
    return fail(Code::kUnavailable, std::string("start thread: ") + e.what());
  }
  return {};
}

bool isNetns(int fd) {
  struct statfs fs {};
  if (fstatfs(fd, &fs) != 0 || fs.f_type != NSFS_MAGIC) return false;
  return ioctl(fd, NS_GET_NSTYPE) == CLONE_NEWNET;
}

}  // namespace

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void Fd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<void> ensureNetnsDir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail(Code::kInternal, "mkdir " + dir.string() + ": " + ec.message());
  // As iproute2 does: making the directory shared fails with EINVAL while it is not a mount
  // point, in which case it becomes one by a bind mount onto itself.
  if (::mount("", dir.c_str(), "none", MS_SHARED | MS_REC, nullptr) == 0) return {};
  if (errno != EINVAL) return sysFail("mount --make-rshared " + dir.string(), errno);
  if (::mount(dir.c_str(), dir.c_str(), "none", MS_BIND | MS_REC, nullptr) != 0) {
    return sysFail("mount --rbind " + dir.string() + " " + dir.string(), errno);
  }
  if (::mount("", dir.c_str(), "none", MS_SHARED | MS_REC, nullptr) != 0) {
    return sysFail("mount --make-rshared " + dir.string(), errno);
  }
  return {};
}

Result<void> removeNetnsDir(const std::filesystem::path& dir) {
  if (::umount2(dir.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    return sysFail("umount " + dir.string(), errno);
  }
  if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) return sysFail("rmdir " + dir.string(), errno);
  return {};
}

Result<std::filesystem::path> createNetns(const std::filesystem::path& dir, const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
    return fail(Code::kInvalid, "network namespace name \"" + name + "\" is not a file name");
  }
  if (auto prepared = ensureNetnsDir(dir); !prepared) return std::unexpected(prepared.error());
  std::filesystem::path path = dir / name;

  // O_EXCL would refuse the empty file an interrupted create leaves behind, so an existing
  // file is checked instead: a mounted namespace is a conflict, an empty file is reused.
  int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0);
  if (fd < 0) return sysFail("create " + path.string(), errno);
  bool mounted = isNetns(fd);
  ::close(fd);
  if (mounted) return fail(Code::kAlreadyExists, "network namespace " + path.string() + " already exists");

  // unshare changes only the calling thread's namespace, so it happens on a thread that
  // exits right after pinning the new namespace with the bind mount. Threads share the
  // mount namespace, so the mount is visible to the whole process.
  Result<void> result;
  auto ran = onOwnThread([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      result = sysFail("unshare(CLONE_NEWNET)", errno);
      return;
    }
    if (::mount("/proc/thread-self/ns/net", path.c_str(), "none", MS_BIND, nullptr) != 0) {
      result = sysFail("mount --bind /proc/thread-self/ns/net " + path.string(), errno);
    }
  });
  if (!ran) result = std::unexpected(ran.error());
  if (!result) {
    ::unlink(path.c_str());
    return std::unexpected(result.error());
  }
  return path;
}

Result<Fd> openNetns(const std::filesystem::path& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return sysFail("open " + path.string(), errno);
  if (!isNetns(fd.get())) {
    return fail(Code::kNotFound, path.string() + " is not a network namespace (not mounted?)");
  }
  return fd;
}

Result<void> deleteNetns(const std::filesystem::path& path) {
  // EINVAL: not a mount point (an interrupted create); ENOENT: already gone.
  if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    return sysFail("umount " + path.string(), errno);
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return sysFail("unlink " + path.string(), errno);
  return {};
}

namespace {

Result<std::filesystem::path> sysctlPath(const std::string& key) {
  if (!key.starts_with("net/") || key.find("..") != std::string::npos) {
    return fail(Code::kInvalid, "sysctl " + key + " is not under net/");
  }
  return std::filesystem::path("/proc/sys") / key;
}

}  // namespace

Result<void> writeNetSysctl(int netnsFd, const std::string& key, const std::string& value) {
  auto path = sysctlPath(key);
  if (!path) return std::unexpected(path.error());
  return runInNetns(netnsFd, [&]() -> Result<void> {
    Fd fd(::open(path->c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) return sysFail("open " + path->string(), errno);
    if (::write(fd.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size())) {
      return sysFail("write " + value + " to " + path->string(), errno);
    }
    return {};
  });
}

Result<std::string> readNetSysctl(int netnsFd, const std::string& key) {
  auto path = sysctlPath(key);
  if (!path) return std::unexpected(path.error());
  return runInNetns(netnsFd, [&]() -> Result<std::string> {
    Fd fd(::open(path->c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return sysFail("open " + path->string(), errno);
    char buf[256];
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) return sysFail("read " + path->string(), errno);
    std::string value(buf, static_cast<size_t>(n));
    while (!value.empty() && value.back() == '\n') value.pop_back();
    return value;
  });
}

namespace detail {

Result<void> runOnNetnsThread(int netnsFd, const std::function<void()>& fn) {
  Result<void> entered;
  auto ran = onOwnThread([&] {
    if (::setns(netnsFd, CLONE_NEWNET) != 0) {
      entered = sysFail("setns(fd " + std::to_string(netnsFd) + ", CLONE_NEWNET)", errno);
      return;
    }
    fn();
  });
  if (!ran) return ran;
  return entered;
}

}  // namespace detail

}  // namespace nanokube::net
