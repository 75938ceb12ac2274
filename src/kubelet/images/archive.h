#pragma once
// The filesystem side of the image store, over libarchive: unpacking an import archive,
// hashing blobs, and extracting a layer into a directory that overlayfs can stack.
//
// Layers are extracted as overlayfs lower directories. An OCI whiteout entry
// "dir/.wh.name" becomes a character device 0/0 at "dir/name" (overlayfs's whiteout), and
// "dir/.wh..wh..opq" becomes the xattr trusted.overlay.opaque="y" on "dir". Both need
// root (CAP_MKNOD, CAP_SYS_ADMIN); see the OCI image spec, layer.md, "Whiteouts", and the
// kernel's Documentation/filesystems/overlayfs.rst.

#include <cstdint>
#include <filesystem>
#include <string>

#include "common/error.h"

namespace nanokube::kubelet::images {

inline constexpr std::string_view kWhiteoutPrefix = ".wh.";
inline constexpr std::string_view kOpaqueWhiteout = ".wh..wh..opq";
inline constexpr const char* kOverlayOpaqueXattr = "trusted.overlay.opaque";

// Unpacks a tar archive (plain or compressed, format detected) into dir: directories,
// regular files and symlinks only. Refuses absolute paths and ".." components.
Result<void> unpackArchive(const std::filesystem::path& archive, const std::filesystem::path& dir);

// "sha256:<hex>" of a file's bytes.
Result<std::string> sha256OfFile(const std::filesystem::path& file);

// "sha256:<hex>" of a blob's decompressed bytes (gzip, zstd, or none): a layer's diffID.
Result<std::string> sha256OfDecompressed(const std::filesystem::path& blob);

struct LayerStats {
  uint64_t bytes = 0;    // the sum of regular file sizes
  uint64_t entries = 0;
};

// Extracts a layer blob (a tar, plain or compressed) into dir, which must exist and be empty,
// applying the whiteout mapping above. Keeps owners (as root), modes, times, xattrs, hard
// links and device nodes; refuses entries that would land outside dir.
Result<LayerStats> extractLayer(const std::filesystem::path& blob, const std::filesystem::path& dir);

}  // namespace nanokube::kubelet::images
