// The image store against the real kernel: archives built by images/ recipes, layers
// extracted with whiteouts, stacked by overlayfs. Needs root (mknod, trusted.* xattrs, mount).

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <fstream>

#include "kubelet/images/archive.h"
#include "kubelet/images/store.h"
#include "images_fixture.h"

namespace nanokube::kubelet::images {
namespace {

namespace fs = std::filesystem;

using test_support::builtImage;
using test_support::runCommand;
using test_support::shellQuote;
using test_support::TempDir;

void writeFile(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string sha256(const fs::path& file) {
  auto r = runCommand("sha256sum " + shellQuote(file.string()));
  return "sha256:" + r.output.substr(0, 64);
}

size_t countEntries(const fs::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

class ImagesStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    auto store = ImageStore::open(dir_.path() / "store");
    ASSERT_TRUE(store) << store.error().message;
    store_.emplace(std::move(*store));
  }

  // A `docker save` archive of two layers: the lower one has files, the upper one deletes
  // /etc/gone with a whiteout, makes /opq opaque (hiding x and y, adding z) and adds a file.
  // With corruptDiffId the config names a wrong diffID for the upper layer.
  fs::path twoLayerArchive(bool corruptDiffId = false) {
    fs::path work = dir_.path() / "synthetic";
    fs::path lower = work / "lower", upper = work / "upper", out = work / "archive";
    writeFile(lower / "etc/keep", "keep\n");
    writeFile(lower / "etc/gone", "gone\n");
    writeFile(lower / "opq/x", "x\n");
    writeFile(lower / "opq/sub/y", "y\n");
    writeFile(lower / "dir/a", "a\n");
    writeFile(upper / "etc/.wh.gone", "");
    writeFile(upper / "opq/.wh..wh..opq", "");
    writeFile(upper / "opq/z", "z\n");
    writeFile(upper / "dir/b", "b\n");
    fs::create_directories(out / "l1");
    fs::create_directories(out / "l2");
    auto tarCmd = [](const fs::path& from, const fs::path& to) {
      return "tar --format=gnu --sort=name --owner=0 --group=0 -C " + shellQuote(from.string()) + " -cf " +
             shellQuote(to.string()) + " etc opq dir";
    };
    EXPECT_EQ(runCommand(tarCmd(lower, out / "l1/layer.tar")).status, 0);
    EXPECT_EQ(runCommand(tarCmd(upper, out / "l2/layer.tar")).status, 0);
    std::string d1 = sha256(out / "l1/layer.tar");
    std::string d2 = corruptDiffId ? "sha256:" + std::string(64, 'e') : sha256(out / "l2/layer.tar");
    // The upper layer is stored gzipped: importers detect the compression.
    EXPECT_EQ(runCommand("gzip -n " + shellQuote((out / "l2/layer.tar").string())).status, 0);
    writeFile(out / "config.json",
              R"({"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/true"],"WorkingDir":"/dir"},)"
              R"("rootfs":{"type":"layers","diff_ids":[")" + d1 + R"(",")" + d2 + R"("]}})");
    std::string configHex = sha256(out / "config.json").substr(7);
    fs::rename(out / "config.json", out / (configHex + ".json"));
    writeFile(out / "manifest.json", R"([{"Config":")" + configHex + R"(.json","RepoTags":["synthetic:two"],)"
                                     R"("Layers":["l1/layer.tar","l2/layer.tar.gz"]}])");
    fs::path archive = work / "synthetic.tar";
    EXPECT_EQ(runCommand("tar -C " + shellQuote(out.string()) + " -cf " + shellQuote(archive.string()) + " .").status, 0);
    return archive;
  }

  TempDir dir_;
  std::optional<ImageStore> store_;
};

// Unmounts when the test ends, passed or failed.
class MountGuard {
 public:
  explicit MountGuard(fs::path target) : target_(std::move(target)) {}
  ~MountGuard() { ::umount2(target_.c_str(), MNT_DETACH); }

 private:
  fs::path target_;
};

TEST_F(ImagesStoreTest, ImportsTheBusyboxImage) {
  fs::path archive = builtImage("busybox", "busybox.tar");
  ASSERT_FALSE(archive.empty());
  auto imported = store_->importArchive(archive);
  ASSERT_TRUE(imported) << imported.error().message;
  EXPECT_EQ(imported->references, std::vector<std::string>{"docker.io/library/busybox:latest"});
  ASSERT_EQ(imported->ids.size(), 1u);

  auto image = store_->resolve("busybox");
  ASSERT_TRUE(image) << image.error().message;
  EXPECT_EQ(image->reference, "docker.io/library/busybox:latest");
  EXPECT_EQ(image->id, imported->ids[0]);
  EXPECT_EQ(image->config.cmd, std::vector<std::string>{"sh"});
  EXPECT_EQ(image->config.env, std::vector<std::string>{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"});
  EXPECT_EQ(image->config.workingDir, "/");
  ASSERT_EQ(image->layerDirs.size(), 1u);
  const fs::path& layer = image->layerDirs[0];
  EXPECT_EQ(layer, store_->layerDir(image->config.diffIds[0]));
  struct stat st;
  ASSERT_EQ(::stat((layer / "bin/busybox").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_TRUE(st.st_mode & S_IXUSR);
  EXPECT_EQ(st.st_uid, 0u);
  for (const char* applet : {"sh", "env", "ping", "nslookup", "wget", "nc", "ip", "sleep", "cat", "ls"}) {
    EXPECT_TRUE(fs::is_symlink(layer / "bin" / applet)) << applet;
  }
  ASSERT_EQ(::stat((layer / "tmp").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 01777u) << "/tmp keeps its sticky bit";

  auto list = store_->list();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_GT((*list)[0].size(), 1'000'000u);
  EXPECT_EQ((*list)[0].shortId(), image->id.substr(7, 12));

  // Importing again changes nothing.
  auto again = store_->importArchive(archive);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->ids, imported->ids);
  EXPECT_EQ(countEntries(store_->root() / "layers"), 1u);
}

TEST_F(ImagesStoreTest, TagsRemovesAndCollectsLayers) {
  fs::path archive = builtImage("busybox", "busybox.tar");
  ASSERT_FALSE(archive.empty());
  ASSERT_TRUE(store_->importArchive(archive));
  auto original = store_->resolve("docker.io/library/busybox:latest");
  ASSERT_TRUE(original);

  ASSERT_TRUE(store_->tag("busybox", "localhost/mybox:v1"));
  auto tagged = store_->resolve("localhost/mybox:v1");
  ASSERT_TRUE(tagged) << tagged.error().message;
  EXPECT_EQ(tagged->id, original->id);
  EXPECT_TRUE(store_->resolve(original->id.substr(7, 12))) << "a 12-digit ID prefix resolves";
  EXPECT_TRUE(store_->resolve(original->id)) << "the full ID resolves";

  auto untag = store_->remove("busybox");
  ASSERT_TRUE(untag) << untag.error().message;
  EXPECT_EQ(untag->untagged, std::vector<std::string>{"docker.io/library/busybox:latest"});
  EXPECT_TRUE(untag->deleted.empty()) << "the image still has a tag";
  EXPECT_TRUE(fs::is_directory(original->layerDirs[0]));

  auto missing = store_->resolve("busybox");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::kNotFound);
  EXPECT_EQ(missing.error().message,
            "failed to resolve image \"docker.io/library/busybox:latest\": not found in the local image store");

  auto last = store_->remove("localhost/mybox:v1");
  ASSERT_TRUE(last) << last.error().message;
  EXPECT_EQ(last->deleted, std::vector<std::string>{original->id});
  EXPECT_FALSE(fs::exists(original->layerDirs[0])) << "an unused layer is collected";
  EXPECT_TRUE(store_->list()->empty());

  auto invalid = store_->resolve("Busybox");
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.error().code, Code::kInvalid);
  EXPECT_FALSE(store_->remove("nope"));
}

TEST_F(ImagesStoreTest, SharesTheBaseLayerBetweenImages) {
  fs::path busybox = builtImage("busybox", "busybox.tar");
  fs::path curl = builtImage("yauritux/busybox-curl", "busybox-curl.tar");
  ASSERT_FALSE(busybox.empty());
  ASSERT_FALSE(curl.empty());
  ASSERT_TRUE(store_->importArchive(busybox));
  auto imported = store_->importArchive(curl);
  ASSERT_TRUE(imported) << imported.error().message;
  EXPECT_EQ(imported->references, std::vector<std::string>{"docker.io/yauritux/busybox-curl:latest"});

  auto base = store_->resolve("busybox");
  auto withCurl = store_->resolve("yauritux/busybox-curl");
  ASSERT_TRUE(base);
  ASSERT_TRUE(withCurl);
  ASSERT_EQ(withCurl->layerDirs.size(), 2u);
  EXPECT_EQ(withCurl->layerDirs[1], base->layerDirs[0]) << "top first: the busybox layer is the lower one";
  EXPECT_TRUE(fs::exists(withCurl->layerDirs[0] / "usr/bin/curl"));
  EXPECT_TRUE(fs::exists(withCurl->layerDirs[0] / "etc/ssl/certs/ca-certificates.crt"));
  EXPECT_EQ(countEntries(store_->root() / "layers"), 2u);

  ASSERT_TRUE(store_->remove("yauritux/busybox-curl"));
  EXPECT_FALSE(fs::exists(withCurl->layerDirs[0]));
  EXPECT_TRUE(fs::exists(base->layerDirs[0])) << "busybox still uses its layer";
}

TEST_F(ImagesStoreTest, NginxTagsNameOneImage) {
  fs::path archive = builtImage("nginx", "nginx.tar");
  ASSERT_FALSE(archive.empty());
  auto imported = store_->importArchive(archive);
  ASSERT_TRUE(imported) << imported.error().message;
  EXPECT_EQ(imported->ids.size(), 1u);
  auto latest = store_->resolve("nginx");
  auto v179 = store_->resolve("nginx:1.7.9");
  auto v18 = store_->resolve("nginx:1.8");
  ASSERT_TRUE(latest && v179 && v18);
  EXPECT_EQ(latest->id, v179->id);
  EXPECT_EQ(latest->id, v18->id);
  EXPECT_EQ(latest->config.cmd, (std::vector<std::string>{"nginx", "-g", "daemon off;"}));
  EXPECT_EQ(latest->config.exposedPorts, std::vector<std::string>{"80/tcp"});
  EXPECT_EQ(fs::read_symlink(latest->layerDirs[0] / "var/log/nginx/access.log"), "/dev/stdout");
  EXPECT_EQ(fs::read_symlink(latest->layerDirs[0] / "var/log/nginx/error.log"), "/dev/stderr");
  EXPECT_NE(readFile(latest->layerDirs[0] / "etc/passwd").find("nginx:x:101:101:"), std::string::npos);
}

TEST_F(ImagesStoreTest, WhiteoutsAndOpaqueDirsGiveTheRightOverlayView) {
  auto imported = store_->importArchive(twoLayerArchive());
  ASSERT_TRUE(imported) << imported.error().message;
  EXPECT_EQ(imported->references, std::vector<std::string>{"docker.io/library/synthetic:two"});
  auto image = store_->resolve("synthetic:two");
  ASSERT_TRUE(image) << image.error().message;
  ASSERT_EQ(image->layerDirs.size(), 2u);
  EXPECT_EQ(image->config.workingDir, "/dir");
  const fs::path& top = image->layerDirs[0];
  const fs::path& bottom = image->layerDirs[1];

  // On disk: overlayfs's forms of the OCI whiteouts.
  struct stat st;
  ASSERT_EQ(::lstat((top / "etc/gone").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  EXPECT_FALSE(fs::exists(top / "etc/.wh.gone"));
  char value[8] = {};
  ASSERT_EQ(::getxattr((top / "opq").c_str(), kOverlayOpaqueXattr, value, sizeof value), 1);
  EXPECT_EQ(value[0], 'y');
  EXPECT_FALSE(fs::exists(top / "opq/.wh..wh..opq"));
  EXPECT_TRUE(fs::exists(bottom / "etc/gone")) << "the lower layer keeps its file";

  // Through overlayfs: what a container sees.
  fs::path mnt = dir_.path() / "mnt";
  fs::create_directories(mnt);
  std::string options = "lowerdir=" + top.string() + ":" + bottom.string();
  ASSERT_EQ(::mount("overlay", mnt.c_str(), "overlay", MS_RDONLY, options.c_str()), 0) << std::strerror(errno);
  MountGuard guard(mnt);
  EXPECT_EQ(readFile(mnt / "etc/keep"), "keep\n");
  EXPECT_FALSE(fs::exists(mnt / "etc/gone")) << "whited out";
  EXPECT_FALSE(fs::exists(mnt / "opq/x")) << "hidden by the opaque dir";
  EXPECT_FALSE(fs::exists(mnt / "opq/sub")) << "hidden by the opaque dir";
  EXPECT_EQ(readFile(mnt / "opq/z"), "z\n");
  EXPECT_EQ(readFile(mnt / "dir/a"), "a\n");
  EXPECT_EQ(readFile(mnt / "dir/b"), "b\n");
}

TEST_F(ImagesStoreTest, RefusesALayerWhoseDiffIdDoesNotMatch) {
  auto imported = store_->importArchive(twoLayerArchive(/*corruptDiffId=*/true));
  ASSERT_FALSE(imported);
  EXPECT_EQ(imported.error().code, Code::kInvalid);
  EXPECT_NE(imported.error().message.find("has diffID"), std::string::npos) << imported.error().message;
  EXPECT_TRUE(store_->list()->empty());
  // The next write collects the layer the failed import left.
  ASSERT_TRUE(store_->importArchive(builtImage("busybox", "busybox.tar")));
  EXPECT_EQ(countEntries(store_->root() / "layers"), 1u);
  EXPECT_EQ(countEntries(store_->root() / "tmp"), 0u);
}

TEST_F(ImagesStoreTest, RefusesATamperedBlob) {
  fs::path archive = builtImage("busybox", "busybox.tar");
  ASSERT_FALSE(archive.empty());
  fs::path work = dir_.path() / "tampered";
  fs::create_directories(work);
  ASSERT_EQ(runCommand("tar -C " + shellQuote(work.string()) + " -xf " + shellQuote(archive.string())).status, 0);
  // Append a byte to the largest blob (the layer): its digest no longer matches its name.
  fs::path largest;
  for (const auto& e : fs::directory_iterator(work / "blobs/sha256")) {
    if (largest.empty() || fs::file_size(e.path()) > fs::file_size(largest)) largest = e.path();
  }
  std::ofstream(largest, std::ios::app) << 'x';
  fs::path tampered = dir_.path() / "tampered.tar";
  ASSERT_EQ(runCommand("tar -C " + shellQuote(work.string()) + " -cf " + shellQuote(tampered.string()) + " .").status, 0);
  auto imported = store_->importArchive(tampered);
  ASSERT_FALSE(imported);
  EXPECT_EQ(imported.error().code, Code::kInvalid);
  EXPECT_NE(imported.error().message.find("bytes, its descriptor says"), std::string::npos) << imported.error().message;
  EXPECT_TRUE(store_->list()->empty());
}

TEST_F(ImagesStoreTest, RefusesWhatIsNoImageArchive) {
  fs::path junk = dir_.path() / "junk.tar";
  writeFile(dir_.path() / "junk/readme", "hello\n");
  ASSERT_EQ(runCommand("tar -C " + shellQuote((dir_.path() / "junk").string()) + " -cf " + shellQuote(junk.string()) +
                       " readme").status, 0);
  auto imported = store_->importArchive(junk);
  ASSERT_FALSE(imported);
  EXPECT_NE(imported.error().message.find("neither an OCI image layout"), std::string::npos);

  auto missing = store_->importArchive(dir_.path() / "absent.tar");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::kNotFound);
}

}  // namespace
}  // namespace nanokube::kubelet::images
