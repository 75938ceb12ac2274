#include "kubelet/server/request.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

namespace nanokube::kubelet::server {

namespace {


std::string first(const Query& q, const std::string& key) {
  auto it = q.find(key);
  return it == q.end() ? std::string() : it->second;
}

Result<std::optional<int64_t>> queryInt(const Query& q, const std::string& key) {
  auto it = q.find(key);
  if (it == q.end()) return std::optional<int64_t>();
  int64_t v = 0;
  const std::string& s = it->second;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) {
    return fail(Code::kBadRequest, fmt::format("{}: invalid value \"{}\": must be an integer", key, s));
  }
  return std::optional<int64_t>(v);
}

}  // namespace



Result<AgentPath> parseAgentPath(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 1;
  if (path.empty() || path[0] != '/') return fail(Code::kNotFound, "404 page not found");
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string_view seg = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    parts.push_back(percentDecode(seg, false));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (parts.size() != 4 || std::any_of(parts.begin() + 1, parts.end(), [](const auto& p) { return p.empty(); })) {
    return fail(Code::kNotFound, "404 page not found");
  }
  AgentPath out;
  if (parts[0] == "containerLogs") out.endpoint = Endpoint::kContainerLogs;
  else if (parts[0] == "exec") out.endpoint = Endpoint::kExec;
  else return fail(Code::kNotFound, "404 page not found");
  out.ns = parts[1];
  out.pod = parts[2];
  out.container = parts[3];
  return out;
}

bool queryBool(const Query& q, const std::string& key) {
  auto it = q.find(key);
  if (it == q.end()) return false;
  return it->second != "false" && it->second != "0";
}

Result<LogOptions> parseLogOptions(const Query& q) {
  LogOptions o;
  o.follow = queryBool(q, "follow");
  o.previous = queryBool(q, "previous");
  auto tail = queryInt(q, "tailLines");
  if (!tail) return std::unexpected(tail.error());
  if (*tail && **tail < 0) {
    return fail(Code::kInvalid,
                fmt::format("PodLogOptions \"\" is invalid: tailLines: Invalid value: {}: must be greater than or "
                            "equal to 0",
                            **tail));
  }
  o.tailLines = *tail;
  auto limit = queryInt(q, "limitBytes");
  if (!limit) return std::unexpected(limit.error());
  if (*limit && **limit < 1) {
    return fail(Code::kInvalid,
                fmt::format("PodLogOptions \"\" is invalid: limitBytes: Invalid value: {}: must be greater than 0",
                            **limit));
  }
  o.limitBytes = *limit;
  // The log files hold the containers' raw bytes, without the CRI format's
  // per-line timestamp and stream tag, so these cannot be answered.
  if (queryBool(q, "timestamps")) {
    return fail(Code::kBadRequest,
                "timestamps are not implemented by the nanokube agent: its container logs are raw bytes "
                "without per-line timestamps");
  }
  for (const char* key : {"sinceSeconds", "sinceTime"}) {
    if (q.count(key)) {
      return fail(Code::kBadRequest,
                  fmt::format("{} is not implemented by the nanokube agent: its container logs are raw bytes "
                              "without per-line timestamps",
                              key));
    }
  }
  if (auto s = first(q, "stream"); !s.empty() && s != "All") {
    return fail(Code::kBadRequest,
                fmt::format("stream={} is not implemented by the nanokube agent: stdout and stderr share one "
                            "log file",
                            s));
  }
  return o;
}

Result<ExecOptions> parseExecOptions(const Query& q) {
  ExecOptions o;
  auto [b, e] = q.equal_range("command");
  for (auto it = b; it != e; ++it) o.command.push_back(it->second);
  if (o.command.empty()) return fail(Code::kBadRequest, "you must specify at least 1 command");
  o.stdin = queryBool(q, "stdin");
  o.stdout = queryBool(q, "stdout");
  o.stderr = queryBool(q, "stderr");
  o.tty = queryBool(q, "tty");
  if (o.tty && o.stderr) o.stderr = false;  // a terminal merges stderr into stdout
  if (!o.stdin && !o.stdout && !o.stderr) {
    return fail(Code::kBadRequest, "you must specify at least 1 of stdin, stdout, stderr");
  }
  return o;
}

size_t tailStart(std::string_view data, int64_t n) {
  if (n < 0) return 0;
  // Walk back over n complete lines: the n-th '\n' from the end that ends a
  // line before the last n lines marks the start.
  int64_t newlines = 0;
  for (size_t i = data.size(); i > 0; --i) {
    if (data[i - 1] != '\n') continue;
    if (newlines == n) return i;
    ++newlines;
  }
  return 0;
}

Result<int64_t> tailStartInFile(int fd, int64_t n) {
  if (n < 0) return 0;
  off_t size = ::lseek(fd, 0, SEEK_END);
  if (size < 0) return fail(Code::kInternal, fmt::format("lseek: {}", std::strerror(errno)));
  constexpr int64_t kBlock = 64 * 1024;
  std::string buf;
  int64_t newlines = 0;
  for (int64_t right = size; right > 0;) {
    int64_t left = std::max<int64_t>(0, right - kBlock);
    buf.resize(static_cast<size_t>(right - left));
    ssize_t got = ::pread(fd, buf.data(), buf.size(), left);
    if (got < 0) return fail(Code::kInternal, fmt::format("pread: {}", std::strerror(errno)));
    buf.resize(static_cast<size_t>(got));
    for (size_t i = buf.size(); i > 0; --i) {
      if (buf[i - 1] != '\n') continue;
      if (newlines == n) return left + static_cast<int64_t>(i);
      ++newlines;
    }
    right = left;
  }
  return 0;
}

}  // namespace nanokube::kubelet::server
