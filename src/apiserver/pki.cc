#include "apiserver/pki.h"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "apiserver/encoding.h"

namespace nanokube::apiserver {

namespace {

namespace fs = std::filesystem;

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Free>;
using CertPtr = std::unique_ptr<X509, Free>;

std::string opensslError(const char* op) {
  unsigned long e = ERR_get_error();
  char buf[256] = "unknown error";
  if (e != 0) ERR_error_string_n(e, buf, sizeof buf);
  return fmt::format("{}: {}", op, buf);
}

Result<void> writeSecret(const std::string& path, const std::string& data, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return fail(Code::kInternal, fmt::format("open {}: {}", path, strerror(errno)));
  ssize_t n = ::write(fd, data.data(), data.size());
  ::fsync(fd);
  ::close(fd);
  if (n != static_cast<ssize_t>(data.size())) return fail(Code::kInternal, "write " + path);
  return {};
}

std::string pemOf(X509* cert) {
  std::unique_ptr<BIO, Free> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, n);
}

std::string pemOf(EVP_PKEY* key) {
  std::unique_ptr<BIO, Free> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, n);
}

Result<KeyPtr> loadKey(const std::string& path) {
  std::string pem = readFile(path);
  std::unique_ptr<BIO, Free> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return fail(Code::kInternal, opensslError(("read key " + path).c_str()));
  return key;
}

Result<CertPtr> loadCert(const std::string& path) {
  std::string pem = readFile(path);
  std::unique_ptr<BIO, Free> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  CertPtr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return fail(Code::kInternal, opensslError(("read certificate " + path).c_str()));
  return cert;
}

Result<void> addExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, Free> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return fail(Code::kInternal, opensslError(fmt::format("X509 extension {}", value).c_str()));
  }
  return {};
}

struct CertSpec {
  std::string commonName;
  std::string organization;
  bool isCa = false;
  bool serverAuth = false;
  bool clientAuth = false;
  std::string subjectAltName;  // "IP:127.0.0.1,DNS:localhost"
  int days = 3650;
};

// Makes a key and a certificate for `spec`, signed by issuer (self-signed when null).
Result<std::pair<KeyPtr, CertPtr>> makeCert(const CertSpec& spec, X509* issuerCert, EVP_PKEY* issuerKey) {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return fail(Code::kInternal, opensslError("EVP_EC_gen P-256"));
  CertPtr cert(X509_new());
  X509_set_version(cert.get(), 2);
  std::unique_ptr<BIGNUM, Free> serial(BN_new());
  BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
  BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(spec.days) * 86400);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (!spec.organization.empty()) {
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(spec.organization.c_str()), -1, -1, 0);
  }
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(spec.commonName.c_str()), -1, -1, 0);
  X509* issuer = issuerCert ? issuerCert : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer));
  std::vector<std::pair<int, std::string>> exts;
  if (spec.isCa) {
    exts = {{NID_basic_constraints, "critical,CA:TRUE"},
            {NID_key_usage, "critical,digitalSignature,keyEncipherment,keyCertSign"},
            {NID_subject_key_identifier, "hash"}};
  } else {
    std::string eku = spec.serverAuth && spec.clientAuth ? "serverAuth,clientAuth"
                      : spec.serverAuth                  ? "serverAuth"
                                                         : "clientAuth";
    exts = {{NID_basic_constraints, "critical,CA:FALSE"},
            {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
            {NID_ext_key_usage, eku},
            {NID_authority_key_identifier, "keyid:always"}};
    if (!spec.subjectAltName.empty()) exts.push_back({NID_subject_alt_name, spec.subjectAltName});
  }
  for (const auto& [nid, value] : exts) {
    if (auto r = addExtension(cert.get(), issuer, nid, value); !r) return std::unexpected(r.error());
  }
  if (X509_sign(cert.get(), issuerKey ? issuerKey : key.get(), EVP_sha256()) == 0) {
    return fail(Code::kInternal, opensslError("X509_sign"));
  }
  return std::make_pair(std::move(key), std::move(cert));
}

Result<void> writePair(const std::pair<KeyPtr, CertPtr>& kc, const std::string& certPath,
                       const std::string& keyPath) {
  if (auto r = writeSecret(keyPath, pemOf(kc.first.get()), 0600); !r) return r;
  return writeSecret(certPath, pemOf(kc.second.get()), 0644);
}

std::string randomToken() {
  unsigned char raw[24];
  RAND_bytes(raw, sizeof raw);
  std::string hex;
  for (unsigned char c : raw) hex += fmt::format("{:02x}", c);
  return hex;
}

}  // namespace

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Pki pkiPaths(const std::string& dataDir) {
  Pki pki;
  pki.dir = dataDir + "/pki";
  pki.caCert = pki.dir + "/ca.crt";
  pki.caKey = pki.dir + "/ca.key";
  pki.serverCert = pki.dir + "/apiserver.crt";
  pki.serverKey = pki.dir + "/apiserver.key";
  pki.adminCert = pki.dir + "/admin.crt";
  pki.adminKey = pki.dir + "/admin.key";
  pki.kubeletClientCert = pki.dir + "/apiserver-kubelet-client.crt";
  pki.kubeletClientKey = pki.dir + "/apiserver-kubelet-client.key";
  pki.tokens = pki.dir + "/tokens.csv";
  return pki;
}

Result<std::string> createJoinToken(const Pki& pki) {
  if (!fs::exists(pki.tokens)) return fail(Code::kNotFound, fmt::format("{} does not exist: no server PKI there", pki.tokens));
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  unsigned char raw[22];
  if (RAND_bytes(raw, sizeof raw) != 1) return fail(Code::kInternal, "RAND_bytes failed");
  std::string id, secret;
  for (int i = 0; i < 6; ++i) id += kAlphabet[raw[i] % 36];
  for (int i = 6; i < 22; ++i) secret += kAlphabet[raw[i] % 36];
  std::string token = id + "." + secret;
  std::string line = fmt::format("{},system:bootstrap:{},{},\"system:bootstrappers,system:nodes\"\n", token, id, id);
  std::string current = readFile(pki.tokens);
  if (!current.empty() && current.back() != '\n') current += '\n';
  std::string tmp = pki.tokens + ".tmp";
  if (auto r = writeSecret(tmp, current + line, 0600); !r) return std::unexpected(r.error());
  std::error_code ec;
  fs::rename(tmp, pki.tokens, ec);
  if (ec) return fail(Code::kInternal, fmt::format("rename {}: {}", pki.tokens, ec.message()));
  return token;
}

namespace {

// "IP:10.0.0.1,DNS:localhost".
std::string subjectAltNames(const std::vector<std::string>& ipSans, const std::vector<std::string>& dnsSans) {
  std::string sans;
  for (const auto& ip : ipSans) sans += (sans.empty() ? "" : ",") + ("IP:" + ip);
  for (const auto& dns : dnsSans) sans += (sans.empty() ? "" : ",") + ("DNS:" + dns);
  return sans;
}

struct Ca {
  KeyPtr key;
  CertPtr cert;
};

Result<Ca> loadCa(const Pki& pki) {
  auto key = loadKey(pki.caKey);
  if (!key) return std::unexpected(key.error());
  auto cert = loadCert(pki.caCert);
  if (!cert) return std::unexpected(cert.error());
  return Ca{std::move(*key), std::move(*cert)};
}

// Makes a certificate for `spec` signed by the CA and writes it with its key.
Result<void> issue(const Ca& ca, const CertSpec& spec, const std::string& certPath, const std::string& keyPath) {
  auto kc = makeCert(spec, ca.cert.get(), ca.key.get());
  if (!kc) return std::unexpected(kc.error());
  return writePair(*kc, certPath, keyPath);
}

}  // namespace

Result<Pki> ensurePki(const std::string& dataDir, const std::vector<std::string>& ipSans,
                      const std::vector<std::string>& dnsSans) {
  Pki pki = pkiPaths(dataDir);
  std::error_code ec;
  fs::create_directories(pki.dir, ec);
  if (ec) return fail(Code::kInternal, fmt::format("mkdir {}: {}", pki.dir, ec.message()));
  ::chmod(pki.dir.c_str(), 0700);

  if (!fs::exists(pki.caCert) || !fs::exists(pki.caKey)) {
    auto ca = makeCert({.commonName = "nanokube-ca", .isCa = true}, nullptr, nullptr);
    if (!ca) return std::unexpected(ca.error());
    if (auto r = writePair(*ca, pki.caCert, pki.caKey); !r) return std::unexpected(r.error());
    fs::remove(pki.adminCert, ec);  // a new CA invalidates every credential it signed
    fs::remove(pki.kubeletClientCert, ec);
  }
  auto ca = loadCa(pki);
  if (!ca) return std::unexpected(ca.error());
  CertSpec server{.commonName = "kube-apiserver", .serverAuth = true, .subjectAltName = subjectAltNames(ipSans, dnsSans)};
  if (auto r = issue(*ca, server, pki.serverCert, pki.serverKey); !r) return std::unexpected(r.error());
  if (!fs::exists(pki.adminCert) || !fs::exists(pki.adminKey)) {
    CertSpec admin{.commonName = "kubernetes-admin", .organization = "system:masters", .clientAuth = true};
    if (auto r = issue(*ca, admin, pki.adminCert, pki.adminKey); !r) return std::unexpected(r.error());
  }
  if (!fs::exists(pki.kubeletClientCert) || !fs::exists(pki.kubeletClientKey)) {
    CertSpec client{.commonName = "kube-apiserver-kubelet-client", .organization = "system:masters", .clientAuth = true};
    if (auto r = issue(*ca, client, pki.kubeletClientCert, pki.kubeletClientKey); !r) return std::unexpected(r.error());
  }
  if (!fs::exists(pki.tokens)) {
    std::string line = fmt::format("{},kubernetes-admin,kubernetes-admin,\"system:masters\"\n", randomToken());
    if (auto r = writeSecret(pki.tokens, line, 0600); !r) return std::unexpected(r.error());
  }
  return pki;
}

Result<void> issueClientCert(const Pki& pki, const std::string& commonName, const std::string& organization,
                             const std::string& certPath, const std::string& keyPath) {
  auto ca = loadCa(pki);
  if (!ca) return std::unexpected(ca.error());
  return issue(*ca, {.commonName = commonName, .organization = organization, .clientAuth = true}, certPath, keyPath);
}

Result<void> issueServingCert(const Pki& pki, const std::string& commonName, const std::vector<std::string>& ipSans,
                              const std::vector<std::string>& dnsSans, const std::string& certPath,
                              const std::string& keyPath) {
  auto ca = loadCa(pki);
  if (!ca) return std::unexpected(ca.error());
  return issue(*ca, {.commonName = commonName, .serverAuth = true, .subjectAltName = subjectAltNames(ipSans, dnsSans)},
               certPath, keyPath);
}

Result<void> writeKubeconfig(const std::string& path, const std::string& serverUrl, const Pki& pki,
                             const std::string& clusterName) {
  return writeKubeconfigFor(path, serverUrl, pki, clusterName, "kubernetes-admin", pki.adminCert, pki.adminKey);
}

Result<void> writeKubeconfigFor(const std::string& path, const std::string& serverUrl, const Pki& pki,
                                const std::string& clusterName, const std::string& user,
                                const std::string& certPath, const std::string& keyPath) {
  std::string context = user + "@" + clusterName;
  std::string text = fmt::format(
      "apiVersion: v1\n"
      "kind: Config\n"
      "clusters:\n"
      "- name: {0}\n"
      "  cluster:\n"
      "    server: {1}\n"
      "    certificate-authority-data: {2}\n"
      "users:\n"
      "- name: {3}\n"
      "  user:\n"
      "    client-certificate-data: {4}\n"
      "    client-key-data: {5}\n"
      "contexts:\n"
      "- name: {6}\n"
      "  context:\n"
      "    cluster: {0}\n"
      "    user: {3}\n"
      "    namespace: default\n"
      "current-context: {6}\n"
      "preferences: {{}}\n",
      clusterName, serverUrl, base64Encode(readFile(pki.caCert)), user, base64Encode(readFile(certPath)),
      base64Encode(readFile(keyPath)), context);
  std::string tmp = path + ".tmp";
  if (auto r = writeSecret(tmp, text, 0600); !r) return r;
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return fail(Code::kInternal, fmt::format("rename {}: {}", path, ec.message()));
  return {};
}

}  // namespace nanokube::apiserver
