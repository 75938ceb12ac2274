#include <gtest/gtest.h>

#include "kubelet/server/channel.h"
#include "kubelet/server/exec_process.h"

namespace nanokube::kubelet::server {
namespace {

TEST(ServerChannel, ChoosesV5ThenV4) {
  EXPECT_EQ(chooseProtocol("v5.channel.k8s.io"), "v5.channel.k8s.io");
  EXPECT_EQ(chooseProtocol("v4.channel.k8s.io, v5.channel.k8s.io"), "v5.channel.k8s.io");
  EXPECT_EQ(chooseProtocol("channel.k8s.io,v4.channel.k8s.io"), "v4.channel.k8s.io");
  EXPECT_EQ(chooseProtocol("base64.channel.k8s.io"), std::nullopt);
  EXPECT_EQ(chooseProtocol(""), std::nullopt);
}

TEST(ServerChannel, FramesRoundTrip) {
  std::string f = encodeFrame(kStdout, "hi\n");
  EXPECT_EQ(f, std::string("\x01hi\n"));
  auto d = decodeFrame(f);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->channel, kStdout);
  EXPECT_EQ(d->data, "hi\n");
  auto close = decodeFrame(std::string("\xff\x00", 2));
  ASSERT_TRUE(close);
  EXPECT_EQ(close->channel, kCloseSignal);
  EXPECT_EQ(close->data, std::string("\x00", 1));
  EXPECT_FALSE(decodeFrame(""));
  EXPECT_EQ(encodeFrame(kStdin, ""), std::string("\x00", 1));
}

TEST(ServerChannel, Resize) {
  auto s = parseResize(R"({"Width":120,"Height":40})");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->width, 120);
  EXPECT_EQ(s->height, 40);
  EXPECT_FALSE(parseResize(R"({"Width":-1,"Height":40})"));
  EXPECT_FALSE(parseResize(R"({"Width":70000,"Height":40})"));
  EXPECT_FALSE(parseResize("nope"));
}

TEST(ServerChannel, ExitStatus) {
  EXPECT_EQ(exitStatus(0), Json::parse(R"({"metadata":{},"status":"Success"})"));
  Json three = exitStatus(3);
  EXPECT_EQ(three["status"], "Failure");
  EXPECT_EQ(three["reason"], "NonZeroExitCode");
  EXPECT_EQ(three["details"]["causes"], Json::parse(R"([{"reason":"ExitCode","message":"3"}])"));
  Json missing = exitStatus(127, "exec: \"nope\": executable file not found in $PATH");
  EXPECT_EQ(missing["details"]["causes"][0]["message"], "127");
  EXPECT_NE(missing["message"].get<std::string>().find("executable file not found"), std::string::npos);
  Json internal = internalErrorStatus("boom");
  EXPECT_EQ(internal["reason"], "InternalError");
  EXPECT_EQ(internal["message"], "Internal error occurred: boom");
}

TEST(ServerChannel, StartFailureCodes) {
  EXPECT_EQ(startFailureExitCode("exec failed: unable to start container process: exec: \"nope\": executable file "
                                 "not found in $PATH"),
            127);
  EXPECT_EQ(startFailureExitCode("exec: \"/x\": stat /x: no such file or directory"), 127);
  EXPECT_EQ(startFailureExitCode("exec: \"/etc/passwd\": permission denied"), 126);
}

TEST(ServerChannel, LastRuncError) {
  std::string log =
      "{\"level\":\"info\",\"msg\":\"x\"}\n"
      "{\"level\":\"error\",\"msg\":\"first\"}\n"
      "not json\n"
      "{\"level\":\"error\",\"msg\":\"exec failed: boom\"}\n";
  EXPECT_EQ(lastRuncError(log), "exec failed: boom");
  EXPECT_EQ(lastRuncError(""), "");
}

}  // namespace
}  // namespace nanokube::kubelet::server
