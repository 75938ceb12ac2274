#include "kubelet/runtime/runc.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "kubelet/runtime/monitor.h"
#include "kubelet/runtime/process.h"

namespace nanokube::kubelet::runtime {

namespace fs = std::filesystem;

namespace {

// runc logs one JSON object per line with --log-format json; its failure
// reason is the msg of the last error-level line. runc prefixes that with
// "runc <op> failed: ", which the caller's own prefix replaces.
std::string runcError(const std::string& log) {
  std::string message;
  std::istringstream lines(log);
  std::string line;
  while (std::getline(lines, line)) {
    Json entry = Json::parse(line, nullptr, false);
    if (entry.is_object() && entry.value("level", "") == "error") {
      message = entry.value("msg", "");
    } else if (!entry.is_object() && !line.empty()) {
      message = line;  // not JSON: runc failed before setting up logging
    }
  }
  auto failed = message.find(" failed: ");
  if (message.starts_with("runc ") && failed != std::string::npos) {
    message.erase(0, failed + 9);
  }
  return message;
}

Code codeFor(const std::string& message) {
  if (message.find("does not exist") != std::string::npos) return Code::kNotFound;
  if (message.find("already exists") != std::string::npos) return Code::kAlreadyExists;
  return Code::kInternal;
}

std::string resolveBinary(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    fs::path candidate = fs::path(dir.empty() ? "." : dir) / name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return name;
}

Result<ContainerState> parseState(const Json& j) {
  if (!j.is_object()) return fail(Code::kInternal, "runc state: not a JSON object");
  ContainerState s;
  s.id = j.value("id", "");
  s.status = parseStatus(j.value("status", ""));
  s.pid = j.value("pid", 0);
  s.bundle = j.value("bundle", "");
  s.created = j.value("created", "");
  if (j.contains("annotations") && j["annotations"].is_object()) {
    for (const auto& [k, v] : j["annotations"].items()) {
      if (v.is_string()) s.annotations[k] = v.get<std::string>();
    }
  }
  if (s.status == Status::kStopped) s.pid = 0;
  return s;
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::uintmax_t sizeOr0(const fs::path& path) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  return ec ? 0 : size;
}

}  // namespace

std::string_view statusName(Status status) {
  switch (status) {
    case Status::kCreating: return "creating";
    case Status::kCreated: return "created";
    case Status::kRunning: return "running";
    case Status::kPaused: return "paused";
    case Status::kStopped: return "stopped";
    case Status::kUnknown: break;
  }
  return "unknown";
}

Status parseStatus(std::string_view name) {
  for (Status s : {Status::kCreating, Status::kCreated, Status::kRunning, Status::kPaused,
                   Status::kStopped}) {
    if (statusName(s) == name) return s;
  }
  return Status::kUnknown;
}

RuncImpl::RuncImpl(RuncOptions options) : options_(std::move(options)) {
  options_.binary = resolveBinary(options_.binary);
}

fs::path RuncImpl::workFile(std::string_view id, std::string_view suffix) const {
  return options_.workDir / (std::string(id) + std::string(suffix));
}

bool RuncImpl::monitorAlive(std::string_view id) const {
  int fd = open(workFile(id, ".lock").c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  bool held = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  close(fd);
  return held;
}

Result<int> RuncImpl::create(const CreateOptions& o) {
  std::error_code ec;
  fs::create_directories(options_.root, ec);
  fs::create_directories(options_.workDir, ec);
  if (ec) {
    return fail(Code::kInternal, "runc create " + o.id + ": " + options_.workDir.string() + ": " +
                                     ec.message());
  }
  for (const char* suffix : {".exit", ".exit.tmp", ".pid", ".runc.log"}) {
    fs::remove(workFile(o.id, suffix), ec);
  }
  // runc prints its failure on stderr too, which is the container's log here;
  // a failed create leaves the log files as they were.
  auto outSize = sizeOr0(o.stdoutPath);
  auto errSize = sizeOr0(o.stderrPath);

  MonitorSpec spec;
  spec.runcPath = options_.binary;
  spec.pidFile = workFile(o.id, ".pid");
  spec.exitFile = workFile(o.id, ".exit");
  spec.lockFile = workFile(o.id, ".lock");
  spec.stdoutPath = o.stdoutPath;
  spec.stderrPath = o.stderrPath;
  spec.argv = {options_.binary, "--root", options_.root, "--log", workFile(o.id, ".runc.log"),
               "--log-format", "json", "create", "--bundle", o.bundle, "--pid-file",
               spec.pidFile, o.id};
  auto outcome = startMonitor(spec);
  if (!outcome) {
    return fail(outcome.error().code, "runc create " + o.id + ": " + outcome.error().message);
  }
  if (outcome->runcExitCode == 0 && outcome->containerPid > 0) return outcome->containerPid;

  std::string message = runcError(readFile(workFile(o.id, ".runc.log")));
  if (message.empty()) message = "exit status " + std::to_string(outcome->runcExitCode);
  fs::resize_file(o.stdoutPath, outSize, ec);
  if (o.stderrPath != o.stdoutPath) fs::resize_file(o.stderrPath, errSize, ec);
  if (codeFor(message) != Code::kAlreadyExists) {
    // runc removes what it made on most failures; a forced delete covers the rest.
    (void)runProcess({options_.binary, "--root", options_.root, "delete", "--force", o.id});
    for (const char* suffix : {".pid", ".lock", ".runc.log"}) fs::remove(workFile(o.id, suffix), ec);
  }
  return fail(codeFor(message), "runc create " + o.id + ": " + message);
}

namespace {

Result<ProcessResult> runRunc(const RuncOptions& options, const std::string& binary,
                              std::vector<std::string> args, std::string_view op,
                              std::string_view id) {
  std::vector<std::string> argv = {binary, "--root", options.root, "--log-format", "json"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = runProcess(argv);
  std::string what = "runc " + std::string(op) + (id.empty() ? "" : " " + std::string(id));
  if (!r) return fail(r.error().code, what + ": " + r.error().message);
  if (r->exitCode != 0) {
    std::string message = runcError(r->err);
    if (message.empty()) message = "exit status " + std::to_string(r->exitCode);
    return fail(codeFor(message), what + ": " + message);
  }
  return r;
}

}  // namespace

Result<void> RuncImpl::start(std::string_view id) {
  auto r = runRunc(options_, options_.binary, {"start", std::string(id)}, "start", id);
  if (!r) return std::unexpected(r.error());
  return {};
}

Result<ContainerState> RuncImpl::state(std::string_view id) {
  auto r = runRunc(options_, options_.binary, {"state", std::string(id)}, "state", id);
  if (!r) return std::unexpected(r.error());
  return parseState(Json::parse(r->out, nullptr, false));
}

Result<void> RuncImpl::kill(std::string_view id, int signal, bool all) {
  std::vector<std::string> args = {"kill"};
  if (all) args.push_back("--all");
  args.push_back(std::string(id));
  args.push_back(std::to_string(signal));
  auto r = runRunc(options_, options_.binary, std::move(args), "kill", id);
  if (!r) return std::unexpected(r.error());
  return {};
}

Result<void> RuncImpl::remove(std::string_view id, bool force) {
  std::vector<std::string> args = {"delete"};
  if (force) args.push_back("--force");
  args.push_back(std::string(id));
  auto r = runRunc(options_, options_.binary, std::move(args), "delete", id);
  if (!r && r.error().code != Code::kNotFound) return std::unexpected(r.error());
  // The monitor writes the exit file right after the init dies; wait for it to
  // finish so that nothing is written after the files are removed.
  for (int i = 0; i < 200 && monitorAlive(id); ++i) usleep(5000);
  std::error_code ec;
  for (const char* suffix : {".exit", ".exit.tmp", ".pid", ".lock", ".runc.log"}) {
    fs::remove(workFile(id, suffix), ec);
  }
  return {};
}

Result<std::vector<ContainerState>> RuncImpl::list() {
  // `runc list` reads every container's state directory; one deleted at the
  // same moment by another pod worker makes it fail with ENOENT. Look again.
  auto r = runRunc(options_, options_.binary, {"list", "--format", "json"}, "list", "");
  for (int attempt = 0; attempt < 10 && !r && r.error().message.find("no such file or directory") != std::string::npos;
       ++attempt) {
    r = runRunc(options_, options_.binary, {"list", "--format", "json"}, "list", "");
  }
  if (!r) return std::unexpected(r.error());
  Json j = Json::parse(r->out, nullptr, false);
  std::vector<ContainerState> out;
  if (j.is_null()) return out;  // runc prints "null" when it has no containers
  if (!j.is_array()) return fail(Code::kInternal, "runc list: unexpected output: " + r->out);
  for (const auto& entry : j) {
    auto s = parseState(entry);
    if (!s) return std::unexpected(s.error());
    out.push_back(std::move(*s));
  }
  return out;
}

Result<std::optional<ExitStatus>> RuncImpl::exitStatus(std::string_view id) {
  auto exitFile = workFile(id, ".exit");
  if (fs::exists(exitFile)) {
    auto parsed = parseExitFile(readFile(exitFile));
    if (!parsed) return fail(Code::kInternal, "exit file " + exitFile.string() + " is malformed");
    return parsed;
  }
  if (monitorAlive(id)) return std::optional<ExitStatus>();
  // The monitor is gone without a record: it exits right after writing it, so
  // look once more before concluding that it died first.
  if (fs::exists(exitFile)) return exitStatus(id);
  auto s = state(id);
  if (!s) return std::unexpected(s.error());
  if (s->status != Status::kStopped) return std::optional<ExitStatus>();
  return fail(Code::kUnavailable,
              "container " + std::string(id) + " stopped but its monitor died before recording the exit status");
}

}  // namespace nanokube::kubelet::runtime
