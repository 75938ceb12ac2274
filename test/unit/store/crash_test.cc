// kill -9 durability: a child process creates keys and reports each acknowledged
// create through a pipe; the parent kills it mid-stream with SIGKILL and checks
// that every acknowledged key is in the reopened store.

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "store/store.h"
#include "store_test_util.h"

namespace nanokube::store {
namespace {

using testing::openOrDie;
using testing::TempDir;

std::string keyFor(int64_t i) { return "/crash/" + std::to_string(i); }
// Values large enough that the WAL grows past its auto-checkpoint size, so kills
// also land around checkpoints.
std::string valueFor(int64_t i) { return std::string(2000, 'a' + static_cast<char>(i % 26)) + std::to_string(i); }

// Runs in the forked child: no gtest, no return, only _exit.
[[noreturn]] void createForever(const std::string& path, int64_t first, int fd) {
  auto store = openSqliteStore(path);
  if (!store) _exit(2);
  for (int64_t i = first;; ++i) {
    if (!(*store)->create(keyFor(i), valueFor(i))) _exit(3);
    // Reported only after create returned: this key was acknowledged.
    if (::write(fd, &i, sizeof i) != sizeof i) _exit(4);
  }
}

// Reads acknowledged indexes until `stopAfter` arrived, kills the child, then
// drains what the child wrote before it died.
std::vector<int64_t> collectAndKill(pid_t child, int fd, size_t stopAfter) {
  std::vector<int64_t> acked;
  bool killed = false;
  while (true) {
    int64_t i = 0;
    ssize_t n = ::read(fd, &i, sizeof i);
    if (n == 0) break;  // EOF: the child is dead and the pipe drained.
    if (n != static_cast<ssize_t>(sizeof i)) {
      ADD_FAILURE() << "short read from the child's pipe: " << n;
      break;
    }
    acked.push_back(i);
    if (!killed && acked.size() >= stopAfter) {
      ::kill(child, SIGKILL);
      killed = true;
    }
  }
  if (!killed) ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "the child ended on its own (status " << status << ") instead of being killed";
  return acked;
}

TEST(StoreCrash, AcknowledgedCreatesSurviveSigkill) {
  TempDir dir;
  std::string path = dir.file("store.db");
  std::vector<int64_t> acked;
  int64_t next = 0;
  size_t rounds = 0;
  // Several rounds, so a store recovered from a crash is itself crashed again.
  for (size_t stopAfter : {700u, 1300u, 400u}) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(fds[0]);
      createForever(path, next, fds[1]);
    }
    ::close(fds[1]);
    auto round = collectAndKill(child, fds[0], stopAfter);
    ::close(fds[0]);
    ASSERT_GE(round.size(), stopAfter);
    acked.insert(acked.end(), round.begin(), round.end());

    auto store = openOrDie(path);
    ASSERT_NE(store, nullptr);
    for (int64_t i : acked) {
      auto got = store->get(keyFor(i));
      ASSERT_TRUE(got) << "acknowledged key " << keyFor(i) << " lost: " << got.error().message;
      ASSERT_EQ(got->value, valueFor(i));
    }
    // Each killed child may have committed one create more than it reported.
    ++rounds;
    auto all = store->list("/crash/");
    ASSERT_TRUE(all);
    EXPECT_GE(all->items.size(), acked.size());
    EXPECT_LE(all->items.size(), acked.size() + rounds);
    EXPECT_EQ(store->revision(), static_cast<int64_t>(all->items.size()));
    // Skip the key an unreported create may have taken.
    next = acked.back() + 2;
  }
}

}  // namespace
}  // namespace nanokube::store
