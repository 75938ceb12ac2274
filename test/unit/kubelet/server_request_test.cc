#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "kubelet/server/request.h"

namespace nanokube::kubelet::server {
namespace {

Query queryOf(const std::string& target) {
  std::string path;
  Query q;
  splitTarget(target, path, q);
  return q;
}

TEST(ServerRequest, ParsesAgentPaths) {
  auto logs = parseAgentPath("/containerLogs/default/nginxpod/nginx80");
  ASSERT_TRUE(logs);
  EXPECT_EQ(logs->endpoint, Endpoint::kContainerLogs);
  EXPECT_EQ(logs->ns, "default");
  EXPECT_EQ(logs->pod, "nginxpod");
  EXPECT_EQ(logs->container, "nginx80");
  auto exec = parseAgentPath("/exec/kube-system/p%2Dx/c");
  ASSERT_TRUE(exec);
  EXPECT_EQ(exec->endpoint, Endpoint::kExec);
  EXPECT_EQ(exec->pod, "p-x");
  for (const char* bad : {"/exec/ns/pod", "/exec/ns/pod/c/extra", "/logs/ns/pod/c", "/containerLogs//pod/c", "",
                          "/containerLogs/ns/pod/"}) {
    auto r = parseAgentPath(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Code::kNotFound) << bad;
  }
}

TEST(ServerRequest, SplitsTargetKeepingRepeatedKeysInOrder) {
  std::string path;
  Query q;
  splitTarget("/exec/a/b/c?command=sh&command=-c&command=echo+a%20b&stdout=true", path, q);
  EXPECT_EQ(path, "/exec/a/b/c");
  auto opts = parseExecOptions(q);
  ASSERT_TRUE(opts);
  EXPECT_EQ(opts->command, (std::vector<std::string>{"sh", "-c", "echo a b"}));
  EXPECT_TRUE(opts->stdout);
  EXPECT_FALSE(opts->stdin);
  EXPECT_EQ(percentEncode("echo a/b"), "echo%20a%2Fb");
}

TEST(ServerRequest, BoolsAsKubernetesConvertsThem) {
  Query q = queryOf("/x?a=true&b=1&c=false&d=0&e=&f=yes");
  EXPECT_TRUE(queryBool(q, "a"));
  EXPECT_TRUE(queryBool(q, "b"));
  EXPECT_FALSE(queryBool(q, "c"));
  EXPECT_FALSE(queryBool(q, "d"));
  EXPECT_TRUE(queryBool(q, "e"));
  EXPECT_TRUE(queryBool(q, "f"));
  EXPECT_FALSE(queryBool(q, "missing"));
}

TEST(ServerRequest, LogOptions) {
  auto o = parseLogOptions(queryOf("/x?follow=true&tailLines=10&limitBytes=5&previous=true&timestamps=false"));
  ASSERT_TRUE(o);
  EXPECT_TRUE(o->follow);
  EXPECT_TRUE(o->previous);
  EXPECT_EQ(o->tailLines, 10);
  EXPECT_EQ(o->limitBytes, 5);
  auto none = parseLogOptions(queryOf("/x"));
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->tailLines);
  EXPECT_FALSE(none->follow);

  struct Case {
    const char* target;
    Code code;
    const char* fragment;
  } cases[] = {
      {"/x?tailLines=-1", Code::kInvalid, "tailLines: Invalid value: -1"},
      {"/x?limitBytes=0", Code::kInvalid, "limitBytes: Invalid value: 0"},
      {"/x?tailLines=ten", Code::kBadRequest, "tailLines"},
      {"/x?timestamps=true", Code::kBadRequest, "timestamps are not implemented"},
      {"/x?sinceSeconds=10", Code::kBadRequest, "sinceSeconds is not implemented"},
      {"/x?sinceTime=2024-01-01T00:00:00Z", Code::kBadRequest, "sinceTime is not implemented"},
      {"/x?stream=Stdout", Code::kBadRequest, "stream=Stdout is not implemented"},
  };
  for (const auto& c : cases) {
    auto r = parseLogOptions(queryOf(c.target));
    ASSERT_FALSE(r) << c.target;
    EXPECT_EQ(r.error().code, c.code) << c.target;
    EXPECT_NE(r.error().message.find(c.fragment), std::string::npos) << r.error().message;
  }
}

TEST(ServerRequest, ExecOptions) {
  auto tty = parseExecOptions(queryOf("/x?command=sh&stdin=1&stdout=1&stderr=1&tty=1"));
  ASSERT_TRUE(tty);
  EXPECT_TRUE(tty->tty);
  EXPECT_TRUE(tty->stdin);
  EXPECT_FALSE(tty->stderr) << "a terminal merges stderr into stdout";
  auto noCommand = parseExecOptions(queryOf("/x?stdout=true"));
  ASSERT_FALSE(noCommand);
  EXPECT_EQ(noCommand.error().message, "you must specify at least 1 command");
  auto noStream = parseExecOptions(queryOf("/x?command=ls"));
  ASSERT_FALSE(noStream);
  EXPECT_EQ(noStream.error().message, "you must specify at least 1 of stdin, stdout, stderr");
}

// The kubelet's tail.FindTailLineStartIndex cases.
TEST(ServerRequest, TailStart) {
  struct Case {
    std::string data;
    int64_t n;
    std::string want;
  } cases[] = {
      {"a\nb\nc\n", 1, "c\n"},
      {"a\nb\nc\n", 2, "b\nc\n"},
      {"a\nb\nc\n", 3, "a\nb\nc\n"},
      {"a\nb\nc\n", 10, "a\nb\nc\n"},
      {"a\nb\nc\n", 0, ""},
      {"a\nb\nc\n", -1, "a\nb\nc\n"},
      {"a\nb", 1, "a\nb"},  // an unterminated last line is not counted
      {"a\nb", 0, "b"},
      {"", 5, ""},
      {"\n\n", 1, "\n"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(c.data.substr(tailStart(c.data, c.n)), c.want) << "n=" << c.n << " data=" << c.data;
  }
}

TEST(ServerRequest, TailStartInFileAcrossBlocks) {
  std::string path = ::testing::TempDir() + "/tail_test.log";
  std::string data;
  for (int i = 0; i < 20000; ++i) data += "line " + std::to_string(i) + "\n";  // > 64 KiB
  std::ofstream(path) << data;
  int fd = ::open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  for (int64_t n : {0, 1, 5, 9000, 19999, 20000, 30000, -1}) {
    auto start = tailStartInFile(fd, n);
    ASSERT_TRUE(start);
    EXPECT_EQ(static_cast<size_t>(*start), tailStart(data, n)) << n;
  }
  ::close(fd);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace nanokube::kubelet::server
