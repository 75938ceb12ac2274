#pragma once
// The node's local image store: images imported from OCI or `docker save` archives, each
// layer extracted once into a directory that overlayfs stacks read-only, and an index file
// that maps references to images.
//
// On disk, under the store's root:
//   index.json          {"images": {id: record}, "tags": {reference: id}}, replaced atomically
//   layers/<hex>/       one extracted layer per diffID (sha256:<hex>), shared between images
//   tmp/                staging for imports, emptied by every write
//   lock                flock()ed by every write (import, tag, remove) so that several
//                       processes (the agent, `nanokube image`) can share a store
//
// Thread-safety: every method may be called from any thread and any process; writes are
// serialized by the lock file, and readers see either the old or the new index. A layer
// directory is only removed when no image in the index uses it, so a caller that resolved
// an image keeps valid layer paths until that image itself is removed.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "kubelet/images/config.h"

namespace nanokube::kubelet::images {

inline constexpr std::string_view kDefaultStoreRoot = "/var/lib/nanokube/images";

struct LayerRecord {
  std::string diffId;  // "sha256:<hex>"
  uint64_t size = 0;   // bytes of regular files in the layer
};

struct ImageRecord {
  std::string id;                 // "sha256:<hex>" of the config blob, as Docker's image ID
  std::string manifestDigest;     // "sha256:<hex>", empty for `docker save` archives
  std::vector<LayerRecord> layers;  // bottom first
  ImageConfig config;
  std::vector<std::string> references;  // fully qualified, sorted: "docker.io/library/nginx:1.8"

  uint64_t size() const;
  // The 12 hex digits Docker shows as IMAGE ID.
  std::string shortId() const;
};

// What a container needs to run an image.
struct ResolvedImage {
  std::string reference;  // the normalized reference asked for: "docker.io/library/nginx:latest"
  std::string id;         // "sha256:<hex>" of the config
  // The extracted layers, top layer first: the order of overlayfs's lowerdir= list.
  std::vector<std::filesystem::path> layerDirs;
  ImageConfig config;
};

struct ImportResult {
  std::vector<std::string> references;  // tagged by this import, fully qualified
  std::vector<std::string> ids;         // every image the archive held
};

struct RemoveResult {
  std::vector<std::string> untagged;  // fully qualified references
  std::vector<std::string> deleted;   // image IDs
};

class ImageStore {
 public:
  // Opens (creating if needed) the store at root. The root is canonicalized so that layer
  // extraction, which refuses to write through symlinks, never meets one in the prefix.
  static Result<ImageStore> open(const std::filesystem::path& root);

  // Imports every image of an OCI image layout archive (oci-layout, index.json, blobs/) or a
  // `docker save` archive (manifest.json, configs, layer tars). Verifies blob digests and
  // sizes against their descriptors and every layer's diffID against the config, extracts
  // new layers, then tags the references the archive names (OCI annotations
  // io.containerd.image.name / org.opencontainers.image.ref.name, Docker RepoTags). A tag
  // that pointed at another image moves, as `docker load` does.
  Result<ImportResult> importArchive(const std::filesystem::path& archive);

  // Every image, sorted by its first reference (untagged images last).
  Result<std::vector<ImageRecord>> list() const;

  // Points target (a tag reference) at the image source resolves to.
  Result<void> tag(std::string_view source, std::string_view target);

  // Removes a tag; the image goes when its last tag goes. An image ID (full, "sha256:..."
  // or a unique prefix of at least 12 hex digits) removes the image and all its tags. Layers
  // no image uses any more are deleted.
  Result<RemoveResult> remove(std::string_view reference);

  // Looks an image up by reference ("nginx", "nginx:1.8", "docker.io/library/nginx:latest",
  // "name@sha256:<manifest or config digest>") or by image ID. NotFound reads
  //   failed to resolve image "docker.io/library/nope:latest": not found in the local image store
  // and an unparsable reference gives Code::kInvalid (the kubelet's InvalidImageName).
  Result<ResolvedImage> resolve(std::string_view reference) const;

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path layerDir(std::string_view diffId) const;

 private:
  explicit ImageStore(std::filesystem::path root) : root_(std::move(root)) {}

  std::filesystem::path root_;
};

}  // namespace nanokube::kubelet::images
