// nanokube: one binary, one subcommand per role.

#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "apiserver/discovery.h"
#include "apiserver/server.h"
#include "cmd/commands.h"

using namespace nanokube;

namespace {

// Splits "ADDR:PORT" (or ":PORT", or "ADDR").
bool parseListen(const std::string& text, std::string& address, int& port) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos) {
    address = text;
    return !address.empty();
  }
  if (colon > 0) address = text.substr(0, colon);
  try {
    port = std::stoi(text.substr(colon + 1));
  } catch (...) {
    return false;
  }
  return port >= 0 && port < 65536;  // 0: a free port, written to the kubeconfig
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"nanokube: a Kubernetes-compatible orchestrator built around the Kubernetes network model"};
  app.require_subcommand(1);
  bool verbose = false;
  // Applied as soon as it is parsed: subcommands such as `agent` run from
  // their callbacks during parsing.
  app.add_flag_callback("-v,--verbose", [&verbose] {
    verbose = true;
    spdlog::set_level(spdlog::level::debug);
  }, "Log debug messages");

  apiserver::ServerOptions server;
  std::string listen = "127.0.0.1:6443";
  auto* serverCmd = app.add_subcommand("server", "Run the API server (store, REST API, watch) until SIGINT/SIGTERM");
  serverCmd->add_option("--data-dir", server.dataDir, "Directory for the store, certificates and kubeconfig")
      ->required();
  serverCmd->add_option("--listen", listen, "Address and port to serve HTTPS on (port 0: any free port)")->capture_default_str();
  serverCmd->add_option("--advertise-address", server.advertiseAddress,
                        "Address clients reach the server at (kubeconfig server URL); default: the listen address");
  serverCmd->add_option("--san", server.extraSans, "Extra IP or DNS name for the serving certificate (repeatable)");
  serverCmd->add_option("--threads", server.threads, "Worker threads (default: one per core)");

  addImageCommands(app);
  addAgentCommand(app);
  addClusterCommands(app);
  addTokenCommands(app);

  auto* versionCmd = app.add_subcommand("version", "Print nanokube's version and the Kubernetes API version it serves");

  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(verbose ? spdlog::level::debug : spdlog::level::info);

  if (*versionCmd) {
    std::printf("nanokube %s (Kubernetes API %s)\n", NANOKUBE_VERSION, apiserver::kKubernetesVersion);
    return 0;
  }
  if (*serverCmd) {
    if (!parseListen(listen, server.listenAddress, server.port)) {
      std::fprintf(stderr, "nanokube server: --listen %s: want ADDR:PORT\n", listen.c_str());
      return 2;
    }
    auto r = apiserver::runServer(server);
    if (!r) {
      spdlog::error("{}", r.error().message);
      return 1;
    }
    return 0;
  }
  return 0;
}
