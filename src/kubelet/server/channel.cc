#include "kubelet/server/channel.h"

#include <fmt/format.h>

namespace nanokube::kubelet::server {

std::optional<std::string> chooseProtocol(std::string_view offered) {
  bool v4 = false, v5 = false;
  while (!offered.empty()) {
    size_t comma = offered.find(',');
    std::string_view p = offered.substr(0, comma);
    while (!p.empty() && p.front() == ' ') p.remove_prefix(1);
    while (!p.empty() && p.back() == ' ') p.remove_suffix(1);
    if (p == kProtocolV5) v5 = true;
    if (p == kProtocolV4) v4 = true;
    if (comma == std::string_view::npos) break;
    offered.remove_prefix(comma + 1);
  }
  if (v5) return std::string(kProtocolV5);
  if (v4) return std::string(kProtocolV4);
  return std::nullopt;
}

std::string encodeFrame(uint8_t channel, std::string_view data) {
  std::string out;
  out.reserve(data.size() + 1);
  out.push_back(static_cast<char>(channel));
  out.append(data);
  return out;
}

Result<Frame> decodeFrame(std::string_view payload) {
  if (payload.empty()) return fail(Code::kBadRequest, "empty stream message: no channel byte");
  return Frame{static_cast<uint8_t>(payload[0]), payload.substr(1)};
}

Result<TerminalSize> parseResize(std::string_view json) {
  Json j = Json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail(Code::kBadRequest, "resize message is not a JSON object");
  auto dim = [&](const char* key) -> Result<uint16_t> {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_unsigned() || it->get<uint64_t>() > 0xFFFF) {
      return fail(Code::kBadRequest, fmt::format("resize message: {} must be a number from 0 to 65535", key));
    }
    return static_cast<uint16_t>(it->get<uint64_t>());
  };
  auto w = dim("Width");
  if (!w) return std::unexpected(w.error());
  auto h = dim("Height");
  if (!h) return std::unexpected(h.error());
  return TerminalSize{*w, *h};
}

Json exitStatus(int exitCode, std::string_view message) {
  if (exitCode == 0) return Json{{"metadata", Json::object()}, {"status", "Success"}};
  // The kubelet's remotecommand.ServeExec answer for an ExitError.
  std::string text = message.empty()
                         ? fmt::format("command terminated with non-zero exit code: exit status {}", exitCode)
                         : fmt::format("command terminated with non-zero exit code: {}", message);
  return Json{{"metadata", Json::object()},
              {"status", "Failure"},
              {"message", text},
              {"reason", "NonZeroExitCode"},
              {"details", {{"causes", Json::array({{{"reason", "ExitCode"}, {"message", std::to_string(exitCode)}}})}}}};
}

Json internalErrorStatus(std::string_view message) {
  return Json{{"metadata", Json::object()},
              {"status", "Failure"},
              {"message", fmt::format("Internal error occurred: {}", message)},
              {"reason", "InternalError"},
              {"details", {{"causes", Json::array({{{"message", std::string(message)}}})}}},
              {"code", 500}};
}

int startFailureExitCode(std::string_view runtimeMessage) {
  if (runtimeMessage.find("executable file not found") != std::string_view::npos ||
      runtimeMessage.find("no such file or directory") != std::string_view::npos) {
    return 127;
  }
  return 126;
}

}  // namespace nanokube::kubelet::server
