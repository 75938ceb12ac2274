// nk_client_smoke KUBECONFIG: drives the API client against a running
// `nanokube server` (create/get/update/patch/list/delete, errors mapped from
// Status, TLS verification, the connection pool under threads, watch, informer
// + work queue) and prints one "ok <check>" or "FAIL <check>: why" line per
// check. Exits 1 when any check failed. test/e2e/client_test.sh runs it.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "client/api_client_impl.h"
#include "client/config.h"
#include "client/informer.h"
#include "client/workqueue.h"

using namespace nanokube;
using namespace nanokube::client;
using namespace std::chrono_literals;

namespace {

int failures = 0;

void check(bool ok, const std::string& what, const std::string& why = {}) {
  if (ok) {
    std::printf("ok %s\n", what.c_str());
  } else {
    ++failures;
    std::printf("FAIL %s: %s\n", what.c_str(), why.c_str());
  }
  std::fflush(stdout);
}

template <class T>
std::string errText(const Result<T>& r) {
  return r ? std::string("succeeded") : fmt::format("code {} {}", statusReason(r.error().code), r.error().message);
}

// Events a watch delivered, for waiting on from the main thread.
struct Recorder {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> events;  // "TYPE name"
  Json lastError;

  void add(std::string_view type, const Json& obj) {
    std::lock_guard lock(mu);
    if (type == "ERROR") lastError = obj;
    std::string name = obj.contains("metadata") ? obj["metadata"].value("name", "") : "";
    events.push_back(fmt::format("{} {}", type, name));
    cv.notify_all();
  }
  bool waitFor(const std::string& event, std::chrono::seconds timeout = 10s) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, timeout, [&] { return std::find(events.begin(), events.end(), event) != events.end(); });
  }
  std::string dump() {
    std::lock_guard lock(mu);
    return fmt::format("{}", fmt::join(events, ", "));
  }
};

Json configMap(const std::string& name, const std::string& value, const std::string& app = "smoke") {
  return Json{{"apiVersion", "v1"},
              {"kind", "ConfigMap"},
              {"metadata", {{"name", name}, {"labels", {{"app", app}}}}},
              {"data", {{"k", value}}}};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: nk_client_smoke KUBECONFIG\n");
    return 2;
  }
  auto config = loadKubeconfig(argv[1]);
  check(config.has_value(), "kubeconfig loads", config ? "" : config.error().message);
  if (!config) return 1;
  check(!config->caData.empty() && !config->certData.empty() && !config->keyData.empty(),
        "kubeconfig has embedded CA, certificate and key");
  ClientOptions options;
  options.requestTimeout = 20s;
  auto made = ApiClientImpl::create(*config, options);
  check(made.has_value(), "client created", made ? "" : made.error().message);
  if (!made) return 1;
  ApiClientImpl& client = **made;

  std::string ns = fmt::format("client-smoke-{}", std::random_device{}() % 1000000);
  auto nsCreated = client.create("/api/v1/namespaces", Json{{"apiVersion", "v1"},
                                                            {"kind", "Namespace"},
                                                            {"metadata", {{"name", ns}}}});
  check(nsCreated.has_value(), "create namespace", errText(nsCreated));
  if (!nsCreated) {
    std::printf("FAIL: the server is not usable\n");
    return 1;
  }
  std::string cms = apiPath("v1", "configmaps", ns);

  // Watch the namespace's config maps from before anything is created in it.
  Recorder rec;
  WatchQuery fromNamespace;
  fromNamespace.resourceVersion = nsCreated ? (*nsCreated)["metadata"].value("resourceVersion", "") : "";
  fromNamespace.allowWatchBookmarks = true;
  auto w = client.watch(cms, fromNamespace, [&](std::string_view type, const Json& obj) { rec.add(type, obj); });
  check(w.has_value(), "watch started", errText(w));

  auto created = client.create(cms, configMap("one", "1"));
  check(created && (*created)["metadata"].value("uid", "") != "", "create configmap", errText(created));
  auto got = client.get(cms + "/one");
  check(got && (*got)["data"]["k"] == "1", "get configmap", errText(got));

  auto dup = client.create(cms, configMap("one", "1"));
  check(!dup && dup.error().code == Code::kAlreadyExists &&
            dup.error().message == "configmaps \"one\" already exists" && dup.error().details["name"] == "one",
        "create twice is AlreadyExists with the server's message and details", errText(dup));
  auto missing = client.get(cms + "/nope");
  check(!missing && missing.error().code == Code::kNotFound && missing.error().message == "configmaps \"nope\" not found",
        "get missing is NotFound", errText(missing));

  auto merged = client.patch(cms + "/one", PatchType::kMerge, Json{{"data", {{"m", "merge"}}}});
  check(merged && (*merged)["data"]["m"] == "merge" && (*merged)["data"]["k"] == "1", "merge patch", errText(merged));
  auto strategic = client.patch(cms + "/one", PatchType::kStrategic, Json{{"metadata", {{"labels", {{"s", "yes"}}}}}});
  check(strategic && (*strategic)["metadata"]["labels"]["s"] == "yes" && (*strategic)["metadata"]["labels"]["app"] == "smoke",
        "strategic merge patch", errText(strategic));
  auto jsonPatched = client.patch(cms + "/one", PatchType::kJson,
                                  Json::array({{{"op", "replace"}, {"path", "/data/k"}, {"value", "j"}}}));
  check(jsonPatched && (*jsonPatched)["data"]["k"] == "j", "json patch", errText(jsonPatched));
  auto badPatch = client.patch(cms + "/one", PatchType::kJson,
                               Json::array({{{"op", "test"}, {"path", "/data/k"}, {"value", "other"}}}));
  check(!badPatch && badPatch.error().code != Code::kInternal && !badPatch.error().message.empty(),
        "failing json patch test op is an error", errText(badPatch));

  if (got) {
    Json stale = *got;  // still carries the resourceVersion from before the patches
    stale["data"]["k"] = "stale";
    auto conflict = client.update(cms + "/one", stale);
    check(!conflict && conflict.error().code == Code::kConflict, "update with a stale resourceVersion is Conflict",
          errText(conflict));
  }
  if (jsonPatched) {
    Json fresh = *jsonPatched;
    fresh["data"]["k"] = "updated";
    auto updated = client.update(cms + "/one", fresh);
    check(updated && (*updated)["data"]["k"] == "updated", "update", errText(updated));
  }
  auto invalid = client.create(cms, Json{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "Bad_Name"}}}});
  check(!invalid && invalid.error().code == Code::kInvalid && invalid.error().details.contains("causes"),
        "invalid name is Invalid with causes", errText(invalid));

  client.create(cms, configMap("two", "2", "other"));
  auto listed = client.list(cms, {{"labelSelector", "app=smoke"}});
  check(listed && (*listed)["items"].size() == 1 && (*listed)["items"][0]["metadata"]["name"] == "one" &&
            !(*listed)["metadata"].value("resourceVersion", "").empty(),
        "list with a label selector", errText(listed));

  check(rec.waitFor("ADDED one") && rec.waitFor("MODIFIED one") && rec.waitFor("ADDED two"),
        "watch sees ADDED and MODIFIED", rec.dump());
  auto removed = client.remove(cms + "/two");
  check(removed.has_value(), "delete", errText(removed));
  check(rec.waitFor("DELETED two"), "watch sees DELETED", rec.dump());
  if (w) {
    auto t0 = std::chrono::steady_clock::now();
    w->reset();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    check(ms < 1000, "destroying a watch stops it promptly", fmt::format("{} ms", ms));
  }

  // A watch from a resourceVersion that is not a number is refused by the
  // server; that arrives through onEnd.
  {
    std::promise<Result<void>> ended;
    WatchQuery badRv;
    badRv.resourceVersion = "notanumber";
    auto bad = client.watch(cms, badRv, [](std::string_view, const Json&) {},
                            [&](const Result<void>& r) { ended.set_value(r); });
    auto f = ended.get_future();
    bool finished = f.wait_for(10s) == std::future_status::ready;
    auto r = finished ? f.get() : Result<void>{};
    check(finished && !r && r.error().code == Code::kBadRequest, "a refused watch ends with the server's error",
          finished ? errText(r) : "no end");
  }

  // Many threads over the pool: every call succeeds and connections are reused.
  {
    size_t before = client.connectionsOpened();
    std::atomic<int> bad{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 40; ++i) {
          if (!client.get(cms + "/one")) ++bad;
        }
      });
    }
    for (auto& t : threads) t.join();
    size_t opened = client.connectionsOpened() - before;
    check(bad == 0, "240 concurrent gets succeed", fmt::format("{} failed", bad.load()));
    check(opened <= 6, "the pool reuses connections", fmt::format("{} connections for 240 requests", opened));
  }

  // TLS and authentication failures.
  {
    ClientConfig wrongCa = *config;
    wrongCa.caData = config->certData;  // the admin certificate is no CA
    auto c = ApiClientImpl::create(wrongCa);
    auto r = c ? (*c)->get("/api/v1/namespaces/default") : Result<Json>(std::unexpected(c.error()));
    check(!r && r.error().code == Code::kUnavailable && r.error().message.find("certificate") != std::string::npos,
          "a server certificate from another CA is refused", errText(r));

    ClientConfig byName = *config;
    auto pos = byName.server.find("127.0.0.1");
    if (pos != std::string::npos) {
      byName.server.replace(pos, 9, "localhost");
      auto c2 = ApiClientImpl::create(byName);
      auto r2 = c2 ? (*c2)->get("/api/v1/namespaces/default") : Result<Json>(std::unexpected(c2.error()));
      check(r2.has_value(), "the server is verified by its DNS SAN (localhost)", errText(r2));
    }

    ClientConfig token = *config;
    token.certData.clear();
    token.keyData.clear();
    token.token = "not-a-valid-token";
    auto c3 = ApiClientImpl::create(token);
    auto r3 = c3 ? (*c3)->get("/api/v1/namespaces/default") : Result<Json>(std::unexpected(c3.error()));
    check(!r3 && r3.error().code == Code::kUnauthorized, "a bad bearer token is Unauthorized", errText(r3));
  }

  // Informer + work queue, as a controller uses them.
  {
    WorkQueue queue;
    InformerHandlers handlers;
    handlers.onAdd = [&](const std::string& key, const ObjectPtr&) { queue.add(key); };
    handlers.onUpdate = [&](const std::string& key, const ObjectPtr&, const ObjectPtr&) { queue.add(key); };
    handlers.onDelete = [&](const std::string& key, const ObjectPtr&) { queue.add(key); };
    InformerOptions io;
    io.path = cms;
    io.listPageSize = 1;  // pages through the list
    Informer informer(client, io, handlers);
    informer.start();
    check(informer.waitForSync(10s), "informer syncs");
    check(informer.get(ns + "/one") != nullptr && informer.size() == 1, "informer cache holds the listed object",
          fmt::format("{} objects", informer.size()));
    auto first = queue.get();
    check(first && *first == ns + "/one", "informer enqueued the listed key", first ? *first : "none");
    if (first) queue.done(*first);

    client.create(cms, configMap("three", "3"));
    auto next = queue.get();
    check(next && *next == ns + "/three" && informer.get(ns + "/three") != nullptr,
          "a created object reaches the cache and the queue", next ? *next : "none");
    if (next) queue.done(*next);
    auto snap = informer.snapshot();
    client.remove(cms + "/three");
    next = queue.get();
    check(next && *next == ns + "/three" && informer.get(ns + "/three") == nullptr,
          "a deleted object leaves the cache", next ? *next : "none");
    check(snap->contains(ns + "/three"), "an earlier snapshot is unchanged");
    informer.stop();
    queue.shutDown();
  }

  client.remove("/api/v1/namespaces/" + ns);
  std::printf("%s: %d failed\n", failures ? "FAIL" : "PASS", failures);
  return failures ? 1 : 0;
}
