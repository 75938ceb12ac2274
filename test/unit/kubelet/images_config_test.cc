#include <gtest/gtest.h>

#include "kubelet/images/config.h"

namespace nanokube::kubelet::images {
namespace {

constexpr const char* kDiff1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
constexpr const char* kDiff2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

// A config as the official nginx image has it (trimmed).
constexpr const char* kNginxConfig = R"({
  "architecture": "amd64", "os": "linux",
  "config": {
    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "NGINX_VERSION=1.25.3"],
    "Entrypoint": ["/docker-entrypoint.sh"],
    "Cmd": ["nginx", "-g", "daemon off;"],
    "WorkingDir": "",
    "ExposedPorts": {"80/tcp": {}, "443": {}},
    "StopSignal": "SIGQUIT",
    "Labels": {"maintainer": "NGINX Docker Maintainers"}
  },
  "rootfs": {"type": "layers", "diff_ids": [
    "sha256:1111111111111111111111111111111111111111111111111111111111111111",
    "sha256:2222222222222222222222222222222222222222222222222222222222222222"]},
  "history": [{"created_by": "x"}]
})";

TEST(ImagesConfig, ParsesWhatAContainerNeeds) {
  auto c = parseImageConfig(kNginxConfig);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->architecture, "amd64");
  EXPECT_EQ(c->os, "linux");
  EXPECT_EQ(c->env, (std::vector<std::string>{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                              "NGINX_VERSION=1.25.3"}));
  EXPECT_EQ(c->entrypoint, std::vector<std::string>{"/docker-entrypoint.sh"});
  EXPECT_EQ(c->cmd, (std::vector<std::string>{"nginx", "-g", "daemon off;"}));
  EXPECT_EQ(c->workingDir, "");
  EXPECT_EQ(c->exposedPorts, (std::vector<std::string>{"443/tcp", "80/tcp"}));
  EXPECT_EQ(c->stopSignal, "SIGQUIT");
  EXPECT_EQ(c->diffIds, (std::vector<std::string>{kDiff1, kDiff2}));
}

TEST(ImagesConfig, NullsAndAbsentFieldsAreUnset) {
  auto c = parseImageConfig(
      R"({"config":{"Env":null,"Cmd":null,"Entrypoint":null,"User":"101:101"},"rootfs":{"type":"layers","diff_ids":[]}})");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->env.empty());
  EXPECT_TRUE(c->cmd.empty());
  EXPECT_TRUE(c->entrypoint.empty());
  EXPECT_EQ(c->user, "101:101");

  auto noConfig = parseImageConfig(R"({"rootfs":{"type":"layers","diff_ids":[]}})");
  ASSERT_TRUE(noConfig);
  EXPECT_TRUE(noConfig->cmd.empty());
}

TEST(ImagesConfig, RejectsMalformedConfigs) {
  const char* cases[] = {
      "not json",
      "[]",
      R"({"config":{}})",
      R"({"rootfs":{"type":"other","diff_ids":[]}})",
      R"({"rootfs":{"type":"layers","diff_ids":["md5:00"]}})",
      R"({"config":{"Cmd":"nginx"},"rootfs":{"type":"layers","diff_ids":[]}})",
      R"({"config":{"Env":[1]},"rootfs":{"type":"layers","diff_ids":[]}})",
      R"({"config":{"WorkingDir":7},"rootfs":{"type":"layers","diff_ids":[]}})",
      R"({"config":{"ExposedPorts":["80/tcp"]},"rootfs":{"type":"layers","diff_ids":[]}})",
  };
  for (const char* text : cases) {
    auto c = parseImageConfig(text);
    EXPECT_FALSE(c) << text;
    if (!c) {
      EXPECT_EQ(c.error().code, Code::kInvalid) << text;
    }
  }
}

TEST(ImagesConfig, RoundTripsThroughTheIndexForm) {
  auto c = parseImageConfig(kNginxConfig);
  ASSERT_TRUE(c);
  auto back = imageConfigFromJson(toJson(*c));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, *c);
}

TEST(ImagesConfig, ParsesOciIndexWithRefNames) {
  auto index = parseIndex(R"({"schemaVersion":2,"manifests":[
    {"mediaType":"application/vnd.oci.image.manifest.v1+json",
     "digest":"sha256:3333333333333333333333333333333333333333333333333333333333333333","size":563,
     "annotations":{"org.opencontainers.image.ref.name":"docker.io/library/nginx:1.8"}},
    {"mediaType":"application/vnd.oci.image.index.v1+json",
     "digest":"sha256:4444444444444444444444444444444444444444444444444444444444444444","size":10,
     "platform":{"os":"linux","architecture":"amd64"}}]})");
  ASSERT_TRUE(index) << index.error().message;
  ASSERT_EQ(index->size(), 2u);
  EXPECT_EQ((*index)[0].size, 563);
  EXPECT_EQ((*index)[0].annotations.at(std::string(kRefNameAnnotation)), "docker.io/library/nginx:1.8");
  EXPECT_EQ((*index)[1].mediaType, kOciIndexType);
  EXPECT_EQ((*index)[1].platformArchitecture, "amd64");

  EXPECT_FALSE(parseIndex(R"({"schemaVersion":2})"));
  EXPECT_FALSE(parseIndex(R"({"manifests":[{"digest":"sha256:xyz"}]})"));
}

TEST(ImagesConfig, ParsesManifestsAndRefusesUnknownLayerTypes) {
  auto m = parseManifest(R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
    "config":{"mediaType":"application/vnd.docker.container.image.v1+json",
              "digest":"sha256:5555555555555555555555555555555555555555555555555555555555555555","size":7},
    "layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip",
               "digest":"sha256:6666666666666666666666666666666666666666666666666666666666666666","size":9},
              {"mediaType":"application/vnd.oci.image.layer.v1.tar",
               "digest":"sha256:7777777777777777777777777777777777777777777777777777777777777777","size":11}]})");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->config.size, 7);
  ASSERT_EQ(m->layers.size(), 2u);
  EXPECT_EQ(m->layers[1].digest, "sha256:7777777777777777777777777777777777777777777777777777777777777777");

  auto foreign = parseManifest(R"({"schemaVersion":2,
    "config":{"digest":"sha256:5555555555555555555555555555555555555555555555555555555555555555"},
    "layers":[{"mediaType":"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
               "digest":"sha256:6666666666666666666666666666666666666666666666666666666666666666"}]})");
  ASSERT_FALSE(foreign);
  EXPECT_NE(foreign.error().message.find("unsupported media type"), std::string::npos);
  EXPECT_FALSE(parseManifest(R"({"schemaVersion":1})"));
}

TEST(ImagesConfig, ParsesDockerSaveManifest) {
  auto images = parseDockerSaveManifest(R"([{"Config":"abc.json","RepoTags":["nginx:latest","nginx:1.8"],
    "Layers":["l1/layer.tar","l2/layer.tar"]},{"Config":"def.json","RepoTags":null,"Layers":[]}])");
  ASSERT_TRUE(images) << images.error().message;
  ASSERT_EQ(images->size(), 2u);
  EXPECT_EQ((*images)[0].config, "abc.json");
  EXPECT_EQ((*images)[0].repoTags, (std::vector<std::string>{"nginx:latest", "nginx:1.8"}));
  EXPECT_EQ((*images)[0].layers, (std::vector<std::string>{"l1/layer.tar", "l2/layer.tar"}));
  EXPECT_TRUE((*images)[1].repoTags.empty());
  EXPECT_FALSE(parseDockerSaveManifest(R"({"Config":"x"})"));
  EXPECT_FALSE(parseDockerSaveManifest(R"([{"RepoTags":[]}])"));
}

}  // namespace
}  // namespace nanokube::kubelet::images
