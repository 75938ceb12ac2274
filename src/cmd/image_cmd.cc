// `nanokube image`: the local image store from the command line, printed as Docker prints it.

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cmd/commands.h"
#include "kubelet/images/reference.h"
#include "kubelet/images/store.h"

namespace nanokube {

namespace {

namespace images = kubelet::images;

// Docker's SIZE column: decimal units, three significant digits (go-units HumanSize).
std::string humanSize(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  double size = static_cast<double>(bytes);
  size_t unit = 0;
  while (size >= 1000.0 && unit + 1 < std::size(kUnits)) {
    size /= 1000.0;
    ++unit;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3g%s", size, kUnits[unit]);
  return buffer;
}

// Columns separated by three spaces, as Docker's tabwriter pads them.
void printTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 3, ' ');
    }
    std::printf("%s\n", line.c_str());
  }
}

std::string familiar(const std::string& reference) {
  auto ref = images::parseReference(reference);
  return ref ? ref->familiarString() : reference;
}

[[noreturn]] void failWith(const Error& error) {
  std::fprintf(stderr, "nanokube image: %s\n", error.message.c_str());
  throw CLI::RuntimeError(1);
}

images::ImageStore openStore(const std::string& dir) {
  auto store = images::ImageStore::open(dir);
  if (!store) failWith(store.error());
  return std::move(*store);
}

}  // namespace

void addImageCommands(CLI::App& app) {
  auto* image = app.add_subcommand("image", "Manage the node's local image store (import, ls, tag, rm)");
  image->require_subcommand(1);

  // Shared by the callbacks, which outlive this function.
  struct Options {
    std::string store = std::string(images::kDefaultStoreRoot);
    std::vector<std::string> files;
    std::string source;
    std::string target;
    std::vector<std::string> refs;
  };
  auto options = std::make_shared<Options>();
  auto addStore = [&](CLI::App* cmd) {
    cmd->add_option("--store", options->store, "Image store directory")->capture_default_str();
  };

  auto* import = image->add_subcommand("import", "Import images from OCI image layout or docker save archives");
  import->add_option("file", options->files, "Archive (tar, optionally compressed)")->required();
  addStore(import);
  import->callback([options] {
    auto store = openStore(options->store);
    for (const auto& file : options->files) {
      auto result = store.importArchive(file);
      if (!result) failWith(result.error());
      for (const auto& ref : result->references) std::printf("Loaded image: %s\n", familiar(ref).c_str());
      if (result->references.empty()) {
        for (const auto& id : result->ids) std::printf("Loaded image ID: %s\n", id.c_str());
      }
    }
  });

  auto* ls = image->add_subcommand("ls", "List images");
  addStore(ls);
  ls->callback([options] {
    auto store = openStore(options->store);
    auto list = store.list();
    if (!list) failWith(list.error());
    std::vector<std::vector<std::string>> rows;
    for (const auto& record : *list) {
      std::string size = humanSize(record.size());
      if (record.references.empty()) rows.push_back({"<none>", "<none>", record.shortId(), size});
      for (const auto& reference : record.references) {
        auto ref = images::parseReference(reference);
        if (!ref) continue;
        rows.push_back({ref->familiarName(), ref->tag.empty() ? "<none>" : ref->tag, record.shortId(), size});
      }
    }
    // By repository and tag, as a person scans the list; untagged images come last.
    std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
      if ((a[0] == "<none>") != (b[0] == "<none>")) return b[0] == "<none>";
      return a < b;
    });
    rows.insert(rows.begin(), {"REPOSITORY", "TAG", "IMAGE ID", "SIZE"});
    printTable(rows);
  });

  auto* tag = image->add_subcommand("tag", "Create a tag TARGET that refers to SOURCE");
  tag->add_option("source", options->source, "Image reference or ID")->required();
  tag->add_option("target", options->target, "New reference")->required();
  addStore(tag);
  tag->callback([options] {
    auto store = openStore(options->store);
    if (auto r = store.tag(options->source, options->target); !r) failWith(r.error());
  });

  auto* rm = image->add_subcommand("rm", "Remove images (a tag, or an image ID with all its tags)");
  rm->add_option("ref", options->refs, "Image reference or ID")->required();
  addStore(rm);
  rm->callback([options] {
    auto store = openStore(options->store);
    bool failed = false;
    for (const auto& ref : options->refs) {
      auto result = store.remove(ref);
      if (!result) {
        std::fprintf(stderr, "nanokube image: %s\n", result.error().message.c_str());
        failed = true;
        continue;
      }
      for (const auto& untagged : result->untagged) std::printf("Untagged: %s\n", familiar(untagged).c_str());
      for (const auto& deleted : result->deleted) std::printf("Deleted: %s\n", deleted.c_str());
    }
    if (failed) throw CLI::RuntimeError(1);
  });
}

}  // namespace nanokube
