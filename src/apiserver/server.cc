#include "apiserver/server.h"

#include <arpa/inet.h>

#include <filesystem>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "apiserver/endpoints_loop.h"
#include "apiserver/handler.h"
#include "apiserver/http_server.h"
#include "apiserver/pki.h"
#include "apiserver/registry.h"
#include "apiserver/node_lifecycle_loop.h"
#include "apiserver/scheduler_loop.h"
#include "store/store.h"

namespace nanokube::apiserver {

namespace net = boost::asio;

namespace {

bool isIp(const std::string& s) {
  in_addr a{};
  return inet_pton(AF_INET, s.c_str(), &a) == 1;
}

// Kubernetes compacts every 5 minutes up to the revision seen at the previous
// tick, so a watcher can always resume from a revision up to ~5 minutes old.
constexpr auto kCompactionInterval = std::chrono::minutes(5);

void scheduleCompaction(net::steady_timer& timer, store::Store& store, int64_t previous) {
  timer.expires_after(kCompactionInterval);
  timer.async_wait([&timer, &store, previous](const boost::system::error_code& ec) {
    if (ec) return;
    if (previous > store.compactedRevision()) {
      if (auto r = store.compact(previous); !r) spdlog::warn("compaction at {}: {}", previous, r.error().message);
    }
    scheduleCompaction(timer, store, store.revision());
  });
}

}  // namespace

Result<void> runServer(const ServerOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.dataDir, ec);
  if (ec) return fail(Code::kInternal, fmt::format("mkdir {}: {}", options.dataDir, ec.message()));
  std::string advertise = options.advertiseAddress.empty() ? options.listenAddress : options.advertiseAddress;
  if (advertise == "0.0.0.0") advertise = "127.0.0.1";

  std::vector<std::string> ips = {"127.0.0.1", "10.96.0.1"};
  std::vector<std::string> dns = {"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                                  "kubernetes.default.svc.cluster.local"};
  auto addSan = [&](const std::string& s) {
    auto& v = isIp(s) ? ips : dns;
    if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
  };
  addSan(advertise);
  if (options.listenAddress != "0.0.0.0") addSan(options.listenAddress);
  for (const auto& s : options.extraSans) addSan(s);
  auto pki = ensurePki(options.dataDir, ips, dns);
  if (!pki) return std::unexpected(pki.error());

  auto store = store::openSqliteStore(options.dataDir + "/store.db");
  if (!store) return std::unexpected(store.error());

  Registry::Options ro;
  ro.apiServerAddress = advertise;
  ro.apiServerPort = options.port;
  auto registry = Registry::create(**store, ro, systemNow);
  if (!registry) return std::unexpected(registry.error());
  net::io_context ioc;
  Handler handler(**registry, fmt::format("{}:{}", advertise, options.port));
  HttpServer http(ioc, handler, *pki);
  if (auto s = http.start(options.listenAddress, options.port); !s) return s;
  // With --listen ADDR:0 the port is known only now.
  handler.setServerAddress(fmt::format("{}:{}", advertise, http.port()));
  if (auto b = (*registry)->bootstrap(advertise, http.port()); !b) return std::unexpected(b.error());
  EndpointsLoop endpoints(**registry);
  if (auto e = endpoints.start(); !e) return std::unexpected(e.error());
  SchedulerLoop scheduler(**registry);  // binds pending pods to nodes (scheduler_loop.h)
  if (auto e = scheduler.start(); !e) return std::unexpected(e.error());
  NodeLifecycleLoop nodeLifecycle(**registry);  // Unknown + unreachable taints for silent nodes
  nodeLifecycle.start();

  std::string url = fmt::format("https://{}:{}", advertise, http.port());
  if (auto k = writeKubeconfig(options.dataDir + "/kubeconfig", url, *pki, "nanokube"); !k) return k;
  spdlog::info("nanokube API server listening on {}:{}, serving {}; kubeconfig at {}/kubeconfig",
               options.listenAddress, http.port(), url, options.dataDir);

  net::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int sig) {
    spdlog::info("signal {}: stopping", sig);
    http.stop();
    ioc.stop();
  });
  net::steady_timer compaction(ioc);
  scheduleCompaction(compaction, **store, (*store)->revision());

  int threads = options.threads > 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
  return {};
}

}  // namespace nanokube::apiserver
