#pragma once
// Helpers for the image store's integration tests: building the images/ recipes once per
// test binary, temporary directories, running shell commands.

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

namespace nanokube::kubelet::images::test_support {

namespace fs = std::filesystem;

struct CommandResult {
  int status = -1;  // the exit code, or -1 when the command did not exit normally
  std::string output;  // stdout and stderr together
};

inline CommandResult runCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.output.append(buffer.data(), n);
  int status = ::pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

inline std::string shellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// A directory removed with everything in it when the object goes, also when a test fails.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "nk-images-test") {
    std::string tmpl = (fs::temp_directory_path() / (prefix + ".XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Builds an image with images/build the first time a test asks for it and keeps the archive
// for the rest of the test binary's run.
inline fs::path builtImage(const std::string& image, const std::string& file) {
  static TempDir dir("nk-images-built");
  static std::map<std::string, fs::path> built;
  if (auto it = built.find(image); it != built.end()) return it->second;
  fs::path out = dir.path() / file;
  auto r = runCommand(shellQuote(std::string(NANOKUBE_SOURCE_DIR) + "/images/build") + " " + shellQuote(image) + " " +
                      shellQuote(out.string()));
  if (r.status != 0) {
    std::fprintf(stderr, "images/build %s failed:\n%s\n", image.c_str(), r.output.c_str());
    return {};
  }
  built[image] = out;
  return out;
}

}  // namespace nanokube::kubelet::images::test_support
