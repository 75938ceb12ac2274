#include "kubelet/images/store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "kubelet/images/archive.h"
#include "kubelet/images/reference.h"

namespace nanokube::kubelet::images {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kIndexFile = "index.json";
constexpr std::string_view kLayersDir = "layers";
constexpr std::string_view kTmpDir = "tmp";
constexpr std::string_view kLockFile = "lock";
constexpr std::string_view kTmpLayerPrefix = ".tmp-";
constexpr size_t kMinIdPrefix = 12;

std::unexpected<Error> sysError(std::string_view op, const fs::path& path, int err) {
  return fail(Code::kInternal, std::string(op) + " " + path.string() + ": " + std::strerror(err));
}

std::string hexOf(std::string_view digest) { return std::string(digest.substr(digest.find(':') + 1)); }

// The store's index: images by ID and the tags that point at them.
struct Index {
  std::map<std::string, ImageRecord> images;
  std::map<std::string, std::string> tags;  // fully qualified reference -> image ID
};

Result<std::string> readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return sysError("open", path, errno);
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) return sysError("read", path, errno);
  return s.str();
}

Result<Index> loadIndex(const fs::path& root) {
  Index index;
  fs::path path = root / kIndexFile;
  if (!fs::exists(path)) return index;
  auto text = readFile(path);
  if (!text) return std::unexpected(text.error());
  try {
    Json j = Json::parse(*text);
    for (const auto& [id, r] : j.at("images").items()) {
      ImageRecord record;
      record.id = id;
      record.manifestDigest = r.value("manifestDigest", "");
      for (const auto& l : r.at("layers")) record.layers.push_back({l.at("diffId"), l.at("size")});
      auto config = imageConfigFromJson(r.at("config"));
      if (!config) return std::unexpected(config.error());
      record.config = std::move(*config);
      index.images.emplace(id, std::move(record));
    }
    for (const auto& [ref, id] : j.at("tags").items()) index.tags.emplace(ref, id.get<std::string>());
  } catch (const Json::exception& e) {
    return fail(Code::kInternal, "image index " + path.string() + ": " + e.what());
  }
  for (const auto& [ref, id] : index.tags) {
    if (auto it = index.images.find(id); it != index.images.end()) it->second.references.push_back(ref);
  }
  return index;
}

// Writes the index to a temporary file, syncs it and renames it over the old one, so a crash
// leaves either the old or the new index and a concurrent reader never sees half of one.
Result<void> saveIndex(const fs::path& root, const Index& index) {
  Json images = Json::object();
  for (const auto& [id, r] : index.images) {
    Json layers = Json::array();
    for (const auto& l : r.layers) layers.push_back({{"diffId", l.diffId}, {"size", l.size}});
    images[id] = {{"manifestDigest", r.manifestDigest}, {"layers", layers}, {"config", toJson(r.config)}};
  }
  Json tags = Json::object();
  for (const auto& [ref, id] : index.tags) tags[ref] = id;
  std::string text = Json{{"images", images}, {"tags", tags}}.dump(2) + "\n";

  fs::path path = root / kIndexFile;
  fs::path tmp = root / (std::string(kIndexFile) + ".tmp");
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return sysError("open", tmp, errno);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return sysError("write", tmp, err);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    return sysError("fsync", tmp, err);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return sysError("rename", tmp, errno);
  int dirFd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirFd >= 0) {
    ::fsync(dirFd);
    ::close(dirFd);
  }
  return {};
}

// An exclusive flock() on the store's lock file for the duration of a write. flock locks
// belong to the open file description, so two threads of one process exclude each other too.
class WriteLock {
 public:
  static Result<WriteLock> acquire(const fs::path& root) {
    fs::path path = root / kLockFile;
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return sysError("open", path, errno);
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) {
        int err = errno;
        ::close(fd);
        return sysError("flock", path, err);
      }
    }
    return WriteLock(fd);
  }
  WriteLock(WriteLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  WriteLock& operator=(WriteLock&&) = delete;
  ~WriteLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  explicit WriteLock(int fd) : fd_(fd) {}
  int fd_;
};

// Removes a directory tree when it goes out of scope (import staging, half-extracted layers).
class TreeGuard {
 public:
  explicit TreeGuard(fs::path path) : path_(std::move(path)) {}
  ~TreeGuard() {
    if (!path_.empty()) {
      std::error_code ec;
      fs::remove_all(path_, ec);
    }
  }
  void release() { path_.clear(); }

 private:
  fs::path path_;
};

// Deletes layer directories no image uses, and staging left by an interrupted write.
// Runs under the write lock, so nothing in tmp/ or layers/.tmp-* belongs to a live import.
void collectGarbage(const fs::path& root, const Index& index) {
  std::set<std::string> used;
  for (const auto& [id, r] : index.images) {
    for (const auto& l : r.layers) used.insert(hexOf(l.diffId));
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root / kLayersDir, ec)) {
    if (!used.contains(entry.path().filename().string())) {
      std::error_code removeEc;
      fs::remove_all(entry.path(), removeEc);
    }
  }
  for (const auto& entry : fs::directory_iterator(root / kTmpDir, ec)) {
    std::error_code removeEc;
    fs::remove_all(entry.path(), removeEc);
  }
}

// A file of the staged archive, refusing one that resolves (through symlinks, which
// `docker save` writes for repeated layers) to anything outside the staging directory.
Result<fs::path> stagedFile(const fs::path& staging, std::string_view rel) {
  std::error_code ec;
  fs::path p = fs::canonical(staging / fs::path(rel), ec);
  if (ec) return fail(Code::kInvalid, "archive: missing file \"" + std::string(rel) + "\"");
  auto [s, f] = std::mismatch(staging.begin(), staging.end(), p.begin(), p.end());
  if (s != staging.end() || !fs::is_regular_file(p)) {
    return fail(Code::kInvalid, "archive: \"" + std::string(rel) + "\" is not a file inside the archive");
  }
  return p;
}

Result<fs::path> verifiedBlob(const fs::path& staging, const Descriptor& d) {
  auto path = stagedFile(staging, "blobs/sha256/" + hexOf(d.digest));
  if (!path) return std::unexpected(path.error());
  if (d.size >= 0 && static_cast<int64_t>(fs::file_size(*path)) != d.size) {
    return fail(Code::kInvalid, "archive: blob " + d.digest + " has " + std::to_string(fs::file_size(*path)) +
                                    " bytes, its descriptor says " + std::to_string(d.size));
  }
  auto digest = sha256OfFile(*path);
  if (!digest) return std::unexpected(digest.error());
  if (*digest != d.digest) return fail(Code::kInvalid, "archive: blob " + d.digest + " has digest " + *digest);
  return *path;
}

// One image found in an archive, verified except for its layers' diffIDs (checked while
// the layers are imported).
struct Candidate {
  std::string id;
  std::string manifestDigest;
  ImageConfig config;
  std::vector<fs::path> layerBlobs;  // bottom first, matching config.diffIds
  std::vector<std::string> references;
};

Result<std::string> normalizedTag(std::string_view text) {
  auto ref = parseReference(text);
  if (!ref) return fail(Code::kInvalid, "archive: image name \"" + std::string(text) + "\": " + ref.error().message);
  if (!ref->digest.empty()) return std::string();  // a digest is no tag
  return ref->string();
}

Result<Candidate> candidateFromConfig(const fs::path& configPath, std::string id) {
  auto text = readFile(configPath);
  if (!text) return std::unexpected(text.error());
  auto config = parseImageConfig(*text);
  if (!config) return std::unexpected(config.error());
  Candidate c;
  c.id = std::move(id);
  c.config = std::move(*config);
  return c;
}

Result<std::vector<Candidate>> readOciLayout(const fs::path& staging) {
  auto indexText = readFile(staging / "index.json");
  if (!indexText) return std::unexpected(indexText.error());
  auto descriptors = parseIndex(*indexText);
  if (!descriptors) return std::unexpected(descriptors.error());

  std::map<std::string, Candidate> byManifest;
  for (Descriptor d : *descriptors) {
    std::string name;
    if (auto it = d.annotations.find(std::string(kContainerdNameAnnotation)); it != d.annotations.end()) {
      name = it->second;
    } else if (auto it = d.annotations.find(std::string(kRefNameAnnotation)); it != d.annotations.end()) {
      // The OCI spec lets ref.name be a bare tag ("latest") with no repository; only a full
      // reference names an image here, and the image is imported untagged otherwise.
      if (it->second.find_first_of("/:") != std::string::npos) name = it->second;
    }
    // A multi-platform index: take the linux/amd64 manifest (or the only one).
    if (d.mediaType == kOciIndexType || d.mediaType == kDockerManifestListType) {
      auto blob = verifiedBlob(staging, d);
      if (!blob) return std::unexpected(blob.error());
      auto text = readFile(*blob);
      if (!text) return std::unexpected(text.error());
      auto nested = parseIndex(*text);
      if (!nested) return std::unexpected(nested.error());
      auto pick = std::find_if(nested->begin(), nested->end(), [](const Descriptor& n) {
        return n.platformOs == "linux" && n.platformArchitecture == "amd64";
      });
      if (pick == nested->end() && nested->size() == 1) pick = nested->begin();
      if (pick == nested->end()) return fail(Code::kInvalid, "archive: index " + d.digest + " has no linux/amd64 image");
      d = *pick;
    }
    auto it = byManifest.find(d.digest);
    if (it == byManifest.end()) {
      auto blob = verifiedBlob(staging, d);
      if (!blob) return std::unexpected(blob.error());
      auto text = readFile(*blob);
      if (!text) return std::unexpected(text.error());
      auto manifest = parseManifest(*text);
      if (!manifest) return std::unexpected(manifest.error());
      auto configBlob = verifiedBlob(staging, manifest->config);
      if (!configBlob) return std::unexpected(configBlob.error());
      auto c = candidateFromConfig(*configBlob, manifest->config.digest);
      if (!c) return std::unexpected(c.error());
      c->manifestDigest = d.digest;
      if (manifest->layers.size() != c->config.diffIds.size()) {
        return fail(Code::kInvalid, "archive: manifest " + d.digest + " lists " + std::to_string(manifest->layers.size()) +
                                        " layers, its config " + std::to_string(c->config.diffIds.size()));
      }
      for (const auto& layer : manifest->layers) {
        auto layerBlob = verifiedBlob(staging, layer);
        if (!layerBlob) return std::unexpected(layerBlob.error());
        c->layerBlobs.push_back(*layerBlob);
      }
      it = byManifest.emplace(d.digest, std::move(*c)).first;
    }
    if (!name.empty()) {
      auto tag = normalizedTag(name);
      if (!tag) return std::unexpected(tag.error());
      if (!tag->empty()) it->second.references.push_back(*tag);
    }
  }
  std::vector<Candidate> out;
  for (auto& [_, c] : byManifest) out.push_back(std::move(c));
  return out;
}

Result<std::vector<Candidate>> readDockerSave(const fs::path& staging) {
  auto text = readFile(staging / "manifest.json");
  if (!text) return std::unexpected(text.error());
  auto images = parseDockerSaveManifest(*text);
  if (!images) return std::unexpected(images.error());
  std::vector<Candidate> out;
  for (const auto& image : *images) {
    auto configPath = stagedFile(staging, image.config);
    if (!configPath) return std::unexpected(configPath.error());
    auto id = sha256OfFile(*configPath);
    if (!id) return std::unexpected(id.error());
    // Docker names the config after its digest ("<hex>.json" or "blobs/sha256/<hex>").
    std::string stem = fs::path(image.config).stem().string();
    if (isHex(stem) && stem.size() == 64 && "sha256:" + stem != *id) {
      return fail(Code::kInvalid, "archive: config " + image.config + " has digest " + *id);
    }
    auto c = candidateFromConfig(*configPath, *id);
    if (!c) return std::unexpected(c.error());
    if (image.layers.size() != c->config.diffIds.size()) {
      return fail(Code::kInvalid, "archive: " + image.config + " lists " + std::to_string(c->config.diffIds.size()) +
                                      " layers, manifest.json " + std::to_string(image.layers.size()));
    }
    for (const auto& layer : image.layers) {
      auto path = stagedFile(staging, layer);
      if (!path) return std::unexpected(path.error());
      c->layerBlobs.push_back(*path);
    }
    for (const auto& repoTag : image.repoTags) {
      auto tag = normalizedTag(repoTag);
      if (!tag) return std::unexpected(tag.error());
      if (!tag->empty()) c->references.push_back(*tag);
    }
    out.push_back(std::move(*c));
  }
  return out;
}

std::optional<uint64_t> knownLayerSize(const Index& index, const std::string& diffId) {
  for (const auto& [_, r] : index.images) {
    for (const auto& l : r.layers) {
      if (l.diffId == diffId) return l.size;
    }
  }
  return std::nullopt;
}

// Verifies a layer blob against its diffID, then extracts it under a temporary name and
// renames it into place, so a layer directory either is complete or does not exist.
Result<uint64_t> importLayer(const fs::path& root, const fs::path& blob, const std::string& diffId) {
  auto actual = sha256OfDecompressed(blob);
  if (!actual) return std::unexpected(actual.error());
  if (*actual != diffId) {
    return fail(Code::kInvalid, "archive: layer " + blob.filename().string() + " has diffID " + *actual +
                                    ", the image config says " + diffId);
  }
  fs::path final = root / kLayersDir / hexOf(diffId);
  fs::path tmp = root / kLayersDir / (std::string(kTmpLayerPrefix) + hexOf(diffId));
  std::error_code ec;
  fs::remove_all(tmp, ec);
  if (!fs::create_directory(tmp, ec) || ec) return sysError("mkdir", tmp, ec.value());
  fs::permissions(tmp, fs::perms(0755), ec);
  TreeGuard guard(tmp);
  auto stats = extractLayer(blob, tmp);
  if (!stats) return std::unexpected(stats.error());
  if (::rename(tmp.c_str(), final.c_str()) != 0) return sysError("rename", tmp, errno);
  guard.release();
  return stats->bytes;
}

enum class LookupKind { kTag, kDigest, kId };

struct Lookup {
  std::string id;
  std::string reference;  // normalized, as asked
  LookupKind kind;
};

Result<Lookup> lookup(const Index& index, std::string_view text) {
  if (isSha256Digest(text)) {
    if (index.images.contains(std::string(text))) return Lookup{std::string(text), std::string(text), LookupKind::kId};
    return fail(Code::kNotFound, "failed to resolve image \"" + std::string(text) + "\": not found in the local image store");
  }
  auto ref = parseReference(text);
  if (ref) {
    std::string normalized = ref->string();
    if (!ref->digest.empty()) {
      for (const auto& [id, r] : index.images) {
        if (id == ref->digest || r.manifestDigest == ref->digest) return Lookup{id, normalized, LookupKind::kDigest};
      }
    } else if (auto it = index.tags.find(normalized); it != index.tags.end()) {
      return Lookup{it->second, normalized, LookupKind::kTag};
    }
    if (!(isHex(text) && text.size() >= kMinIdPrefix)) {
      return fail(Code::kNotFound, "failed to resolve image \"" + normalized + "\": not found in the local image store");
    }
  }
  // Docker also accepts a unique prefix of an image ID.
  if (isHex(text) && text.size() >= kMinIdPrefix) {
    std::vector<std::string> matches;
    for (const auto& [id, _] : index.images) {
      if (std::string_view(id).substr(7).starts_with(text)) matches.push_back(id);
    }
    if (matches.size() == 1) return Lookup{matches[0], matches[0], LookupKind::kId};
    if (matches.size() > 1) return fail(Code::kConflict, "image ID prefix \"" + std::string(text) + "\" is ambiguous");
    if (ref) {
      return fail(Code::kNotFound, "failed to resolve image \"" + ref->string() + "\": not found in the local image store");
    }
  }
  return fail(Code::kInvalid, "couldn't parse image reference \"" + std::string(text) + "\": " + ref.error().message);
}

}  // namespace

uint64_t ImageRecord::size() const {
  uint64_t total = 0;
  for (const auto& l : layers) total += l.size;
  return total;
}

std::string ImageRecord::shortId() const { return id.substr(id.find(':') + 1, 12); }

Result<ImageStore> ImageStore::open(const fs::path& root) {
  std::error_code ec;
  for (auto sub : {kLayersDir, kTmpDir}) {
    fs::create_directories(root / sub, ec);
    if (ec) return sysError("mkdir", root / sub, ec.value());
  }
  fs::path canonical = fs::canonical(root, ec);
  if (ec) return sysError("resolve", root, ec.value());
  return ImageStore(canonical);
}

fs::path ImageStore::layerDir(std::string_view diffId) const { return root_ / kLayersDir / hexOf(diffId); }

Result<ImportResult> ImageStore::importArchive(const fs::path& archive) {
  if (!fs::is_regular_file(archive)) return fail(Code::kNotFound, "image archive " + archive.string() + ": no such file");
  auto lock = WriteLock::acquire(root_);
  if (!lock) return std::unexpected(lock.error());
  auto index = loadIndex(root_);
  if (!index) return std::unexpected(index.error());
  collectGarbage(root_, *index);

  static std::atomic<unsigned> counter{0};
  fs::path staging = root_ / kTmpDir / ("import-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::error_code ec;
  fs::create_directories(staging, ec);
  if (ec) return sysError("mkdir", staging, ec.value());
  TreeGuard guard(staging);
  if (auto unpacked = unpackArchive(archive, staging); !unpacked) return std::unexpected(unpacked.error());

  Result<std::vector<Candidate>> candidates;
  if (fs::exists(staging / "oci-layout") && fs::exists(staging / "index.json")) {
    candidates = readOciLayout(staging);
  } else if (fs::exists(staging / "manifest.json")) {
    candidates = readDockerSave(staging);
  } else {
    return fail(Code::kInvalid, "image archive " + archive.string() +
                                    ": neither an OCI image layout (oci-layout, index.json) nor a docker save archive "
                                    "(manifest.json)");
  }
  if (!candidates) {
    candidates.error().message = "image archive " + archive.string() + ": " + candidates.error().message;
    return std::unexpected(candidates.error());
  }

  ImportResult result;
  for (auto& c : *candidates) {
    ImageRecord record;
    record.id = c.id;
    record.manifestDigest = c.manifestDigest;
    record.config = c.config;
    for (size_t i = 0; i < c.layerBlobs.size(); ++i) {
      const std::string& diffId = c.config.diffIds[i];
      uint64_t size = 0;
      if (fs::exists(layerDir(diffId))) {
        size = knownLayerSize(*index, diffId).value_or(0);
      } else {
        auto imported = importLayer(root_, c.layerBlobs[i], diffId);
        if (!imported) return std::unexpected(imported.error());
        size = *imported;
      }
      record.layers.push_back({diffId, size});
    }
    index->images[c.id] = std::move(record);
    for (const auto& ref : c.references) {
      index->tags[ref] = c.id;
      result.references.push_back(ref);
    }
    result.ids.push_back(c.id);
  }
  if (auto saved = saveIndex(root_, *index); !saved) return std::unexpected(saved.error());
  return result;
}

Result<std::vector<ImageRecord>> ImageStore::list() const {
  auto index = loadIndex(root_);
  if (!index) return std::unexpected(index.error());
  std::vector<ImageRecord> out;
  for (auto& [_, r] : index->images) out.push_back(std::move(r));
  std::sort(out.begin(), out.end(), [](const ImageRecord& a, const ImageRecord& b) {
    if (a.references.empty() != b.references.empty()) return b.references.empty();
    if (a.references.empty()) return a.id < b.id;
    return a.references.front() < b.references.front();
  });
  return out;
}

Result<void> ImageStore::tag(std::string_view source, std::string_view target) {
  auto lock = WriteLock::acquire(root_);
  if (!lock) return std::unexpected(lock.error());
  auto index = loadIndex(root_);
  if (!index) return std::unexpected(index.error());
  auto found = lookup(*index, source);
  if (!found) return std::unexpected(found.error());
  auto ref = parseReference(target);
  if (!ref) return fail(Code::kInvalid, "tag \"" + std::string(target) + "\": " + ref.error().message);
  if (!ref->digest.empty()) return fail(Code::kInvalid, "tag \"" + std::string(target) + "\": a tag cannot hold a digest");
  index->tags[ref->string()] = found->id;
  return saveIndex(root_, *index);
}

Result<RemoveResult> ImageStore::remove(std::string_view reference) {
  auto lock = WriteLock::acquire(root_);
  if (!lock) return std::unexpected(lock.error());
  auto index = loadIndex(root_);
  if (!index) return std::unexpected(index.error());
  auto found = lookup(*index, reference);
  if (!found) return std::unexpected(found.error());

  RemoveResult result;
  if (found->kind == LookupKind::kTag) {
    index->tags.erase(found->reference);
    result.untagged.push_back(found->reference);
  } else {
    for (auto it = index->tags.begin(); it != index->tags.end();) {
      if (it->second == found->id) {
        result.untagged.push_back(it->first);
        it = index->tags.erase(it);
      } else {
        ++it;
      }
    }
  }
  bool stillTagged = std::any_of(index->tags.begin(), index->tags.end(),
                                 [&](const auto& t) { return t.second == found->id; });
  if (!stillTagged) {
    index->images.erase(found->id);
    result.deleted.push_back(found->id);
  }
  if (auto saved = saveIndex(root_, *index); !saved) return std::unexpected(saved.error());
  collectGarbage(root_, *index);
  return result;
}

Result<ResolvedImage> ImageStore::resolve(std::string_view reference) const {
  auto index = loadIndex(root_);
  if (!index) return std::unexpected(index.error());
  auto found = lookup(*index, reference);
  if (!found) return std::unexpected(found.error());
  const ImageRecord& record = index->images.at(found->id);
  ResolvedImage image;
  image.reference = found->reference;
  image.id = record.id;
  image.config = record.config;
  for (auto it = record.layers.rbegin(); it != record.layers.rend(); ++it) {
    fs::path dir = layerDir(it->diffId);
    if (!fs::is_directory(dir)) {
      return fail(Code::kInternal, "image \"" + found->reference + "\": layer " + it->diffId + " is missing from " +
                                       dir.string() + "; import the image again");
    }
    image.layerDirs.push_back(std::move(dir));
  }
  return image;
}

}  // namespace nanokube::kubelet::images
