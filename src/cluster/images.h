#pragma once
// The seeds' images in the cluster's image store. images/build-all builds them
// as OCI archives in about twenty seconds, so the archives are cached (by
// default beside the nanokube binary, in <build>/images) and built only when
// one is missing; every `cluster up` imports them, which is quick when the
// store already holds their layers.

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/error.h"

namespace nanokube::cluster {

// The archives images/build-all writes, by file name.
inline const std::vector<std::string> kSeedArchives = {"busybox.tar", "busybox-curl.tar", "nginx.tar",
                                                      "nginx_8800.tar", "ubuntu.tar"};

// The archives of kSeedArchives that `cacheDir` lacks.
std::vector<std::string> missingArchives(const std::filesystem::path& cacheDir);

// The repository's images/ folder for a binary in `binaryDir`: the first
// ancestor of binaryDir (itself included) that holds images/build-all.
// kNotFound when none does.
Result<std::filesystem::path> findImagesDir(const std::filesystem::path& binaryDir);

// Builds the missing archives with <imagesDir>/build-all into cacheDir (its output
// appended to `log`), then imports every archive into the store at `storeDir`.
// When `cancelled` turns true during the build, the build is stopped and this fails.
Result<void> ensureImages(const std::filesystem::path& cacheDir, const std::filesystem::path& imagesDir,
                          const std::filesystem::path& storeDir, const std::filesystem::path& log,
                          const std::function<bool()>& cancelled);

}  // namespace nanokube::cluster
