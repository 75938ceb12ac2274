#include "client/config.h"

#include <gtest/gtest.h>

namespace nanokube::client {
namespace {

// base64 of "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n" etc. is
// not needed: the parser only decodes, so short known strings make the test readable.
// "ca-pem" / "cert-pem" / "key-pem" in base64:
constexpr const char* kCa = "Y2EtcGVt";
constexpr const char* kCert = "Y2VydC1wZW0=";
constexpr const char* kKey = "a2V5LXBlbQ==";

std::string kubeconfig(const std::string& current, const std::string& userBlock) {
  return "apiVersion: v1\n"
         "kind: Config\n"
         "clusters:\n"
         "- name: other\n"
         "  cluster:\n"
         "    server: https://10.0.0.9:6443\n"
         "- name: nanokube\n"
         "  cluster:\n"
         "    server: https://127.0.0.1:6443\n"
         "    certificate-authority-data: " + std::string(kCa) + "\n"
         "users:\n" + userBlock +
         "contexts:\n"
         "- name: admin@nanokube\n"
         "  context:\n"
         "    cluster: nanokube\n"
         "    user: admin\n"
         "    namespace: team\n"
         "- name: node@nanokube\n"
         "  context:\n"
         "    cluster: nanokube\n"
         "    user: node\n"
         "current-context: " + current + "\n";
}

const std::string kUsers =
    "- name: admin\n"
    "  user:\n"
    "    client-certificate-data: " + std::string(kCert) + "\n"
    "    client-key-data: " + std::string(kKey) + "\n"
    "- name: node\n"
    "  user:\n"
    "    token: abc.def\n";

TEST(Kubeconfig, EmbeddedCertificatesOfTheCurrentContext) {
  auto c = parseKubeconfig(kubeconfig("admin@nanokube", kUsers));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->server, "https://127.0.0.1:6443");
  EXPECT_EQ(c->caData, "ca-pem");
  EXPECT_EQ(c->certData, "cert-pem");
  EXPECT_EQ(c->keyData, "key-pem");
  EXPECT_EQ(c->token, "");
  EXPECT_EQ(c->namespace_, "team");
  EXPECT_EQ(c->caFile, "");
}

TEST(Kubeconfig, TokenUserAndDefaultNamespace) {
  auto c = parseKubeconfig(kubeconfig("node@nanokube", kUsers));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->token, "abc.def");
  EXPECT_EQ(c->certData, "");
  EXPECT_EQ(c->namespace_, "default");
}

TEST(Kubeconfig, FilePathsRelativeToTheKubeconfig) {
  std::string text =
      "clusters:\n- name: c\n  cluster:\n    server: https://h:1\n    certificate-authority: pki/ca.crt\n"
      "users:\n- name: u\n  user:\n    client-certificate: /abs/client.crt\n    client-key: client.key\n"
      "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
      "current-context: x\n";
  auto c = parseKubeconfig(text, "/etc/nanokube");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->caFile, "/etc/nanokube/pki/ca.crt");
  EXPECT_EQ(c->certFile, "/abs/client.crt");
  EXPECT_EQ(c->keyFile, "/etc/nanokube/client.key");
}

TEST(Kubeconfig, Errors) {
  struct Case {
    std::string text;
    std::string message;  // a part of the error
  };
  std::vector<Case> cases = {
      {"[1, 2", "kubeconfig"},
      {"- a\n- b\n", "not a YAML mapping"},
      {"clusters: []\n", "no current-context"},
      {kubeconfig("missing", kUsers), "context \"missing\" not found"},
      {kubeconfig("admin@nanokube", "- name: someone\n  user: {}\n"), "user \"admin\" not found"},
      {kubeconfig("admin@nanokube", "- name: admin\n  user:\n    client-certificate-data: " + std::string(kCert) + "\n"),
       "without its key"},
      {kubeconfig("admin@nanokube", "- name: admin\n  user:\n    client-certificate-data: '!!!'\n"
                                    "    client-key-data: " + std::string(kKey) + "\n"),
       "client-certificate-data: invalid base64"},
      {"current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\nclusters:\n- name: c\n  cluster: {}\n",
       "has no server"},
  };
  for (const auto& tc : cases) {
    auto c = parseKubeconfig(tc.text);
    ASSERT_FALSE(c) << tc.text;
    EXPECT_EQ(c.error().code, Code::kBadRequest);
    EXPECT_NE(c.error().message.find(tc.message), std::string::npos) << c.error().message;
  }
}

TEST(Kubeconfig, MissingFileIsNotFound) {
  auto c = loadKubeconfig("/nonexistent/kubeconfig");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Code::kNotFound);
}

TEST(Base64, PaddingAndWhitespace) {
  EXPECT_EQ(*base64Decode("aGVsbG8="), "hello");
  EXPECT_EQ(*base64Decode("aGVsbG8"), "hello");
  EXPECT_EQ(*base64Decode("aGVs\nbG8h"), "hello!");
  EXPECT_EQ(*base64Decode("aA=="), "h");
  EXPECT_EQ(*base64Decode("aA"), "h");
  EXPECT_EQ(*base64Decode(""), "");
  EXPECT_FALSE(base64Decode("a$b="));
}

}  // namespace
}  // namespace nanokube::client
