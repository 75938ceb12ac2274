#pragma once
// Where the API server is and who the client is: the parts of a kubeconfig that
// nanokube's components need (server URL, CA, client certificate or bearer token).

#include <string>
#include <string_view>

#include "common/error.h"

namespace nanokube::client {

struct ClientConfig {
  std::string server;  // https://host:port, as in the kubeconfig's cluster.server
  // PEM files named by a kubeconfig's certificate-authority / client-certificate /
  // client-key; empty when the kubeconfig embeds the data instead.
  std::string caFile;
  std::string certFile, keyFile;
  // Decoded PEM text of the *-data fields. The client loads these into its TLS
  // context from memory, so that the admin's private key never lands on disk.
  std::string caData;
  std::string certData, keyData;
  std::string token;      // bearer token (user.token); empty when a certificate is used
  std::string namespace_;  // the current context's namespace; "default" when unset
};

// Reads the kubeconfig at `path` and resolves its current-context to a cluster
// and a user. Relative file paths in it are taken relative to the kubeconfig's
// directory, as kubectl does. Errors (kBadRequest) name the missing piece.
Result<ClientConfig> loadKubeconfig(const std::string& path);

// The same over the kubeconfig's text; `baseDir` resolves relative file paths.
Result<ClientConfig> parseKubeconfig(std::string_view text, const std::string& baseDir = ".");

// Standard base64 (with or without padding, whitespace ignored) via OpenSSL.
Result<std::string> base64Decode(std::string_view text);

}  // namespace nanokube::client
