#include "client/config.h"

#include <openssl/evp.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace nanokube::client {

namespace {

// The entry of a kubeconfig list (clusters, users, contexts) with that name.
YAML::Node findNamed(const YAML::Node& list, const std::string& name) {
  if (!list || !list.IsSequence()) return YAML::Node();
  for (const auto& entry : list) {
    if (entry["name"] && entry["name"].as<std::string>() == name) return entry;
  }
  return YAML::Node();
}

std::string scalar(const YAML::Node& node, const char* key) {
  if (!node || !node.IsMap()) return {};
  YAML::Node v = node[key];
  return v && v.IsScalar() ? v.as<std::string>() : std::string();
}

std::string resolvePath(const std::string& baseDir, const std::string& p) {
  if (p.empty() || p.front() == '/') return p;
  return (std::filesystem::path(baseDir) / p).string();
}

Result<std::string> decodeField(const YAML::Node& node, const char* key) {
  std::string text = scalar(node, key);
  if (text.empty()) return std::string();
  auto decoded = base64Decode(text);
  if (!decoded) return fail(Code::kBadRequest, fmt::format("kubeconfig: {}: {}", key, decoded.error().message));
  return decoded;
}

}  // namespace

Result<std::string> base64Decode(std::string_view text) {
  std::string clean;
  clean.reserve(text.size());
  for (char c : text) {
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') clean.push_back(c);
  }
  // EVP_DecodeBlock wants whole 4-character groups; kubeconfigs written by some
  // tools drop the padding.
  while (clean.size() % 4 != 0) clean.push_back('=');
  std::string out(clean.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(clean.data()), static_cast<int>(clean.size()));
  if (n < 0) return fail(Code::kBadRequest, "invalid base64");
  // EVP_DecodeBlock counts the padding as zero bytes of output; drop them.
  size_t pad = 0;
  for (size_t i = clean.size(); i > 0 && clean[i - 1] == '='; --i) ++pad;
  out.resize(static_cast<size_t>(n) - std::min<size_t>(pad, 2));
  return out;
}

Result<ClientConfig> parseKubeconfig(std::string_view text, const std::string& baseDir) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return fail(Code::kBadRequest, fmt::format("kubeconfig: {}", e.what()));
  }
  if (!root.IsMap()) return fail(Code::kBadRequest, "kubeconfig: not a YAML mapping");
  try {
    std::string current = scalar(root, "current-context");
    if (current.empty()) return fail(Code::kBadRequest, "kubeconfig: no current-context");
    YAML::Node ctx = findNamed(root["contexts"], current)["context"];
    if (!ctx) return fail(Code::kBadRequest, fmt::format("kubeconfig: context \"{}\" not found", current));
    std::string clusterName = scalar(ctx, "cluster");
    std::string userName = scalar(ctx, "user");
    YAML::Node cluster = findNamed(root["clusters"], clusterName)["cluster"];
    if (!cluster) return fail(Code::kBadRequest, fmt::format("kubeconfig: cluster \"{}\" not found", clusterName));

    ClientConfig config;
    config.namespace_ = scalar(ctx, "namespace");
    if (config.namespace_.empty()) config.namespace_ = "default";
    config.server = scalar(cluster, "server");
    if (config.server.empty()) {
      return fail(Code::kBadRequest, fmt::format("kubeconfig: cluster \"{}\" has no server", clusterName));
    }
    config.caFile = resolvePath(baseDir, scalar(cluster, "certificate-authority"));
    auto ca = decodeField(cluster, "certificate-authority-data");
    if (!ca) return std::unexpected(ca.error());
    config.caData = std::move(*ca);

    // A context without a user (or a user without credentials) is anonymous.
    if (!userName.empty()) {
      YAML::Node user = findNamed(root["users"], userName)["user"];
      if (!user) return fail(Code::kBadRequest, fmt::format("kubeconfig: user \"{}\" not found", userName));
      config.certFile = resolvePath(baseDir, scalar(user, "client-certificate"));
      config.keyFile = resolvePath(baseDir, scalar(user, "client-key"));
      auto cert = decodeField(user, "client-certificate-data");
      if (!cert) return std::unexpected(cert.error());
      auto key = decodeField(user, "client-key-data");
      if (!key) return std::unexpected(key.error());
      config.certData = std::move(*cert);
      config.keyData = std::move(*key);
      config.token = scalar(user, "token");
      bool hasCert = !config.certData.empty() || !config.certFile.empty();
      bool hasKey = !config.keyData.empty() || !config.keyFile.empty();
      if (hasCert != hasKey) {
        return fail(Code::kBadRequest,
                    fmt::format("kubeconfig: user \"{}\" has a client certificate without its key or a key "
                                "without its certificate",
                                userName));
      }
    }
    return config;
  } catch (const YAML::Exception& e) {
    return fail(Code::kBadRequest, fmt::format("kubeconfig: {}", e.what()));
  }
}

Result<ClientConfig> loadKubeconfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Code::kNotFound, fmt::format("kubeconfig {}: cannot open", path));
  std::stringstream text;
  text << in.rdbuf();
  auto dir = std::filesystem::path(path).parent_path().string();
  auto config = parseKubeconfig(text.str(), dir.empty() ? "." : dir);
  if (!config) return fail(config.error().code, fmt::format("{}: {}", path, config.error().message));
  return config;
}

}  // namespace nanokube::client
