// `nanokube token create`: a join token for a node agent on another machine.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "apiserver/pki.h"
#include "cmd/commands.h"

namespace nanokube {

void addTokenCommands(CLI::App& app) {
  auto dataDir = std::make_shared<std::string>();
  auto* tokenCmd = app.add_subcommand("token", "Join tokens for node agents on other machines");
  tokenCmd->require_subcommand(1);
  auto* create = tokenCmd->add_subcommand(
      "create", "Make a join token for `nanokube agent --token` and print it (the running server accepts it at once)");
  create->add_option("--data-dir", *dataDir,
                     "The server's --data-dir, or a local cluster's data dir (its server/ is used)")
      ->required();
  create->callback([dataDir] {
    namespace fs = std::filesystem;
    std::string dir = *dataDir;
    if (fs::exists(fs::path(dir) / "server" / "pki")) dir = (fs::path(dir) / "server").string();
    auto pki = apiserver::pkiPaths(dir);
    auto token = apiserver::createJoinToken(pki);
    if (!token) {
      std::fprintf(stderr, "nanokube token create: %s\n", token.error().message.c_str());
      throw CLI::RuntimeError(1);
    }
    std::printf("%s\n", token->c_str());
    std::fprintf(stderr,
                 "Join a node with (as root, on the node, with a copy of %s):\n"
                 "  nanokube agent --server https://<server address>:6443 --token %s --certificate-authority ca.crt \\\n"
                 "    --node-name <name> --node-ip <node address> --data-dir /var/lib/nanokube/agent \\\n"
                 "    --image-store /var/lib/nanokube/images\n",
                 pki.caCert.c_str(), token->c_str());
  });
}

}  // namespace nanokube
