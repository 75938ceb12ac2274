#pragma once
// The JSON documents of an image: the OCI image config (the part a container runtime needs),
// OCI index and manifest (also Docker's schema 2 manifest and manifest list, which have the
// same shape), and the manifest.json of a `docker save` archive. Pure: parsing only.
// Field names follow the OCI image spec (config.md, manifest.md, image-index.md) and
// Docker's image spec v1.2.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace nanokube::kubelet::images {

inline constexpr std::string_view kOciIndexType = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciManifestType = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kDockerManifestListType = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerManifestType = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kRefNameAnnotation = "org.opencontainers.image.ref.name";
inline constexpr std::string_view kContainerdNameAnnotation = "io.containerd.image.name";

// What a container is started from: the "config" object of the image config, plus the
// layer list from "rootfs". Empty vectors and strings mean the image leaves it unset.
struct ImageConfig {
  std::string architecture;
  std::string os;
  std::vector<std::string> env;         // "NAME=value", in the image's order
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::string workingDir;
  std::string user;
  std::vector<std::string> exposedPorts;  // "80/tcp", sorted
  std::string stopSignal;
  std::vector<std::string> diffIds;       // "sha256:...", bottom layer first

  bool operator==(const ImageConfig&) const = default;
};

// Parses an image config blob. Refuses a config without rootfs.diff_ids or with a
// rootfs.type other than "layers", and malformed field types.
Result<ImageConfig> parseImageConfig(std::string_view json);

// The index's own representation of an ImageConfig (the parsed fields, not the original blob).
Json toJson(const ImageConfig& config);
Result<ImageConfig> imageConfigFromJson(const Json& json);

struct Descriptor {
  std::string mediaType;
  std::string digest;  // "sha256:<hex>"
  int64_t size = -1;
  std::map<std::string, std::string> annotations;
  std::string platformOs;            // from "platform", in an index
  std::string platformArchitecture;
};

// The "manifests" of an OCI index.json or image index (or a Docker manifest list).
Result<std::vector<Descriptor>> parseIndex(std::string_view json);

struct Manifest {
  Descriptor config;
  std::vector<Descriptor> layers;  // bottom first
};

// An OCI image manifest or a Docker schema 2 manifest.
Result<Manifest> parseManifest(std::string_view json);

// One image of a `docker save` archive's manifest.json.
struct DockerSaveImage {
  std::string config;                 // path of the config in the archive
  std::vector<std::string> repoTags;  // as Docker wrote them, e.g. "nginx:latest"
  std::vector<std::string> layers;    // paths of the layer tars in the archive, bottom first
};

Result<std::vector<DockerSaveImage>> parseDockerSaveManifest(std::string_view json);

// True for media types of layer blobs this store can unpack (tar, gzip, zstd; OCI and Docker).
bool isLayerMediaType(std::string_view mediaType);

}  // namespace nanokube::kubelet::images
