#include "net/netns.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/mount.h>

#include <fstream>

#include "net/netlink.h"
#include "fixture.h"

namespace nanokube::net {
namespace {

using testing::ScratchNamespaces;

ino_t inodeOf(const char* path) {
  struct stat st {};
  return ::stat(path, &st) == 0 ? st.st_ino : 0;
}

bool mountedAt(const std::filesystem::path& path) {
  std::ifstream mounts("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mounts, line)) {
    if (line.find(" " + path.string() + " ") != std::string::npos) return true;
  }
  return false;
}

TEST(Netns, CreateRunInsideDelete) {
  ino_t mine = inodeOf("/proc/thread-self/ns/net");
  std::filesystem::path path;
  {
    ScratchNamespaces scratch;
    int fd = scratch.create("a");
    ASSERT_GE(fd, 0);
    path = scratch.path("a");
    EXPECT_EQ(path.filename(), scratch.fullName("a"));
    EXPECT_TRUE(mountedAt(path));

    auto inside = runInNetns(fd, [] { return Result<ino_t>(inodeOf("/proc/thread-self/ns/net")); });
    ASSERT_TRUE(inside) << inside.error().message;
    EXPECT_NE(*inside, mine) << "the function ran in the caller's namespace";
    EXPECT_EQ(*inside, inodeOf(path.c_str())) << "the function ran in some other namespace";
    EXPECT_EQ(inodeOf("/proc/thread-self/ns/net"), mine) << "the caller's thread moved";

    // A new namespace has only lo, and it is down.
    auto netlink = openNetlink(fd);
    ASSERT_TRUE(netlink) << netlink.error().message;
    auto links = (*netlink)->listLinks();
    ASSERT_TRUE(links);
    ASSERT_EQ(links->size(), 1u);
    EXPECT_EQ((*links)[0].name, "lo");

    auto twice = createNetns(scratch.netnsDir(), scratch.fullName("a"));
    ASSERT_FALSE(twice);
    EXPECT_EQ(twice.error().code, Code::kAlreadyExists);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(mountedAt(path));
  EXPECT_FALSE(mountedAt(path.parent_path()));
  EXPECT_EQ(inodeOf("/proc/thread-self/ns/net"), mine);
}

TEST(Netns, ErrorsAreValues) {
  ScratchNamespaces scratch;
  ASSERT_TRUE(ensureNetnsDir(scratch.netnsDir()));
  auto plain = scratch.netnsDir() / "not-a-namespace";
  std::ofstream(plain) << "";
  auto opened = openNetns(plain);
  ASSERT_FALSE(opened);
  EXPECT_NE(opened.error().message.find("is not a network namespace"), std::string::npos) << opened.error().message;
  EXPECT_EQ(openNetns(scratch.netnsDir() / "missing").error().code, Code::kNotFound);
  EXPECT_TRUE(deleteNetns(plain));
  EXPECT_TRUE(deleteNetns(plain)) << "deleting twice is not an error";

  auto bad = runInNetns(-1, [] { return Result<int>(1); });
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "setns(fd -1, CLONE_NEWNET): Bad file descriptor (EBADF)");
  EXPECT_EQ(createNetns(scratch.netnsDir(), "../escape").error().code, Code::kInvalid);
}

TEST(Netns, SysctlsAreThoseOfTheNamespace) {
  ScratchNamespaces scratch;
  int fd = scratch.create("sysctl");
  ASSERT_GE(fd, 0);
  auto host = readNetSysctl(-1, "net/ipv4/ip_forward");
  ASSERT_FALSE(host) << "fd -1 is not a namespace";
  std::ifstream hostFile("/proc/sys/net/ipv4/ip_forward");
  std::string hostBefore;
  hostFile >> hostBefore;

  EXPECT_EQ(*readNetSysctl(fd, "net/ipv4/ip_forward"), "0") << "a new namespace does not forward";
  ASSERT_TRUE(writeNetSysctl(fd, "net/ipv4/ip_forward", "1"));
  EXPECT_EQ(*readNetSysctl(fd, "net/ipv4/ip_forward"), "1");
  std::ifstream hostAfter("/proc/sys/net/ipv4/ip_forward");
  std::string after;
  hostAfter >> after;
  EXPECT_EQ(after, hostBefore) << "the host's sysctl changed";
  EXPECT_EQ(writeNetSysctl(fd, "kernel/hostname", "x").error().code, Code::kInvalid);
}

TEST(Netns, InterruptedCreateIsReused) {
  ScratchNamespaces scratch;
  ASSERT_TRUE(ensureNetnsDir(scratch.netnsDir()));
  // What a crash between creating the file and mounting onto it leaves.
  std::ofstream(scratch.netnsDir() / scratch.fullName("left")) << "";
  int fd = scratch.create("left");
  EXPECT_GE(fd, 0);
}

}  // namespace
}  // namespace nanokube::net
