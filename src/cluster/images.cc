#include "cluster/images.h"

#include <signal.h>
#include <sys/wait.h>

#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "cluster/process.h"
#include "kubelet/images/store.h"

namespace nanokube::cluster {

namespace fs = std::filesystem;

std::vector<std::string> missingArchives(const fs::path& cacheDir) {
  std::vector<std::string> missing;
  std::error_code ec;
  for (const auto& name : kSeedArchives) {
    if (!fs::is_regular_file(cacheDir / name, ec) || fs::file_size(cacheDir / name, ec) == 0) missing.push_back(name);
  }
  return missing;
}

Result<fs::path> findImagesDir(const fs::path& binaryDir) {
  std::error_code ec;
  for (fs::path dir = binaryDir;; dir = dir.parent_path()) {
    if (fs::is_regular_file(dir / "images" / "build-all", ec)) return dir / "images";
    if (dir == dir.parent_path() || dir.empty()) break;
  }
  return fail(Code::kNotFound,
              fmt::format("no images/build-all above {}: give the repository's images folder with --images-dir",
                          binaryDir.string()));
}

Result<void> ensureImages(const fs::path& cacheDir, const fs::path& imagesDir, const fs::path& storeDir,
                          const fs::path& log, const std::function<bool()>& cancelled) {
  if (auto missing = missingArchives(cacheDir); !missing.empty()) {
    spdlog::info("building the example images into {} (missing: {}); log: {}", cacheDir.string(),
                 fmt::join(missing, ", "), log.string());
    // Built in a directory of their own and moved in once all are done, so that an
    // interrupted build never leaves a partial archive that passes for a built one.
    fs::path staging = cacheDir / ".building";
    std::error_code ec;
    fs::remove_all(staging, ec);
    fs::create_directories(staging, ec);
    if (ec) return fail(Code::kInternal, fmt::format("mkdir {}: {}", staging.string(), ec.message()));
    auto pid = spawnDetached({{(imagesDir / "build-all").string(), staging.string()}, log});
    if (!pid) return std::unexpected(pid.error());
    int status = 0;
    while (::waitpid(*pid, &status, WNOHANG) == 0) {
      if (cancelled()) {
        ::kill(-*pid, SIGTERM);  // build-all and its children: its own session and process group
        ::waitpid(*pid, &status, 0);
        fs::remove_all(staging, ec);
        return fail(Code::kInternal, "interrupted while building the images");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return fail(Code::kInternal, fmt::format("images/build-all {} failed; last lines of {}:\n{}", staging.string(),
                                               log.string(), tailFile(log, 20)));
    }
    if (auto still = missingArchives(staging); !still.empty()) {
      return fail(Code::kInternal, fmt::format("images/build-all did not make {}", fmt::join(still, ", ")));
    }
    for (const auto& name : kSeedArchives) {
      fs::rename(staging / name, cacheDir / name, ec);
      if (ec) return fail(Code::kInternal, fmt::format("rename {}: {}", (cacheDir / name).string(), ec.message()));
    }
    fs::remove_all(staging, ec);
  }
  auto store = kubelet::images::ImageStore::open(storeDir);
  if (!store) return std::unexpected(store.error());
  for (const auto& name : kSeedArchives) {
    auto imported = store->importArchive(cacheDir / name);
    if (!imported) return fail(imported.error().code, fmt::format("import {}: {}", name, imported.error().message));
    spdlog::debug("imported {}: {}", name, fmt::join(imported->references, ", "));
  }
  return {};
}

}  // namespace nanokube::cluster
