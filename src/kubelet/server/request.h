#pragma once
// The requests the node agent's HTTPS endpoint serves, decoded without any I/O:
// the kubelet's paths (/containerLogs/{ns}/{pod}/{container},
// /exec/{ns}/{pod}/{container}), their query options, and the tail of a log.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/url.h"

namespace nanokube::kubelet::server {

// Query parameters, percent-decoded, in the order sent (repeated keys kept).
using Query = std::multimap<std::string, std::string>;

// splitTarget, percentEncode and percentDecode: common/url.h.
using nanokube::percentDecode;
using nanokube::percentEncode;
using nanokube::splitTarget;

enum class Endpoint { kContainerLogs, kExec };

struct AgentPath {
  Endpoint endpoint = Endpoint::kContainerLogs;
  std::string ns, pod, container;
};

// "/containerLogs/ns/pod/container" or "/exec/ns/pod/container" (segments
// percent-decoded). kNotFound for anything else.
Result<AgentPath> parseAgentPath(std::string_view path);

// The bool conversion of Kubernetes' query parameters
// (runtime.Convert_Slice_string_To_bool): absent, "false" and "0" are false,
// anything else (the empty string too) is true. "1" is what kube-apiserver
// sends for exec, "true" what kubectl sends.
bool queryBool(const Query& q, const std::string& key);

struct LogOptions {
  bool follow = false;
  bool previous = false;
  std::optional<int64_t> tailLines;   // the last N lines; nullopt: all
  std::optional<int64_t> limitBytes;  // stop after N bytes; nullopt: no limit
};

// PodLogOptions from the query. Negative tailLines or non-positive limitBytes
// are kInvalid (as Kubernetes validates them); options this agent cannot honour
// (timestamps, sinceSeconds, sinceTime, stream) are kBadRequest naming them.
Result<LogOptions> parseLogOptions(const Query& q);

struct ExecOptions {
  std::vector<std::string> command;
  bool stdin = false;
  bool stdout = false;
  bool stderr = false;
  bool tty = false;
};

// The exec options as the kubelet reads them (remotecommand.NewOptions): at
// least one command word and one stream; with a tty stderr is merged into
// stdout, so stderr is dropped.
Result<ExecOptions> parseExecOptions(const Query& q);

// Where the last n lines of data start, as the kubelet's
// tail.FindTailLineStartIndex counts them: by '\n', an unterminated last line
// not counted as a line (it is always shown). n < 0: 0 (everything).
size_t tailStart(std::string_view data, int64_t n);

// tailStart over a file read backwards in blocks; the file's size is read
// once, so bytes appended meanwhile are not counted.
Result<int64_t> tailStartInFile(int fd, int64_t n);

}  // namespace nanokube::kubelet::server
