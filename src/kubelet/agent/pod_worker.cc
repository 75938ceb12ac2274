#include "kubelet/agent/pod_worker.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "api/object.h"
#include "kubelet/agent/probe.h"
#include "net/netns.h"

namespace nanokube::kubelet {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;
using SteadyTime = std::chrono::steady_clock::time_point;

namespace {

constexpr char kIdPrefix[] = "nanokube://";

struct ProbeState {
  std::optional<Probe> probe;
  SteadyTime nextAt{};
  int successes = 0;
  int failures = 0;
  bool passing = false;
};

std::string nowText() { return formatRfc3339(systemNow()); }

std::string fieldPathOf(const std::string& container) { return fmt::format("spec.containers{{{}}}", container); }

// The pod's JSON without nulls, for comparing what the server keeps with what
// the agent would send.
Json withoutNulls(const Json& j) {
  if (j.is_object()) {
    Json out = Json::object();
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!it.value().is_null()) out[it.key()] = withoutNulls(it.value());
    }
    return out;
  }
  if (j.is_array()) {
    Json out = Json::array();
    for (const auto& e : j) out.push_back(withoutNulls(e));
    return out;
  }
  return j;
}

const Json* specContainer(const Json& pod, const std::string& name) {
  const Json* list = api::fieldAt(pod, {"spec", "containers"});
  if (!list || !list->is_array()) return nullptr;
  for (const auto& c : *list) {
    if (c.value("name", "") == name) return &c;
  }
  return nullptr;
}

bool terminating(const Json& pod) { return api::fieldAt(pod, {"metadata", "deletionTimestamp"}) != nullptr; }

std::string terminatedReason(int exitCode) { return exitCode == 0 ? "Completed" : "Error"; }

}  // namespace

struct PodWorkers::Record {
  struct Container {
    std::string id;  // the current run's runc id; empty before the first start
    std::string image, imageId;
    int restartCount = 0;
    std::string startedAt;
    SteadyTime startedSteady{};
    std::optional<TerminatedState> terminated;  // the current run ended
    std::optional<TerminatedState> last;
    seconds backoff{0};
    std::string waitingReason = "ContainerCreating";
    std::string waitingMessage;
    SteadyTime retryAt{};  // image pull / config error back-off
    seconds retryBackoff{0};
    bool everStarted = false;
    ProbeState readiness, liveness, startup;
    bool probesParsed = false;
  };

  std::mutex mu;
  std::string uid, key, ns, name;
  std::string sandboxId;
  runtime::Sandbox sandbox;
  std::string netnsPath;
  std::string podIp;
  std::string startTime;
  std::map<std::string, Container> containers;
  SteadyTime sandboxRetryAt{};
  seconds sandboxBackoff{0};
  // The pod's reported status is not merged yet: a record is new in this
  // agent, which may be a restarted one.
  bool recovered = true;
  bool stopped = false;    // terminal phase: sandbox stopped, network torn down
  bool gone = false;
};

PodWorkers::PodWorkers(PodWorkerConfig config, NodeRuntime& runtime, net::PodNetwork& network,
                       images::ImageStore& images, client::ApiClient& client, EventRecorder& events)
    : config_(std::move(config)), rt_(runtime), network_(network), images_(images), client_(client), events_(events) {}

PodWorkers::~PodWorkers() = default;

std::shared_ptr<PodWorkers::Record> PodWorkers::recordFor(const std::string& uid, const std::string& key) {
  std::lock_guard lock(mu_);
  auto& r = records_[uid];
  if (!r) {
    r = std::make_shared<Record>();
    r->uid = uid;
    r->key = key;
    auto slash = key.find('/');
    r->ns = key.substr(0, slash);
    r->name = key.substr(slash + 1);
  }
  return r;
}

std::vector<std::shared_ptr<PodWorkers::Record>> PodWorkers::recordsOfKey(const std::string& key) const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<Record>> out;
  for (const auto& [uid, r] : records_) {
    if (r->key == key) out.push_back(r);
  }
  return out;
}

void PodWorkers::drop(const std::string& uid) {
  std::lock_guard lock(mu_);
  records_.erase(uid);
}

std::set<std::string> PodWorkers::keys() const {
  std::lock_guard lock(mu_);
  std::set<std::string> out;
  for (const auto& [uid, r] : records_) out.insert(r->key);
  return out;
}

Result<void> PodWorkers::recover() {
  auto sandboxes = rt_.sandboxes.list();
  if (!sandboxes) return std::unexpected(sandboxes.error());
  for (const auto& s : *sandboxes) {
    auto rec = recordFor(s.podUid, s.podNamespace + "/" + s.podName);
    rec->sandboxId = s.id;
    rec->sandbox = s;
    rec->netnsPath = s.netnsPath;
    rec->recovered = true;
    spdlog::info("recovered sandbox {} of pod {}", s.id, rec->key);
  }
  auto containers = rt_.containers.list();
  if (!containers) return std::unexpected(containers.error());
  for (const auto& c : *containers) {
    auto get = [&](std::string_view k) {
      auto it = c.annotations.find(std::string(k));
      return it == c.annotations.end() ? std::string() : it->second;
    };
    if (get(runtime::kAnnotationType) != runtime::kTypeContainer) continue;
    std::string uid = get(runtime::kAnnotationPodUid);
    std::shared_ptr<Record> rec;
    {
      std::lock_guard lock(mu_);
      auto it = records_.find(uid);
      if (it != records_.end()) rec = it->second;
    }
    if (!rec) {  // its sandbox is gone: remove the orphan
      (void)rt_.containers.remove(c.id);
      continue;
    }
    auto& cr = rec->containers[get(runtime::kAnnotationContainerName)];
    cr.id = c.id;
    cr.everStarted = true;
    if (c.status == runtime::Status::kStopped) {
      TerminatedState t;
      t.containerId = kIdPrefix + c.id;
      if (c.exit) {
        t.exitCode = c.exit->code;
        t.signal = c.exit->signal;
        t.finishedAt = formatRfc3339(c.exit->finishedAt);
      }
      t.reason = terminatedReason(t.exitCode);
      cr.terminated = t;
    }
  }
  // Network namespaces, veths and IPs of pods without a sandbox (an agent
  // stopped half-way through a pod) go; the pods make new ones when synced.
  std::set<std::string> live;
  {
    std::lock_guard lock(mu_);
    for (const auto& [uid, r] : records_) live.insert(uid);
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(config_.paths.netnsDir(), ec)) {
    if (!live.contains(entry.path().filename().string())) (void)net::deleteNetns(entry.path());
  }
  std::lock_guard netLock(netMu_);
  return network_.reconcile(live);
}

std::optional<milliseconds> PodWorkers::sync(const std::string& key, const client::ObjectPtr& pod) {
  std::string uid = pod ? api::stringAt(*pod, {"metadata", "uid"}) : "";
  // Pods of this key with another UID (deleted and made again) or none left.
  for (const auto& rec : recordsOfKey(key)) {
    if (rec->uid == uid) continue;
    std::lock_guard lock(rec->mu);
    killPod(*rec, nullptr, seconds(0));
    drop(rec->uid);
  }
  if (!pod) return std::nullopt;
  if (api::stringAt(*pod, {"spec", "nodeName"}) != config_.nodeName) return std::nullopt;
  auto rec = recordFor(uid, key);
  std::lock_guard lock(rec->mu);
  if (terminating(*pod)) {
    int64_t grace = 30;
    if (const Json* g = api::fieldAt(*pod, {"metadata", "deletionGracePeriodSeconds"}); g && g->is_number()) {
      grace = g->get<int64_t>();
    }
    killPod(*rec, pod.get(), seconds(grace));
    auto r = client_.remove(client::apiPath("v1", "pods", rec->ns, rec->name),
                            {{"gracePeriodSeconds", 0}, {"preconditions", {{"uid", uid}}}});
    if (!r && r.error().code != Code::kNotFound && r.error().code != Code::kConflict) {
      spdlog::warn("delete pod {}: {}", key, r.error().message);
      return milliseconds(1000);
    }
    forget(*rec);
    drop(uid);
    return std::nullopt;
  }
  return syncAlive(*rec, *pod);
}

std::optional<milliseconds> PodWorkers::syncAlive(Record& rec, const Json& pod) {
  std::string phase = api::stringAt(pod, {"status", "phase"});
  if (rec.recovered) {
    // Restart counts, last states and start times from the status reported before.
    if (const Json* st = api::fieldAt(pod, {"status", "containerStatuses"}); st && st->is_array()) {
      auto terminatedOf = [](const Json& t) {
        TerminatedState out;
        out.exitCode = t.value("exitCode", 0);
        out.signal = t.value("signal", 0);
        out.reason = t.value("reason", "");
        out.message = t.value("message", "");
        out.startedAt = t.contains("startedAt") && t["startedAt"].is_string() ? t["startedAt"].get<std::string>() : "";
        out.finishedAt = t.value("finishedAt", "");
        out.containerId = t.value("containerID", "");
        return out;
      };
      for (const auto& cs : *st) {
        auto& cr = rec.containers[cs.value("name", "")];
        if (cr.id.empty()) {
          // No runc container left of it (a run that failed to start, or
          // removed): its last run as reported, so that the restart policy
          // and the restart count carry on.
          const Json* t = api::fieldAt(cs, {"state", "terminated"});
          if (!t) t = api::fieldAt(cs, {"lastState", "terminated"});
          if (t && t->is_object()) {
            cr.terminated = terminatedOf(*t);
            cr.everStarted = true;
          }
        }
        cr.restartCount = cs.value("restartCount", 0);
        cr.image = cs.value("image", "");
        cr.imageId = cs.value("imageID", "");
        if (const Json* r = api::fieldAt(cs, {"state", "running", "startedAt"}); r && r->is_string()) {
          cr.startedAt = r->get<std::string>();
          if (auto t = parseRfc3339(cr.startedAt)) {
            cr.startedSteady = std::chrono::steady_clock::now() - (systemNow() - *t);
          }
        }
        if (const Json* l = api::fieldAt(cs, {"lastState", "terminated"}); l && l->is_object()) {
          cr.last = terminatedOf(*l);
        }
        if (cr.terminated && cr.terminated->startedAt.empty()) cr.terminated->startedAt = cr.startedAt;
      }
    }
    if (const Json* ip = api::fieldAt(pod, {"status", "podIP"}); ip && ip->is_string()) rec.podIp = ip->get<std::string>();
    if (auto ip = net::Ipv4::parse(rec.podIp); !ip) rec.podIp.clear();
    rec.startTime = api::stringAt(pod, {"status", "startTime"});
    rec.recovered = false;
  }
  if (rec.startTime.empty()) rec.startTime = api::stringAt(pod, {"status", "startTime"});
  if (rec.startTime.empty()) rec.startTime = nowText();

  if (phase == "Succeeded" || phase == "Failed") {
    if (!rec.stopped) killPod(rec, &pod, seconds(0));
    rec.stopped = true;
    return std::nullopt;
  }

  std::optional<milliseconds> next;
  auto sooner = [&](std::optional<milliseconds> d) {
    if (d && (!next || *d < *next)) next = d;
  };

  if (rec.sandboxId.empty() && std::chrono::steady_clock::now() < rec.sandboxRetryAt) {
    return std::chrono::duration_cast<milliseconds>(rec.sandboxRetryAt - std::chrono::steady_clock::now());
  }
  auto t0 = std::chrono::steady_clock::now();
  bool hadSandbox = !rec.sandboxId.empty();
  auto sinceMs = [](SteadyTime t) {
    return std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - t).count();
  };
  if (auto r = ensureSandbox(rec, pod); !r) {
    // Nothing of a failed attempt stays: the next one starts afresh.
    {
      std::lock_guard netLock(netMu_);
      (void)network_.tearDown(rec.uid);
    }
    (void)net::deleteNetns(config_.paths.netnsDir() / rec.uid);
    events_.record(pod, "", "Warning", "FailedCreatePodSandBox",
                   fmt::format("Failed to create pod sandbox: {}", r.error().message));
    rec.sandboxBackoff = nextBackoff(rec.sandboxBackoff);
    rec.sandboxRetryAt = std::chrono::steady_clock::now() + rec.sandboxBackoff;
    reportStatus(rec, pod);
    return std::chrono::duration_cast<milliseconds>(rec.sandboxBackoff);
  }
  rec.sandboxBackoff = seconds(0);
  if (!hadSandbox) spdlog::debug("pod {}: sandbox in {} ms", rec.key, sinceMs(t0));

  observeExits(rec);
  std::string policy = api::stringAt(pod, {"spec", "restartPolicy"});
  if (policy.empty()) policy = "Always";
  const Json& containers = pod["spec"]["containers"];
  auto now = std::chrono::steady_clock::now();
  for (const auto& c : containers) {
    std::string name = c.value("name", "");
    auto& cr = rec.containers[name];
    if (cr.id.empty() && !cr.terminated) {
      if (cr.retryAt > now) {
        sooner(std::chrono::duration_cast<milliseconds>(cr.retryAt - now));
        continue;
      }
      auto t1 = std::chrono::steady_clock::now();
      startContainer(rec, pod, c);
      spdlog::debug("pod {}: container {} started in {} ms", rec.key, name, sinceMs(t1));
    } else if (cr.terminated) {
      if (!shouldRestart(policy, cr.terminated->exitCode)) continue;
      auto finished = parseRfc3339(cr.terminated->finishedAt).value_or(systemNow());
      auto started = parseRfc3339(cr.terminated->startedAt);
      if (started && cr.terminated->reason != "StartError" && finished - *started > std::chrono::minutes(10)) {
        cr.backoff = seconds(0);
      }
      auto until = finished + cr.backoff;
      if (cr.backoff.count() > 0 && systemNow() < until) {
        cr.waitingReason = "CrashLoopBackOff";
        cr.waitingMessage = fmt::format("back-off {}s restarting failed container={} pod={}", cr.backoff.count(),
                                        name, podDesc(pod));
        events_.record(pod, fieldPathOf(name), "Warning", "BackOff",
                       fmt::format("Back-off restarting failed container {} in pod {}", name, podDesc(pod)));
        sooner(std::chrono::duration_cast<milliseconds>(until - systemNow()) + milliseconds(10));
        continue;
      }
      cr.backoff = nextBackoff(cr.backoff);
      if (!cr.id.empty()) (void)rt_.containers.remove(cr.id);
      cr.id.clear();
      cr.last = cr.terminated;
      cr.terminated.reset();
      cr.restartCount++;
      startContainer(rec, pod, c);
    }
    if (!cr.id.empty() && !cr.terminated) sooner(runProbes(rec, pod, c));
  }
  auto t2 = std::chrono::steady_clock::now();
  reportStatus(rec, pod);
  spdlog::debug("pod {}: status in {} ms", rec.key, sinceMs(t2));
  return next;
}

Result<void> PodWorkers::ensureSandbox(Record& rec, const Json& pod) {
  if (!rec.sandboxId.empty()) {
    auto st = rt_.runc.exitStatus(rec.sandboxId);
    if (st && !*st) return {};  // the pause container runs
    // The pause container is gone: the kubelet kills the pod's containers and
    // makes a new sandbox.
    events_.record(pod, "", "Normal", "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.");
    killPod(rec, &pod, seconds(0));
    for (auto& [name, cr] : rec.containers) {
      if (cr.terminated) continue;
      cr.waitingReason = "ContainerCreating";
    }
  }
  rec.stopped = false;
  fs::create_directories(config_.paths.netnsDir());
  if (auto r = net::ensureNetnsDir(config_.paths.netnsDir()); !r) return r;
  auto path = net::createNetns(config_.paths.netnsDir(), rec.uid);
  if (!path && path.error().code == Code::kAlreadyExists) path = config_.paths.netnsDir() / rec.uid;
  if (!path) return std::unexpected(path.error());
  rec.netnsPath = path->string();
  auto fd = net::openNetns(*path);
  if (!fd) return std::unexpected(fd.error());
  auto ip = [&] {
    std::lock_guard netLock(netMu_);
    return network_.setUp(rec.uid, fd->get());
  }();
  if (!ip) return std::unexpected(ip.error());
  rec.podIp = ip->toString();
  auto lo = net::runInNetns(fd->get(), [&]() -> Result<void> {
    auto nl = net::openNetlink(-1);
    if (!nl) return std::unexpected(nl.error());
    return (*nl)->setUp("lo");
  });
  if (!lo) return lo;

  runtime::SandboxConfig cfg;
  cfg.podName = rec.name;
  cfg.podNamespace = rec.ns;
  cfg.podUid = rec.uid;
  cfg.hostname = podHostname(pod);
  cfg.netnsPath = rec.netnsPath;
  std::string subdomain = api::stringAt(pod, {"spec", "subdomain"});
  std::string domain = subdomain.empty() ? "" : fmt::format("{}.{}.svc.{}", subdomain, rec.ns, config_.clusterDomain);
  cfg.hostsFile = runtime::hostsFileFor({rec.podIp}, cfg.hostname, domain);
  cfg.resolvConf = resolvConfFor(pod, config_.clusterDns, config_.clusterDomain, config_.nodeResolvConf);
  auto sandbox = rt_.sandboxes.create(cfg);
  if (!sandbox) return std::unexpected(sandbox.error());
  rec.sandbox = *sandbox;
  rec.sandboxId = sandbox->id;
  std::vector<PodHostPort> ports;
  for (const auto& c : pod["spec"]["containers"]) {
    for (const auto& p : c.value("ports", Json::array())) {
      if (p.value("hostPort", 0) <= 0) continue;
      ports.push_back({rec.uid, p.value("protocol", "TCP"), p.value("hostPort", 0), p.value("hostIP", ""), rec.podIp,
                       p.value("containerPort", 0)});
    }
  }
  if (!ports.empty()) {
    {
      std::lock_guard lock(mu_);
      ports_[rec.uid] = std::move(ports);
    }
    if (hostPortsChanged_) hostPortsChanged_();
  }
  return {};
}

void PodWorkers::observeExits(Record& rec) {
  for (auto& [name, cr] : rec.containers) {
    if (cr.id.empty() || cr.terminated) continue;
    auto st = rt_.runc.exitStatus(cr.id);
    if (st && !*st) continue;  // running
    TerminatedState t;
    t.containerId = kIdPrefix + cr.id;
    t.startedAt = cr.startedAt;
    if (st && *st) {
      t.exitCode = (*st)->code;
      t.signal = (*st)->signal;
      t.finishedAt = formatRfc3339((*st)->finishedAt);
    } else {
      t.exitCode = 255;
      t.reason = "Unknown";
      t.message = "the container's exit status was lost";
      t.finishedAt = nowText();
    }
    if (t.reason.empty()) t.reason = terminatedReason(t.exitCode);
    cr.terminated = t;
    cr.readiness.passing = false;
  }
}

void PodWorkers::startContainer(Record& rec, const Json& pod, const Json& c) {
  std::string name = c.value("name", "");
  std::string image = c.value("image", "");
  auto& cr = rec.containers[name];
  std::string field = fieldPathOf(name);
  auto backOff = [&](const char* reason, const std::string& message) {
    cr.waitingReason = reason;
    cr.waitingMessage = message;
    cr.retryBackoff = nextBackoff(cr.retryBackoff);
    cr.retryAt = std::chrono::steady_clock::now() + cr.retryBackoff;
  };

  auto resolved = images_.resolve(image);
  if (!resolved) {
    bool first = cr.waitingReason != "ErrImagePull" && cr.waitingReason != "ImagePullBackOff";
    std::string msg = fmt::format("Failed to pull image \"{}\": {}", image, resolved.error().message);
    if (first) {
      events_.record(pod, field, "Normal", "Pulling", fmt::format("Pulling image \"{}\"", image));
      events_.record(pod, field, "Warning", "Failed", msg);
      events_.record(pod, field, "Warning", "Failed", "Error: ErrImagePull");
      backOff("ErrImagePull", msg);
    } else {
      events_.record(pod, field, "Normal", "BackOff", fmt::format("Back-off pulling image \"{}\"", image));
      events_.record(pod, field, "Warning", "Failed", "Error: ImagePullBackOff");
      backOff("ImagePullBackOff", fmt::format("Back-off pulling image \"{}\"", image));
    }
    return;
  }
  cr.image = resolved->reference;
  cr.imageId = resolved->reference.substr(0, resolved->reference.rfind(':')) + "@" + resolved->id;
  events_.record(pod, field, "Normal", "Pulled", fmt::format("Container image \"{}\" already present on machine", image));

  PodPlacement placement{config_.nodeName, config_.nodeIp, rec.podIp};
  auto env = containerEnv(pod, c, placement);
  if (!env) {
    events_.record(pod, field, "Warning", "Failed", fmt::format("Error: {}", env.error().message));
    backOff("CreateContainerConfigError", env.error().message);
    return;
  }
  runtime::ContainerSpec spec;
  spec.name = name;
  spec.image.layers = resolved->layerDirs;
  spec.image.env = resolved->config.env;
  spec.image.entrypoint = resolved->config.entrypoint;
  spec.image.cmd = resolved->config.cmd;
  spec.image.workingDir = resolved->config.workingDir;
  for (const auto& a : c.value("command", Json::array())) spec.command.push_back(a.get<std::string>());
  for (const auto& a : c.value("args", Json::array())) spec.args.push_back(a.get<std::string>());
  spec.env = std::move(*env);
  spec.workingDir = c.value("workingDir", "");
  spec.resources = containerResources(c);
  if (const Json* ro = api::fieldAt(c, {"securityContext", "readOnlyRootFilesystem"}); ro && ro->is_boolean()) {
    spec.readOnlyRootfs = ro->get<bool>();
  }
  fs::path logDir = config_.paths.containerLogDir(rec.ns, rec.name, rec.uid, name);
  std::error_code ec;
  fs::create_directories(logDir, ec);
  spec.logPath = logDir / fmt::format("{}.log", cr.restartCount);
  fs::remove(spec.logPath, ec);

  auto startFailed = [&](const std::string& id, const std::string& message) {
    events_.record(pod, field, "Warning", "Failed", fmt::format("Error: {}", message));
    TerminatedState t;
    t.exitCode = 128;
    t.reason = "StartError";
    t.message = message;
    t.startedAt = "1970-01-01T00:00:00Z";  // as the kubelet reports a run that never started
    t.finishedAt = nowText();
    if (!id.empty()) t.containerId = kIdPrefix + id;
    cr.id = id;
    cr.terminated = t;
    cr.everStarted = true;
  };
  auto id = rt_.containers.create(rec.sandbox, spec);
  if (!id) {
    startFailed("", id.error().message);
    return;
  }
  events_.record(pod, field, "Normal", "Created", fmt::format("Created container {}", name));
  if (auto r = rt_.containers.start(*id); !r) {
    startFailed(*id, r.error().message);
    return;
  }
  events_.record(pod, field, "Normal", "Started", fmt::format("Started container {}", name));
  cr.id = *id;
  cr.everStarted = true;
  cr.startedAt = nowText();
  cr.startedSteady = std::chrono::steady_clock::now();
  cr.terminated.reset();
  cr.waitingReason.clear();
  cr.waitingMessage.clear();
  cr.retryBackoff = seconds(0);
  cr.readiness = {};
  cr.liveness = {};
  cr.startup = {};
  cr.probesParsed = false;
}

std::optional<milliseconds> PodWorkers::runProbes(Record& rec, const Json& pod, const Json& c) {
  std::string name = c.value("name", "");
  auto& cr = rec.containers[name];
  std::string field = fieldPathOf(name);
  if (!cr.probesParsed) {
    cr.probesParsed = true;
    auto parse = [&](const char* f, ProbeState& st) {
      auto p = parseProbe(c, f);
      if (!p) {
        spdlog::warn("pod {} container {}: {}", rec.key, name, p.error().message);
        return;
      }
      st.probe = *p;
      if (st.probe) st.nextAt = cr.startedSteady + seconds(st.probe->initialDelaySeconds);
    };
    parse("readinessProbe", cr.readiness);
    parse("livenessProbe", cr.liveness);
    if (!cr.readiness.probe) cr.readiness.passing = true;
  }
  auto now = std::chrono::steady_clock::now();
  std::optional<milliseconds> next;
  auto step = [&](ProbeState& st, const char* what) -> bool {  // false: the container was killed
    if (!st.probe) return true;
    if (now >= st.nextAt) {
      auto result = runProbe(*st.probe, rec.podIp, config_.paths.runcRoot(), cr.id);
      st.nextAt = now + seconds(st.probe->periodSeconds);
      if (result.success) {
        st.failures = 0;
        if (++st.successes >= st.probe->successThreshold) st.passing = true;
      } else {
        st.successes = 0;
        ++st.failures;
        events_.record(pod, field, "Warning", "Unhealthy", fmt::format("{} probe failed: {}", what, result.detail));
        if (st.failures >= st.probe->failureThreshold) {
          st.passing = false;
          if (std::string_view(what) == "Liveness") {
            events_.record(pod, field, "Normal", "Killing",
                           fmt::format("Container {} failed liveness probe, will be restarted", name));
            int64_t grace = pod["spec"].value("terminationGracePeriodSeconds", 30);
            (void)rt_.containers.stop(cr.id, seconds(grace));
            observeExits(rec);
            return false;
          }
        }
      }
    }
    auto d = std::chrono::duration_cast<milliseconds>(st.nextAt - now);
    if (!next || d < *next) next = d;
    return true;
  };
  if (!step(cr.liveness, "Liveness")) return milliseconds(0);
  step(cr.readiness, "Readiness");
  return next;
}

void PodWorkers::killPod(Record& rec, const Json* pod, seconds grace) {
  bool hadPorts = false;
  {
    std::lock_guard lock(mu_);
    hadPorts = ports_.erase(rec.uid) > 0;
  }
  if (!rec.sandboxId.empty()) {
    if (pod) {
      for (auto& [name, cr] : rec.containers) {
        if (!cr.id.empty() && !cr.terminated) {
          events_.record(*pod, fieldPathOf(name), "Normal", "Killing", fmt::format("Stopping container {}", name));
        }
      }
    }
    if (auto r = rt_.sandboxes.stop(rec.sandboxId, grace); !r) spdlog::warn("stop pod {}: {}", rec.key, r.error().message);
    observeExits(rec);
    if (auto r = rt_.sandboxes.remove(rec.sandboxId); !r) spdlog::warn("remove pod {}: {}", rec.key, r.error().message);
    for (auto& [name, cr] : rec.containers) cr.id.clear();
  }
  {
    std::lock_guard netLock(netMu_);
    if (auto r = network_.tearDown(rec.uid); !r) spdlog::warn("network of pod {}: {}", rec.key, r.error().message);
  }
  (void)net::deleteNetns(config_.paths.netnsDir() / rec.uid);
  rec.sandboxId.clear();
  if (!pod) forget(rec);
  if (hadPorts && hostPortsChanged_) hostPortsChanged_();
}

void PodWorkers::forget(Record& rec) {
  events_.forget(rec.uid);
  std::error_code ec;
  fs::remove_all(config_.paths.logsDir() / (rec.ns + "_" + rec.name + "_" + rec.uid), ec);
}

void PodWorkers::reportStatus(Record& rec, const Json& pod) {
  PodObservation obs;
  obs.sandboxReady = !rec.sandboxId.empty();
  obs.podIp = rec.podIp;
  obs.hostIp = config_.nodeIp;
  obs.startTime = rec.startTime;
  for (const auto& c : pod["spec"]["containers"]) {
    std::string name = c.value("name", "");
    const auto& cr = rec.containers[name];
    ContainerObservation o;
    o.name = name;
    o.image = cr.image.empty() ? c.value("image", "") : cr.image;
    o.imageId = cr.imageId;
    o.restartCount = cr.restartCount;
    o.lastTerminated = cr.last;
    if (!cr.id.empty()) o.containerId = kIdPrefix + cr.id;
    if (cr.terminated) {
      bool restarting = cr.waitingReason == "CrashLoopBackOff" &&
                        shouldRestart(api::stringAt(pod, {"spec", "restartPolicy"}).empty()
                                          ? "Always"
                                          : api::stringAt(pod, {"spec", "restartPolicy"}),
                                      cr.terminated->exitCode);
      if (restarting) {
        o.state = ContainerObservation::State::kWaiting;
        o.waitingReason = cr.waitingReason;
        o.waitingMessage = cr.waitingMessage;
        o.lastTerminated = cr.terminated;
      } else {
        o.state = ContainerObservation::State::kTerminated;
        o.terminated = cr.terminated;
      }
    } else if (!cr.id.empty()) {
      o.state = ContainerObservation::State::kRunning;
      o.startedAt = cr.startedAt;
      o.started = true;
      o.ready = cr.readiness.passing;
    } else {
      o.state = ContainerObservation::State::kWaiting;
      o.waitingReason = cr.waitingReason.empty() ? "ContainerCreating" : cr.waitingReason;
      o.waitingMessage = cr.waitingMessage;
    }
    obs.containers.push_back(std::move(o));
  }
  Json status = podStatus(pod, obs, nowText());
  Json current = pod.contains("status") ? pod["status"] : Json::object();
  if (withoutNulls(status) == withoutNulls(current)) return;
  auto r = client_.patch(client::apiPath("v1", "pods", rec.ns, rec.name) + "/status", client::PatchType::kMerge,
                         {{"status", status}});
  if (!r && r.error().code != Code::kNotFound) spdlog::warn("status of pod {}: {}", rec.key, r.error().message);
}

Result<ContainerTarget> PodWorkers::find(const std::string& ns, const std::string& pod, const std::string& container,
                                         bool previous) {
  auto recs = recordsOfKey(ns + "/" + pod);
  if (recs.empty()) return fail(Code::kNotFound, fmt::format("pod \"{}\" not found on this node", pod));
  auto& rec = *recs.front();
  std::lock_guard lock(rec.mu);
  auto it = rec.containers.find(container);
  if (it == rec.containers.end() || !it->second.everStarted) {
    std::string reason = it == rec.containers.end() ? "ContainerCreating" : it->second.waitingReason;
    if (reason.empty()) reason = "ContainerCreating";
    return fail(Code::kBadRequest,
                fmt::format("container \"{}\" in pod \"{}\" is waiting to start: {}", container, pod, reason));
  }
  const auto& cr = it->second;
  fs::path dir = config_.paths.containerLogDir(rec.ns, rec.name, rec.uid, container);
  ContainerTarget h;
  if (previous) {
    // Run N of a container logs to N.log; the current run is restartCount.
    if (cr.restartCount == 0) {
      return fail(Code::kBadRequest,
                  fmt::format("previous terminated container \"{}\" in pod \"{}\" not found", container, pod));
    }
    int run = cr.restartCount - 1;
    h.logPath = dir / fmt::format("{}.log", run);
    if (!fs::exists(h.logPath)) {
      return fail(Code::kBadRequest,
                  fmt::format("previous terminated container \"{}\" in pod \"{}\" not found", container, pod));
    }
    return h;
  }
  h.containerId = cr.id;
  h.running = !cr.id.empty() && !cr.terminated;
  h.logPath = dir / fmt::format("{}.log", cr.restartCount);
  return h;
}

std::vector<PodHostPort> PodWorkers::hostPorts() const {
  std::lock_guard lock(mu_);
  std::vector<PodHostPort> out;
  for (const auto& [uid, ports] : ports_) out.insert(out.end(), ports.begin(), ports.end());
  return out;
}

}  // namespace nanokube::kubelet
