#include "kubelet/images/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <system_error>

namespace nanokube::kubelet::images {

namespace fs = std::filesystem;

namespace {

constexpr size_t kBlockSize = 64 * 1024;

struct ReadDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct WriteDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
using ReadArchive = std::unique_ptr<archive, ReadDeleter>;
using WriteArchive = std::unique_ptr<archive, WriteDeleter>;

struct DigestDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

// Incremental SHA-256 with OpenSSL, the hash every OCI digest in this store uses.
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr); }
  void update(const void* data, size_t size) { EVP_DigestUpdate(ctx_.get(), data, size); }
  std::string digest() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int length = 0;
    EVP_DigestFinal_ex(ctx_.get(), md.data(), &length);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "sha256:";
    for (unsigned int i = 0; i < length; ++i) {
      out += kHex[md[i] >> 4];
      out += kHex[md[i] & 0xf];
    }
    return out;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, DigestDeleter> ctx_;
};

std::unexpected<Error> archiveError(archive* a, std::string_view op, const fs::path& path) {
  const char* message = archive_error_string(a);
  return fail(Code::kInvalid, std::string(op) + " " + path.string() + ": " + (message ? message : "unknown libarchive error"));
}

std::unexpected<Error> sysError(std::string_view op, const fs::path& path, int err) {
  return fail(Code::kInternal, std::string(op) + " " + path.string() + ": " + std::strerror(err));
}

Result<ReadArchive> openRead(const fs::path& path, bool raw) {
  ReadArchive a(archive_read_new());
  archive_read_support_filter_all(a.get());
  if (raw) {
    archive_read_support_format_raw(a.get());
  } else {
    archive_read_support_format_tar(a.get());
    archive_read_support_format_gnutar(a.get());
  }
  if (archive_read_open_filename(a.get(), path.c_str(), kBlockSize) != ARCHIVE_OK) {
    return archiveError(a.get(), "open", path);
  }
  return a;
}

// The entry's path inside the archive as relative components, or an error for absolute
// paths and "..". An empty result is the archive's root ("./").
Result<fs::path> safeRelativePath(std::string_view name, const fs::path& archive) {
  fs::path out;
  for (const auto& part : fs::path(name)) {
    std::string s = part.string();
    if (s.empty() || s == "." || s == "/") continue;
    if (s == "..") return fail(Code::kInvalid, archive.string() + ": entry \"" + std::string(name) + "\" leaves the archive");
    out /= part;
  }
  return out;
}

Result<void> copyData(archive* in, archive* out, const fs::path& archivePath) {
  const void* buffer;
  size_t size;
  la_int64_t offset;
  while (true) {
    int r = archive_read_data_block(in, &buffer, &size, &offset);
    if (r == ARCHIVE_EOF) return {};
    if (r < ARCHIVE_OK) return archiveError(in, "read", archivePath);
    if (archive_write_data_block(out, buffer, size, offset) < ARCHIVE_OK) return archiveError(out, "write", archivePath);
  }
}

// Removes what is at path unless both it and the new entry are directories: a later entry
// of the same layer replaces an earlier one, including a whiteout of the same name.
Result<void> clearForEntry(const fs::path& path, bool entryIsDir) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return {};
  if (S_ISDIR(st.st_mode)) {
    if (entryIsDir) return {};
    std::error_code ec;
    fs::remove_all(path, ec);
    if (ec) return sysError("remove", path, ec.value());
    return {};
  }
  if (unlink(path.c_str()) != 0) return sysError("unlink", path, errno);
  return {};
}

Result<void> makeParents(const fs::path& path) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return sysError("mkdir", path.parent_path(), ec.value());
  return {};
}

}  // namespace

Result<std::string> sha256OfFile(const fs::path& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sysError("open", file, errno);
  Sha256 hash;
  std::vector<char> buffer(kBlockSize);
  while (true) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return sysError("read", file, err);
    }
    if (n == 0) break;
    hash.update(buffer.data(), static_cast<size_t>(n));
  }
  ::close(fd);
  return hash.digest();
}

Result<std::string> sha256OfDecompressed(const fs::path& blob) {
  auto a = openRead(blob, /*raw=*/true);
  if (!a) return std::unexpected(a.error());
  archive_entry* entry;
  if (archive_read_next_header(a->get(), &entry) != ARCHIVE_OK) return archiveError(a->get(), "read", blob);
  Sha256 hash;
  std::vector<char> buffer(kBlockSize);
  while (true) {
    la_ssize_t n = archive_read_data(a->get(), buffer.data(), buffer.size());
    if (n < 0) return archiveError(a->get(), "decompress", blob);
    if (n == 0) break;
    hash.update(buffer.data(), static_cast<size_t>(n));
  }
  return hash.digest();
}

Result<void> unpackArchive(const fs::path& archivePath, const fs::path& dir) {
  auto in = openRead(archivePath, /*raw=*/false);
  if (!in) return std::unexpected(in.error());
  WriteArchive out(archive_write_disk_new());
  archive_write_disk_set_options(out.get(), ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT);
  archive_entry* entry;
  while (true) {
    int r = archive_read_next_header(in->get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_OK) return archiveError(in->get(), "read", archivePath);
    auto type = archive_entry_filetype(entry);
    if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) continue;
    if (archive_entry_hardlink(entry) != nullptr) continue;
    auto rel = safeRelativePath(archive_entry_pathname(entry), archivePath);
    if (!rel) return std::unexpected(rel.error());
    if (rel->empty()) continue;
    fs::path target = dir / *rel;
    if (auto made = makeParents(target); !made) return made;
    archive_entry_set_pathname(entry, target.c_str());
    archive_entry_set_perm(entry, type == AE_IFDIR ? 0755 : 0644);
    if (archive_write_header(out.get(), entry) < ARCHIVE_OK) return archiveError(out.get(), "unpack", archivePath);
    if (type == AE_IFREG) {
      if (auto copied = copyData(in->get(), out.get(), archivePath); !copied) return copied;
    }
    if (archive_write_finish_entry(out.get()) < ARCHIVE_OK) return archiveError(out.get(), "unpack", archivePath);
  }
  if (archive_write_close(out.get()) != ARCHIVE_OK) return archiveError(out.get(), "unpack", archivePath);
  return {};
}

Result<LayerStats> extractLayer(const fs::path& blob, const fs::path& dir) {
  auto in = openRead(blob, /*raw=*/false);
  if (!in) return std::unexpected(in.error());
  WriteArchive out(archive_write_disk_new());
  int flags = ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
              ARCHIVE_EXTRACT_SECURE_NODOTDOT;
  // Keeping owners needs root; without it the files belong to the caller, which is all a
  // non-root user of the store could run anyway.
  if (geteuid() == 0) flags |= ARCHIVE_EXTRACT_OWNER;
  archive_write_disk_set_options(out.get(), flags);
  archive_write_disk_set_standard_lookup(out.get());

  LayerStats stats;
  archive_entry* entry;
  while (true) {
    int r = archive_read_next_header(in->get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_OK && r != ARCHIVE_WARN) return archiveError(in->get(), "read layer", blob);
    auto rel = safeRelativePath(archive_entry_pathname(entry), blob);
    if (!rel) return std::unexpected(rel.error());
    if (rel->empty()) continue;  // the layer's root directory itself
    ++stats.entries;
    fs::path target = dir / *rel;
    std::string base = rel->filename().string();

    if (base == kOpaqueWhiteout) {
      fs::path parent = target.parent_path();
      std::error_code ec;
      fs::create_directories(parent, ec);
      if (ec) return sysError("mkdir", parent, ec.value());
      if (setxattr(parent.c_str(), kOverlayOpaqueXattr, "y", 1, 0) != 0) {
        return sysError(std::string("setxattr ") + kOverlayOpaqueXattr + " on", parent, errno);
      }
      continue;
    }
    if (base.starts_with(kWhiteoutPrefix)) {
      fs::path hidden = target.parent_path() / base.substr(kWhiteoutPrefix.size());
      // A whiteout hides lower layers only: an entry of the same name in this layer stays.
      struct stat st;
      if (lstat(hidden.c_str(), &st) == 0) continue;
      if (auto made = makeParents(hidden); !made) return std::unexpected(made.error());
      if (mknod(hidden.c_str(), S_IFCHR | 0000, makedev(0, 0)) != 0) return sysError("mknod whiteout", hidden, errno);
      continue;
    }

    bool isDir = archive_entry_filetype(entry) == AE_IFDIR;
    if (auto cleared = clearForEntry(target, isDir); !cleared) return std::unexpected(cleared.error());
    if (auto made = makeParents(target); !made) return std::unexpected(made.error());
    archive_entry_set_pathname(entry, target.c_str());
    if (const char* link = archive_entry_hardlink(entry)) {
      auto linkRel = safeRelativePath(link, blob);
      if (!linkRel) return std::unexpected(linkRel.error());
      archive_entry_set_hardlink(entry, (dir / *linkRel).c_str());
    } else if (archive_entry_filetype(entry) == AE_IFREG) {
      stats.bytes += static_cast<uint64_t>(archive_entry_size(entry));
    }
    if (archive_write_header(out.get(), entry) < ARCHIVE_OK) return archiveError(out.get(), "extract", target);
    if (archive_entry_size(entry) > 0 && archive_entry_hardlink(entry) == nullptr) {
      if (auto copied = copyData(in->get(), out.get(), blob); !copied) return std::unexpected(copied.error());
    }
    if (archive_write_finish_entry(out.get()) < ARCHIVE_OK) return archiveError(out.get(), "extract", target);
  }
  // Directory modes and times are set here, after their contents were written.
  if (archive_write_close(out.get()) != ARCHIVE_OK) return archiveError(out.get(), "extract", dir);
  return stats;
}

}  // namespace nanokube::kubelet::images
