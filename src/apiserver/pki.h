#pragma once
// The cluster's certificates and credentials, made at first start under
// <data-dir>/pki: a CA, the API server's serving certificate and the admin's
// client certificate (CN=kubernetes-admin, O=system:masters, as kubeadm names it),
// all ECDSA P-256 signed with SHA-256.

#include <string>
#include <vector>

#include "common/error.h"

namespace nanokube::apiserver {

struct Pki {
  std::string dir;
  std::string caCert, caKey;          // file paths
  std::string serverCert, serverKey;
  std::string adminCert, adminKey;
  // The API server's client credential towards node agents (logs, exec), as
  // kube-apiserver's --kubelet-client-certificate.
  std::string kubeletClientCert, kubeletClientKey;
  std::string tokens;                 // static bearer tokens: token,user,uid[,"groups"]
};

// Creates what is missing. The CA, the admin credential and the tokens are kept
// across starts; the serving certificate is made anew at every start so that
// its SANs follow `ipSans` and `dnsSans`.
// The paths of the PKI under dataDir, without making or changing anything.
Pki pkiPaths(const std::string& dataDir);

// A join token for a node agent (`nanokube agent --token`), in kubeadm's form
// "[a-z0-9]{6}.[a-z0-9]{16}", appended to the static token file as user
// system:bootstrap:<id> in groups system:bootstrappers and system:nodes. The
// running server reads the file again when it changed.
Result<std::string> createJoinToken(const Pki& pki);

Result<Pki> ensurePki(const std::string& dataDir, const std::vector<std::string>& ipSans,
                      const std::vector<std::string>& dnsSans);

// Writes a kubeconfig for `user` with the given client certificate, embedding
// the certificates (base64 of the PEM files) as kubectl expects.
// The admin kubeconfig: user kubernetes-admin with the admin certificate.
Result<void> writeKubeconfig(const std::string& path, const std::string& serverUrl, const Pki& pki,
                             const std::string& clusterName);

// A kubeconfig for `user` with the client certificate and key at certPath/keyPath
// (a node agent's, say), trusting the cluster CA.
Result<void> writeKubeconfigFor(const std::string& path, const std::string& serverUrl, const Pki& pki,
                                const std::string& clusterName, const std::string& user,
                                const std::string& certPath, const std::string& keyPath);

// A serving certificate signed by the cluster CA (a node agent's HTTPS endpoint).
Result<void> issueServingCert(const Pki& pki, const std::string& commonName, const std::vector<std::string>& ipSans,
                              const std::vector<std::string>& dnsSans, const std::string& certPath,
                              const std::string& keyPath);

// Issues a client certificate for `commonName` / `organization` signed by the CA,
// written to `certPath`/`keyPath` (used for per-node credentials).
Result<void> issueClientCert(const Pki& pki, const std::string& commonName, const std::string& organization,
                             const std::string& certPath, const std::string& keyPath);

std::string readFile(const std::string& path);

}  // namespace nanokube::apiserver
