#pragma once
// Helpers shared by the store tests: a fresh temporary directory per test and
// shorthands that fail the test with the store's error message.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "store/store.h"

namespace nanokube::store::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "nk-store-XXXXXX").string();
    char* made = ::mkdtemp(pattern.data());
    if (made == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::unique_ptr<Store> openOrDie(const std::string& path) {
  auto store = openSqliteStore(path);
  if (!store) {
    ADD_FAILURE() << "openSqliteStore(" << path << "): " << store.error().message;
    return nullptr;
  }
  return std::move(*store);
}

}  // namespace nanokube::store::testing
