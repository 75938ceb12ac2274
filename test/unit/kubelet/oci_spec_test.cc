#include "kubelet/runtime/oci_spec.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace nanokube::kubelet::runtime {
namespace {

using Env = std::vector<std::pair<std::string, std::string>>;
using Args = std::vector<std::string>;

struct ArgsCase {
  const char* name;
  Args entrypoint, cmd, command, args;
  Args want;
};

// The table of https://kubernetes.io/docs/tasks/inject-data-application/define-command-argument-container/
// ("Notes"), plus Docker's empty-entrypoint marker.
TEST(ResolveArgs, CombinesImageAndPodAsKubernetes) {
  const std::vector<ArgsCase> cases = {
      {"image only", {"/ep-1"}, {"foo", "bar"}, {}, {}, {"/ep-1", "foo", "bar"}},
      {"command replaces both", {"/ep-1"}, {"foo", "bar"}, {"/ep-2"}, {}, {"/ep-2"}},
      {"args replace cmd", {"/ep-1"}, {"foo", "bar"}, {}, {"zoo", "boo"}, {"/ep-1", "zoo", "boo"}},
      {"command and args", {"/ep-1"}, {"foo", "bar"}, {"/ep-2"}, {"zoo", "boo"}, {"/ep-2", "zoo", "boo"}},
      {"cmd only image", {}, {"sh", "-c", "true"}, {}, {}, {"sh", "-c", "true"}},
      {"args without entrypoint", {}, {"sh"}, {}, {"echo", "hi"}, {"echo", "hi"}},
      {"empty entrypoint marker", {""}, {"sh"}, {}, {}, {"sh"}},
  };
  for (const auto& c : cases) {
    auto got = resolveArgs(c.entrypoint, c.cmd, c.command, c.args, {});
    ASSERT_TRUE(got) << c.name << ": " << got.error().message;
    EXPECT_EQ(*got, c.want) << c.name;
  }
}

TEST(ResolveArgs, NothingToRunIsAnError) {
  auto got = resolveArgs({}, {}, {}, {}, {});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Code::kInvalid);
  EXPECT_EQ(got.error().message, "no command specified");
}

TEST(ResolveArgs, ExpandsPodValuesButNotImageValues) {
  Env env = {{"GREETING", "hello"}, {"NAME", "pod"}};
  auto got = resolveArgs({"/bin/$(GREETING)"}, {"$(NAME)"}, {}, {"say $(GREETING) to $(NAME)"}, env);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, (Args{"/bin/$(GREETING)", "say hello to pod"}));
  got = resolveArgs({}, {}, {"echo", "$(NAME)"}, {}, env);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, (Args{"echo", "pod"}));
}

TEST(ExpandVars, FollowsKubernetesExpansionRules) {
  Env env = {{"A", "1"}, {"B", "two"}, {"A", "3"}, {"EMPTY", ""}};
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"$(A)", "3"},                 // a later duplicate wins
      {"x$(B)y", "xtwoy"},
      {"$(MISSING)", "$(MISSING)"},  // undefined stays as written
      {"$$(A)", "$(A)"},             // $$ escapes
      {"$$", "$"},
      {"$A", "$A"},                  // a lone $ is literal
      {"$(A", "$(A"},                // an unclosed reference stays
      {"end$", "end$"},
      {"$(EMPTY)x", "x"},
      {"$(A)$(B)", "3two"},
      {"", ""},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(expandVars(in, env), want) << in;
}

TEST(MergeEnv, PodWinsInPlaceAndPathDefaults) {
  auto env = mergeEnv({"PATH=/img/bin", "LANG=C", "HOME=/root"}, {{"LANG", "en_US"}, {"NEW", "1"}, {"NEW", "2"}});
  EXPECT_EQ(env, (Args{"PATH=/img/bin", "LANG=en_US", "HOME=/root", "NEW=2"}));
  env = mergeEnv({"A=b=c"}, {});
  EXPECT_EQ(env, (Args{std::string(kDefaultPath), "A=b=c"}));
  env = mergeEnv({}, {{"PATH", "/pod"}});
  EXPECT_EQ(env, (Args{"PATH=/pod"}));
}

TEST(ResolveWorkingDir, PodThenImageThenRoot) {
  EXPECT_EQ(resolveWorkingDir("/img", "/pod"), "/pod");
  EXPECT_EQ(resolveWorkingDir("/img", ""), "/img");
  EXPECT_EQ(resolveWorkingDir("", ""), "/");
}

TEST(Cpu, KubeletFormulas) {
  EXPECT_EQ(milliCpuToShares(0), 2);
  EXPECT_EQ(milliCpuToShares(1), 2);     // 1*1024/1000 = 1, raised to the minimum
  EXPECT_EQ(milliCpuToShares(100), 102);
  EXPECT_EQ(milliCpuToShares(250), 256);
  EXPECT_EQ(milliCpuToShares(1000), 1024);
  EXPECT_EQ(milliCpuToShares(1000000), 262144);  // capped
  EXPECT_EQ(milliCpuToQuota(0), 0);
  EXPECT_EQ(milliCpuToQuota(5), 1000);  // at least the minimum quota period
  EXPECT_EQ(milliCpuToQuota(250), 25000);
  EXPECT_EQ(milliCpuToQuota(1500), 150000);
}

TEST(Cgroups, PathsUnderThePodParent) {
  EXPECT_EQ(podCgroupParent("/nanokube/", "u-1"), "/nanokube/pod-u-1");
  EXPECT_EQ(cgroupsPathFor(podCgroupParent("/nanokube", "u-1"), "nk-1"), "/nanokube/pod-u-1/nk-1");
}

TEST(PodFileMounts, ReadOnlyOnlyWithReadOnlyRootfs) {
  auto mounts = podFileMounts("/data/pods/p1", false);
  ASSERT_EQ(mounts.size(), 3u);
  EXPECT_EQ(mounts[0].source, "/data/pods/p1/hosts");
  EXPECT_EQ(mounts[0].destination, "/etc/hosts");
  EXPECT_EQ(mounts[2].destination, "/etc/resolv.conf");
  for (const auto& m : mounts) EXPECT_FALSE(m.readOnly);
  for (const auto& m : podFileMounts("/p", true)) EXPECT_TRUE(m.readOnly);
}

ContainerConfig appConfig() {
  ContainerConfig c;
  c.id = "nk-abc";
  c.args = {"nginx", "-g", "daemon off;"};
  c.env = {"PATH=/bin", "A=1"};
  c.cwd = "/srv";
  c.rootfs = "/data/containers/nk-abc/rootfs";
  c.networkNamespace = "/proc/42/ns/net";
  c.ipcNamespace = "/proc/42/ns/ipc";
  c.utsNamespace = "/proc/42/ns/uts";
  c.mounts = podFileMounts("/data/pods/s1", false);
  c.cgroupsPath = "/nanokube/pod-u1/nk-abc";
  c.annotations = {{"io.kubernetes.container.name", "web"}};
  return c;
}

const Json* findMount(const Json& spec, std::string_view destination) {
  for (const auto& m : spec["mounts"]) {
    if (m["destination"] == destination) return &m;
  }
  return nullptr;
}

TEST(OciSpec, AppContainerJoinsTheSandbox) {
  auto spec = ociSpec(appConfig());
  ASSERT_TRUE(spec) << spec.error().message;
  const Json& s = *spec;
  EXPECT_EQ(s["ociVersion"], "1.0.2-dev");
  EXPECT_EQ(s["process"]["args"], (Args{"nginx", "-g", "daemon off;"}));
  EXPECT_EQ(s["process"]["env"], (Args{"PATH=/bin", "A=1"}));
  EXPECT_EQ(s["process"]["cwd"], "/srv");
  EXPECT_EQ(s["process"]["terminal"], false);
  EXPECT_EQ(s["process"]["noNewPrivileges"], false);
  EXPECT_EQ(s["root"], (Json{{"path", "/data/containers/nk-abc/rootfs"}, {"readonly", false}}));
  EXPECT_FALSE(s.contains("hostname"));
  EXPECT_EQ(s["linux"]["namespaces"],
            Json::parse(R"([{"type":"pid"},{"type":"network","path":"/proc/42/ns/net"},
                           {"type":"ipc","path":"/proc/42/ns/ipc"},{"type":"uts","path":"/proc/42/ns/uts"},
                           {"type":"mount"}])"));
  EXPECT_EQ(s["linux"]["cgroupsPath"], "/nanokube/pod-u1/nk-abc");
  EXPECT_EQ(s["annotations"]["io.kubernetes.container.name"], "web");
  const Json* hosts = findMount(s, "/etc/hosts");
  ASSERT_NE(hosts, nullptr);
  EXPECT_EQ((*hosts)["type"], "bind");
  EXPECT_EQ((*hosts)["source"], "/data/pods/s1/hosts");
  EXPECT_EQ((*hosts)["options"], (Args{"rbind", "rprivate"}));
}

TEST(OciSpec, DefaultsOfRuncAndContainerd) {
  auto spec = ociSpec(appConfig());
  ASSERT_TRUE(spec);
  const Json& s = *spec;
  std::vector<std::string> destinations;
  for (const auto& m : s["mounts"]) destinations.push_back(m["destination"]);
  EXPECT_EQ(destinations, (Args{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys",
                                "/sys/fs/cgroup", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf"}));
  auto options = [&](std::string_view d) { return (*findMount(s, d))["options"].get<Args>(); };
  auto has = [](const Args& a, std::string_view v) { return std::find(a.begin(), a.end(), v) != a.end(); };
  EXPECT_TRUE(has(options("/sys"), "ro"));
  EXPECT_TRUE(has(options("/sys/fs/cgroup"), "ro"));
  EXPECT_EQ((*findMount(s, "/sys/fs/cgroup"))["type"], "cgroup");
  EXPECT_EQ((*findMount(s, "/dev/pts"))["type"], "devpts");

  Args caps = s["process"]["capabilities"]["bounding"];
  EXPECT_EQ(caps.size(), 14u);
  EXPECT_TRUE(has(caps, "CAP_NET_BIND_SERVICE"));
  EXPECT_TRUE(has(caps, "CAP_NET_RAW"));
  EXPECT_FALSE(has(caps, "CAP_SYS_ADMIN"));
  EXPECT_FALSE(has(caps, "CAP_NET_ADMIN"));
  EXPECT_EQ(s["process"]["capabilities"]["effective"], caps);
  EXPECT_EQ(s["process"]["capabilities"]["permitted"], caps);

  EXPECT_EQ(s["process"]["rlimits"],
            Json::parse(R"([{"type":"RLIMIT_NOFILE","hard":1048576,"soft":1048576}])"));
  Args masked = s["linux"]["maskedPaths"];
  EXPECT_TRUE(has(masked, "/proc/kcore"));
  EXPECT_TRUE(has(masked, "/sys/firmware"));
  Args readonly = s["linux"]["readonlyPaths"];
  EXPECT_TRUE(has(readonly, "/proc/sys"));
  EXPECT_TRUE(has(readonly, "/proc/sysrq-trigger"));
  EXPECT_EQ(s["linux"]["resources"]["devices"], Json::parse(R"([{"allow":false,"access":"rwm"}])"));
}

TEST(OciSpec, PauseContainerOwnsIpcAndUts) {
  ContainerConfig c = appConfig();
  c.args = {"/pause"};
  c.hostname = "mypod";
  c.readOnlyRootfs = true;
  c.networkNamespace = "/run/netns/nk-pod";
  c.ipcNamespace = std::string(kOwnNamespace);
  c.utsNamespace = std::string(kOwnNamespace);
  c.mounts.clear();
  c.oomScoreAdj = -998;
  auto spec = ociSpec(c);
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ((*spec)["hostname"], "mypod");
  EXPECT_EQ((*spec)["root"]["readonly"], true);
  EXPECT_EQ((*spec)["process"]["oomScoreAdj"], -998);
  EXPECT_EQ((*spec)["linux"]["namespaces"],
            Json::parse(R"([{"type":"pid"},{"type":"network","path":"/run/netns/nk-pod"},
                           {"type":"ipc"},{"type":"uts"},{"type":"mount"}])"));
}

TEST(OciSpec, Resources) {
  ContainerConfig c = appConfig();
  auto spec = ociSpec(c);
  ASSERT_TRUE(spec);
  // Best effort: minimum shares, no quota, no memory limit.
  EXPECT_EQ((*spec)["linux"]["resources"]["cpu"], (Json{{"shares", 2}}));
  EXPECT_FALSE((*spec)["linux"]["resources"].contains("memory"));

  c.resources = {250, 500, 64 * 1024 * 1024};
  spec = ociSpec(c);
  ASSERT_TRUE(spec);
  EXPECT_EQ((*spec)["linux"]["resources"]["cpu"],
            (Json{{"shares", 256}, {"quota", 50000}, {"period", 100000}}));
  EXPECT_EQ((*spec)["linux"]["resources"]["memory"], (Json{{"limit", 67108864}}));

  // A limit without a request: the request defaults to the limit.
  c.resources = {std::nullopt, 1000, std::nullopt};
  spec = ociSpec(c);
  ASSERT_TRUE(spec);
  EXPECT_EQ((*spec)["linux"]["resources"]["cpu"],
            (Json{{"shares", 1024}, {"quota", 100000}, {"period", 100000}}));
}

TEST(OciSpec, ReadOnlyPodFiles) {
  ContainerConfig c = appConfig();
  c.readOnlyRootfs = true;
  c.mounts = podFileMounts("/data/pods/s1", true);
  auto spec = ociSpec(c);
  ASSERT_TRUE(spec);
  EXPECT_EQ((*findMount(*spec, "/etc/resolv.conf"))["options"], (Args{"rbind", "rprivate", "ro"}));
  EXPECT_EQ((*spec)["root"]["readonly"], true);
}

TEST(OciSpec, RefusesWhatRuncWouldRefuseOrTheHostNetwork) {
  struct Case {
    const char* name;
    void (*mutate)(ContainerConfig&);
    const char* message;
  };
  const std::vector<Case> cases = {
      {"no network", [](ContainerConfig& c) { c.networkNamespace.clear(); }, "a network namespace is required"},
      {"no args", [](ContainerConfig& c) { c.args.clear(); }, "no command specified"},
      {"relative rootfs", [](ContainerConfig& c) { c.rootfs = "rootfs"; }, "rootfs must be an absolute path"},
      {"relative cwd", [](ContainerConfig& c) { c.cwd = "srv"; }, "working directory must be absolute"},
      {"hostname while joining", [](ContainerConfig& c) { c.hostname = "x"; }, "hostname can only be set"},
      {"no cgroup", [](ContainerConfig& c) { c.cgroupsPath.clear(); }, "cgroupsPath must be"},
      {"relative mount", [](ContainerConfig& c) { c.mounts.push_back({"a", "/b", false}); }, "bind mount paths"},
  };
  for (const auto& c : cases) {
    ContainerConfig config = appConfig();
    c.mutate(config);
    auto spec = ociSpec(config);
    ASSERT_FALSE(spec) << c.name;
    EXPECT_EQ(spec.error().code, Code::kInvalid) << c.name;
    EXPECT_NE(spec.error().message.find(c.message), std::string::npos) << c.name << ": " << spec.error().message;
    EXPECT_NE(spec.error().message.find("nk-abc"), std::string::npos) << c.name;
  }
}

}  // namespace
}  // namespace nanokube::kubelet::runtime
