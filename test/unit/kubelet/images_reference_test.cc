#include <gtest/gtest.h>

#include "kubelet/images/reference.h"

namespace nanokube::kubelet::images {
namespace {

struct NormalizeCase {
  const char* input;
  const char* normalized;
  const char* familiar;
};

// Expected values from Docker's normalization (distribution/reference normalize_test.go).
TEST(ImagesReference, NormalizesLikeDocker) {
  const NormalizeCase cases[] = {
      {"nginx", "docker.io/library/nginx:latest", "nginx:latest"},
      {"nginx:1.7.9", "docker.io/library/nginx:1.7.9", "nginx:1.7.9"},
      {"nginx:1.8", "docker.io/library/nginx:1.8", "nginx:1.8"},
      {"msfuko/nginx_8800", "docker.io/msfuko/nginx_8800:latest", "msfuko/nginx_8800:latest"},
      {"yauritux/busybox-curl", "docker.io/yauritux/busybox-curl:latest", "yauritux/busybox-curl:latest"},
      {"docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox:latest"},
      {"index.docker.io/library/ubuntu:22.04", "docker.io/library/ubuntu:22.04", "ubuntu:22.04"},
      {"library/nginx", "docker.io/library/nginx:latest", "nginx:latest"},
      {"quay.io/coreos/etcd:v3.5", "quay.io/coreos/etcd:v3.5", "quay.io/coreos/etcd:v3.5"},
      {"localhost/app", "localhost/app:latest", "localhost/app:latest"},
      {"localhost:5000/app:v1", "localhost:5000/app:v1", "localhost:5000/app:v1"},
      {"registry.k8s.io/pause:3.9", "registry.k8s.io/pause:3.9", "registry.k8s.io/pause:3.9"},
      {"a/b/c__d-e.f", "docker.io/a/b/c__d-e.f:latest", "a/b/c__d-e.f:latest"},
      {"nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
       "docker.io/library/nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
       "nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
      {"nginx:1.8@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
       "docker.io/library/nginx:1.8@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
       "nginx:1.8@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
  };
  for (const auto& c : cases) {
    auto ref = parseReference(c.input);
    ASSERT_TRUE(ref) << c.input << ": " << ref.error().message;
    EXPECT_EQ(ref->string(), c.normalized) << c.input;
    EXPECT_EQ(ref->familiarString(), c.familiar) << c.input;
  }
}

TEST(ImagesReference, SplitsParts) {
  auto ref = parseReference("localhost:5000/team/app:v2");
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->domain, "localhost:5000");
  EXPECT_EQ(ref->path, "team/app");
  EXPECT_EQ(ref->tag, "v2");
  EXPECT_EQ(ref->digest, "");
  EXPECT_EQ(ref->familiarName(), "localhost:5000/team/app");

  auto digestOnly = parseReference("busybox@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  ASSERT_TRUE(digestOnly);
  EXPECT_EQ(digestOnly->tag, "") << "a digest alone gets no default tag";
}

struct InvalidCase {
  const char* input;
  const char* message;
};

TEST(ImagesReference, RejectsWithDockersWording) {
  const InvalidCase cases[] = {
      {"", "invalid reference format"},
      {"NGINX", "invalid reference format: repository name must be lowercase"},
      {"library/Nginx:1", "invalid reference format: repository name must be lowercase"},
      {"nginx:", "invalid reference format"},
      {"nginx:-bad", "invalid reference format"},
      {"nginx::1", "invalid reference format"},
      {"-nginx", "invalid reference format"},
      {"nginx-", "invalid reference format"},
      {"a//b", "invalid reference format"},
      {"nginx@sha256:1234", "invalid reference format: invalid checksum digest format"},
      {"nginx@md5:0123", "invalid reference format: unsupported digest algorithm"},
      {"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
       "invalid reference format: cannot specify 64-byte hexadecimal strings"},
      {"exa mple", "invalid reference format"},
      {"bad_domain.com:port/x", "invalid reference format"},
  };
  for (const auto& c : cases) {
    auto ref = parseReference(c.input);
    ASSERT_FALSE(ref) << c.input << " parsed as " << ref->string();
    EXPECT_EQ(ref.error().code, Code::kInvalid) << c.input;
    EXPECT_EQ(ref.error().message, c.message) << c.input;
  }
}

TEST(ImagesReference, TagLengthLimit) {
  EXPECT_TRUE(parseReference("nginx:" + std::string(128, 'a')));
  EXPECT_FALSE(parseReference("nginx:" + std::string(129, 'a')));
}

TEST(ImagesReference, DigestAndHexHelpers) {
  EXPECT_TRUE(isSha256Digest("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
  EXPECT_FALSE(isSha256Digest("sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"));
  EXPECT_FALSE(isSha256Digest("sha512:0123"));
  EXPECT_TRUE(isHex("deadbeef0123"));
  EXPECT_FALSE(isHex("nginx"));
  EXPECT_FALSE(isHex(""));
}

}  // namespace
}  // namespace nanokube::kubelet::images
