// Each image the recipes build runs its main binary from the store's extracted layers:
// the layers are stacked with overlayfs (plus a writable upper dir, as a container gets)
// and the binary runs under chroot. Everything happens inside `unshare --mount --net --pid
// --fork`, so the mounts and any process left behind (nginx's workers) vanish with the
// namespaces whatever the test's outcome. Needs root.

#include <gtest/gtest.h>
#include <unistd.h>

#include "kubelet/images/store.h"
#include "images_fixture.h"

namespace nanokube::kubelet::images {
namespace {

namespace fs = std::filesystem;

using test_support::builtImage;
using test_support::CommandResult;
using test_support::runCommand;
using test_support::shellQuote;
using test_support::TempDir;

class ImagesChrootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    auto store = ImageStore::open(dir_.path() / "store");
    ASSERT_TRUE(store) << store.error().message;
    store_.emplace(std::move(*store));
  }

  // Imports the image built by the recipe, then runs script (sh syntax, run by the image's
  // own /bin/sh) in the image's root with the image's PATH, the loopback up.
  CommandResult runInImage(const std::string& recipe, const std::string& file, const std::string& reference,
                           const std::string& script) {
    fs::path archive = builtImage(recipe, file);
    if (archive.empty()) return {-1, "images/build " + recipe + " failed"};
    auto imported = store_->importArchive(archive);
    if (!imported) return {-1, imported.error().message};
    auto image = store_->resolve(reference);
    if (!image) return {-1, image.error().message};
    std::string lower;
    for (const auto& dir : image->layerDirs) lower += (lower.empty() ? "" : ":") + dir.string();
    // overlayfs needs two lower dirs to mount without an upper one; with an upper dir any
    // number works, and nginx wants to write its temp paths anyway.
    fs::path root = dir_.path() / "root", upper = dir_.path() / "upper", work = dir_.path() / "work";
    fs::create_directories(root);
    fs::create_directories(upper);
    fs::create_directories(work);
    std::string env;
    for (const auto& e : image->config.env) env += " " + shellQuote(e);
    std::string inner = "mount -t overlay overlay -o " +
                        shellQuote("lowerdir=" + lower + ",upperdir=" + upper.string() + ",workdir=" + work.string()) +
                        " " + shellQuote(root.string()) + " && mount --bind /dev " +
                        shellQuote((root / "dev").string()) + " && mount -t proc proc " +
                        shellQuote((root / "proc").string()) + " && exec chroot " + shellQuote(root.string()) +
                        " /bin/env -i" + env + " /bin/sh -c " + shellQuote("ip link set lo up; " + script);
    return runCommand("timeout 60 unshare --mount --net --pid --fork /bin/sh -c " + shellQuote(inner));
  }

  TempDir dir_;
  std::optional<ImageStore> store_;
};

TEST_F(ImagesChrootTest, BusyboxShellAndApplets) {
  auto r = runInImage("busybox", "busybox.tar", "busybox",
                      "echo ok; for a in sh env ping nslookup wget nc ip sleep cat ls; do "
                      "command -v $a >/dev/null || echo missing $a; done");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "ok\n");
}

TEST_F(ImagesChrootTest, BusyboxCurlRunsCurl) {
  auto r = runInImage("yauritux/busybox-curl", "busybox-curl.tar", "yauritux/busybox-curl",
                      "curl --version && test -s /etc/ssl/certs/ca-certificates.crt && echo certs");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(r.output.starts_with("curl ")) << r.output;
  EXPECT_NE(r.output.find("certs\n"), std::string::npos) << r.output;
}

TEST_F(ImagesChrootTest, NginxServesTheWelcomePageOnPort80) {
  auto r = runInImage("nginx", "nginx.tar", "nginx:1.8",
                      "nginx -t && nginx && sleep 0.5 && wget -qO- http://127.0.0.1/ && "
                      "(wget -qO- http://127.0.0.1/ww || echo no-ww)");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("configuration file /etc/nginx/nginx.conf test is successful"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("<title>Welcome to nginx!</title>"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("404 Not Found"), std::string::npos) << r.output;
  // The access log goes to stdout, as the seed's Dockerfile arranges.
  EXPECT_NE(r.output.find("\"GET / HTTP/1.1\" 200"), std::string::npos) << r.output;
}

TEST_F(ImagesChrootTest, Nginx8800ListensOn8800Only) {
  auto r = runInImage("msfuko/nginx_8800", "nginx_8800.tar", "msfuko/nginx_8800",
                      "nginx -t && nginx && sleep 0.5 && wget -qO- http://127.0.0.1:8800/ && "
                      "(wget -qO- http://127.0.0.1:80/ >/dev/null 2>&1 && echo port80-open || echo port80-closed)");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("<title>Welcome to nginx!</title>"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("port80-closed"), std::string::npos) << r.output;
  auto image = store_->resolve("msfuko/nginx_8800");
  ASSERT_TRUE(image);
  EXPECT_EQ(image->config.exposedPorts, std::vector<std::string>{"8800/tcp"});
  EXPECT_EQ(image->layerDirs.size(), 3u);
}

TEST_F(ImagesChrootTest, UbuntuStandInListsPackages) {
  auto r = runInImage("ubuntu", "ubuntu.tar", "ubuntu", "dpkg-query -l | grep '^ii  busybox-static '");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("busybox-static"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace nanokube::kubelet::images
