#pragma once
// The channel protocol of `kubectl exec` over WebSocket (v4/v5.channel.k8s.io,
// see KEP-3396 and k8s.io/apimachinery/pkg/util/remotecommand): every binary
// message starts with a stream id — 0 stdin, 1 stdout, 2 stderr, 3 error (the
// final Status as JSON), 4 resize ({"Width":w,"Height":h}); v5 adds 255, a
// client's "close this stream" signal [255, id]. Pure functions only.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace nanokube::kubelet::server {

inline constexpr std::string_view kProtocolV5 = "v5.channel.k8s.io";
inline constexpr std::string_view kProtocolV4 = "v4.channel.k8s.io";

enum Channel : uint8_t {
  kStdin = 0,
  kStdout = 1,
  kStderr = 2,
  kError = 3,
  kResize = 4,
  kCloseSignal = 255,  // v5 only
};

// The subprotocol to answer from a Sec-WebSocket-Protocol header (a
// comma-separated list): v5 when offered, else v4; nullopt when neither is.
std::optional<std::string> chooseProtocol(std::string_view offered);

// One binary message: the channel byte, then the data.
std::string encodeFrame(uint8_t channel, std::string_view data);

struct Frame {
  uint8_t channel = 0;
  std::string_view data;  // points into the decoded payload
};
// kBadRequest for an empty message.
Result<Frame> decodeFrame(std::string_view payload);

struct TerminalSize {
  uint16_t width = 0;
  uint16_t height = 0;
};
// A resize message's JSON, {"Width":80,"Height":24}.
Result<TerminalSize> parseResize(std::string_view json);

// The Status sent on the error channel when the command ended: Success for 0,
// else Failure/NonZeroExitCode with the ExitCode cause kubectl turns into its
// own exit code ("command terminated with exit code N"). message, when not
// empty, explains a non-zero code (the runtime's error).
Json exitStatus(int exitCode, std::string_view message = {});
// A Status for a failure that is not the command's exit (InternalError).
Json internalErrorStatus(std::string_view message);

// The exit code a shell would give for a command the runtime could not start:
// 127 when the executable was not found, 126 otherwise (not executable, ...).
int startFailureExitCode(std::string_view runtimeMessage);

}  // namespace nanokube::kubelet::server
