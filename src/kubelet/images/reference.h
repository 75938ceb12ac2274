#pragma once
// Image references as Docker and the kubelet read them: "nginx" means
// docker.io/library/nginx:latest, "msfuko/nginx_8800" means docker.io/msfuko/nginx_8800:latest,
// "localhost:5000/x@sha256:..." keeps its registry and digest. The grammar and the
// normalization follow github.com/distribution/reference (reference.go, normalize.go).
// Pure: no I/O.

#include <string>
#include <string_view>

#include "common/error.h"

namespace nanokube::kubelet::images {

inline constexpr std::string_view kDefaultDomain = "docker.io";
inline constexpr std::string_view kOfficialRepoPrefix = "library/";
inline constexpr std::string_view kDefaultTag = "latest";

struct Reference {
  std::string domain;  // "docker.io", "quay.io", "localhost:5000"
  std::string path;    // "library/nginx", "msfuko/nginx_8800"
  std::string tag;     // "latest" when neither tag nor digest was given; empty with a digest alone
  std::string digest;  // "sha256:<64 hex>", or empty

  // "docker.io/library/nginx".
  std::string name() const;
  // The fully qualified reference: "docker.io/library/nginx:latest", "docker.io/x/y@sha256:...".
  std::string string() const;
  // The short name Docker prints: "nginx", "msfuko/nginx_8800", "quay.io/a/b".
  std::string familiarName() const;
  // familiarName() with the tag and digest: "nginx:1.8".
  std::string familiarString() const;

  bool operator==(const Reference&) const = default;
};

// Parses and normalizes a reference. Errors (Code::kInvalid) carry Docker's wording,
// e.g. "invalid reference format: repository name must be lowercase", which the kubelet
// reports as InvalidImageName.
Result<Reference> parseReference(std::string_view text);

// True for "sha256:" followed by 64 lowercase hex digits.
bool isSha256Digest(std::string_view text);

// True for a string of lowercase hex digits (an image ID or a prefix of one).
bool isHex(std::string_view text);

}  // namespace nanokube::kubelet::images
