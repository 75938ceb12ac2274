// Load generator for the API server: pod create, get, list and watch fan-out,
// each printed beside a baseline measured in the same run, because the machine
// is shared and absolute figures drift from one minute to the next.
//
// Baselines: /healthz over the same TLS keep-alive connections for request
// throughput and latency (what the transport alone costs), and a raw SQLite
// insert loop with the store's pragmas and row size for creates (what durable
// storage alone costs).
//
// Every connection is a blocking Beast client on its own thread: with a handful
// of connections that is the simplest way to keep the server's cores busy, and
// the baseline pays the same client overhead as the benchmark.

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sqlite3.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace nanokube::bench {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

struct Options {
  std::string host = "127.0.0.1";
  std::string port;
  std::string pkiDir;
  std::string scratchDir;  // for the SQLite baseline, on the data dir's filesystem
  int serverPid = 0;
  int connections = 4;
  int watchers = 100;
  int watchPods = 500;
  int listPods = 1000;
  int totalPods = 10000;
  double seconds = 5;  // per timed phase
};

double msSince(Clock::time_point start, Clock::time_point end) {
  return std::chrono::duration<double, std::milli>(end - start).count();
}

// Latencies of one phase and its wall time; the figures every line prints.
struct Samples {
  std::vector<double> ms;
  double seconds = 0;
  size_t errors = 0;

  void merge(const Samples& other) {
    ms.insert(ms.end(), other.ms.begin(), other.ms.end());
    errors += other.errors;
  }
  double rate() const { return seconds > 0 ? static_cast<double>(ms.size()) / seconds : 0; }
  double percentile(double q) {
    if (ms.empty()) return 0;
    std::sort(ms.begin(), ms.end());
    size_t i = std::min(ms.size() - 1, static_cast<size_t>(q * static_cast<double>(ms.size())));
    return ms[i];
  }
};

struct Response {
  unsigned status = 0;
  std::string body;
};

// One TLS keep-alive connection authenticated with the admin client certificate.
class Client {
 public:
  Client(ssl::context& tls, const Options& options) : stream_(ioc_, tls), host_(options.host) {
    tcp::resolver resolver(ioc_);
    beast::get_lowest_layer(stream_).connect(resolver.resolve(options.host, options.port));
    // Requests are small and latency-bound; Nagle would hold a request's tail
    // back until the previous segment is acknowledged.
    beast::get_lowest_layer(stream_).socket().set_option(tcp::no_delay(true));
    stream_.handshake(ssl::stream_base::client);
  }

  Response request(http::verb verb, const std::string& target, std::string body = {}) {
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, host_);
    req.set(http::field::accept, "application/json");
    req.set(http::field::user_agent, "nk-apiserver-bench");
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    req.body() = std::move(body);
    req.keep_alive(true);
    req.prepare_payload();
    http::write(stream_, req);
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ull << 30);  // a list of 10,000 pods is tens of MB
    http::read(stream_, buffer_, parser);
    return {parser.get().result_int(), std::move(parser.get().body())};
  }

  // Sends a watch request and reads the response header; the body is then read
  // chunk by chunk with readEvents.
  unsigned startWatch(const std::string& target) {
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, host_);
    req.set(http::field::accept, "application/json");
    req.keep_alive(true);
    http::write(stream_, req);
    watch_.emplace();
    watch_->body_limit(boost::none);
    http::read_header(stream_, buffer_, *watch_);
    return watch_->get().result_int();
  }

  // Calls onLine with every complete line of the watch body until it returns
  // false or the stream ends (also when another thread calls abort()).
  template <typename OnLine>
  void readEvents(OnLine onLine) {
    std::string pending;
    bool more = true;
    // Beast keeps a reference to the callback, so it must outlive the reads.
    auto onChunk = [&](std::uint64_t, beast::string_view data, beast::error_code&) -> std::size_t {
      pending.append(data.data(), data.size());
      size_t start = 0;
      for (size_t nl; more && (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
        more = onLine(std::string_view(pending).substr(start, nl - start));
      }
      pending.erase(0, start);
      return data.size();
    };
    watch_->on_chunk_body(onChunk);
    beast::error_code ec;
    while (more && !ec && !watch_->is_done()) http::read_some(stream_, buffer_, *watch_, ec);
  }

  // Unblocks a thread sitting in readEvents; shutdown(2) on the descriptor is
  // safe from another thread, unlike closing the Asio socket.
  void abort() { ::shutdown(beast::get_lowest_layer(stream_).socket().native_handle(), SHUT_RDWR); }

 private:
  net::io_context ioc_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  std::string host_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::empty_body>> watch_;
};

std::unique_ptr<ssl::context> makeTls(const Options& options) {
  auto tls = std::make_unique<ssl::context>(ssl::context::tls_client);
  tls->load_verify_file(options.pkiDir + "/ca.crt");
  tls->use_certificate_chain_file(options.pkiDir + "/admin.crt");
  tls->use_private_key_file(options.pkiDir + "/admin.key", ssl::context::pem);
  tls->set_verify_mode(ssl::verify_peer);
  return tls;
}

// The seed pod (examples/seeds/onepod-multicontiner01.yaml: nginx with two
// containers) dressed as a controller-made pod would be, about 1 KB of JSON.
std::string podBody(const std::string& name, const std::string& ns) {
  auto container = [](const std::string& cname, const std::string& image, int port) {
    return Json{{"name", cname},
                {"image", image},
                {"imagePullPolicy", "IfNotPresent"},
                {"ports", {{{"name", "http"}, {"containerPort", port}, {"protocol", "TCP"}}}},
                {"env", {{{"name", "NGINX_PORT"}, {"value", std::to_string(port)}}, {{"name", "TIER"}, {"value", "web"}}}},
                {"resources",
                 {{"requests", {{"cpu", "100m"}, {"memory", "64Mi"}}}, {"limits", {{"cpu", "500m"}, {"memory", "128Mi"}}}}},
                {"readinessProbe", {{"httpGet", {{"path", "/"}, {"port", port}}}, {"periodSeconds", 10}}},
                {"volumeMounts", {{{"name", "html"}, {"mountPath", "/usr/share/nginx/html"}}}}};
  };
  Json pod = {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata",
       {{"name", name},
        {"namespace", ns},
        {"labels", {{"app", "nginx"}, {"tier", "web"}, {"release", "stable"}}},
        {"annotations", {{"nanokube.io/bench", "apiserver"}, {"kubernetes.io/description", "two nginx containers"}}}}},
      {"spec",
       {{"containers", {container("nginx1", "nginx:1.7.9", 80), container("nginx2", "nginx:1.8", 8080)}},
        {"volumes", {{{"name", "html"}, {"emptyDir", Json::object()}}}},
        {"restartPolicy", "Always"}}}};
  return pod.dump();
}

std::string podName(const std::string& prefix, int i) { return fmt::format("{}-{:06}", prefix, i); }

long rssKb(int pid) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

// Runs `body` on `connections` clients at once, each in a closed loop, until
// the deadline passes or `body` returns false. The TLS handshakes happen
// before the clock starts: keep-alive clients pay them once.
template <typename Body>
Samples closedLoop(ssl::context& tls, const Options& options, double seconds, Body body) {
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < options.connections; ++i) clients.push_back(std::make_unique<Client>(tls, options));
  std::vector<Samples> perThread(clients.size());
  std::vector<std::thread> threads;
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  for (size_t t = 0; t < clients.size(); ++t) {
    threads.emplace_back([&, t] {
      Samples& s = perThread[t];
      for (uint64_t n = 0; Clock::now() < deadline; ++n) {
        auto t0 = Clock::now();
        std::optional<Response> r = body(*clients[t], t, n);
        if (!r) break;
        s.ms.push_back(msSince(t0, Clock::now()));
        if (r->status >= 300) {
          if (s.errors++ == 0) fmt::print(stderr, "bench: HTTP {}: {}\n", r->status, r->body.substr(0, 300));
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  Samples all;
  all.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& s : perThread) all.merge(s);
  return all;
}

// Runs until `count` requests are done instead of a deadline.
template <typename Body>
Samples countedLoop(ssl::context& tls, const Options& options, int count, Body body) {
  std::atomic<int> next{0};
  return closedLoop(tls, options, 1e9, [&](Client& c, size_t, uint64_t) -> std::optional<Response> {
    int i = next.fetch_add(1);
    if (i >= count) return std::nullopt;
    return body(c, i);
  });
}

// Offers `rate` requests per second spread over the connections, each request
// at its scheduled time, for `seconds`. Latency runs from the scheduled time, not
// the send, so a stall counts against every request it delays (no coordinated
// omission). This is how the targets read: N requests/s at p99 <= 20 ms.
template <typename Body>
Samples pacedLoop(ssl::context& tls, const Options& options, double rate, double seconds, Body body) {
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < options.connections; ++i) clients.push_back(std::make_unique<Client>(tls, options));
  std::vector<Samples> perThread(clients.size());
  std::vector<std::thread> threads;
  const auto interval = std::chrono::duration<double>(static_cast<double>(clients.size()) / rate);
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  for (size_t t = 0; t < clients.size(); ++t) {
    threads.emplace_back([&, t] {
      Samples& s = perThread[t];
      auto offset = interval * (static_cast<double>(t) / static_cast<double>(clients.size()));
      for (uint64_t n = 0;; ++n) {
        auto due = start + std::chrono::duration_cast<Clock::duration>(offset + interval * static_cast<double>(n));
        if (due >= deadline) break;
        std::this_thread::sleep_until(due);
        std::optional<Response> r = body(*clients[t], t, n);
        if (!r) break;
        s.ms.push_back(msSince(due, Clock::now()));
        if (r->status >= 300) {
          if (s.errors++ == 0) fmt::print(stderr, "bench: HTTP {}: {}\n", r->status, r->body.substr(0, 300));
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  Samples all;
  all.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& s : perThread) all.merge(s);
  return all;
}

struct Row {
  std::string what;
  std::string figures;
  std::string baseline;
};
std::vector<Row> gTable;

std::string describe(Samples& s, const char* unit) {
  return fmt::format("{:.0f} {} p50 {:.2f} ms p99 {:.2f} ms", s.rate(), unit, s.percentile(0.5), s.percentile(0.99));
}

void report(const std::string& what, Samples& s, Samples& base, const std::string& baseName, const char* unit = "req/s") {
  std::string figures = describe(s, unit);
  std::string baseline = fmt::format("{:.3g}x of {} ({})", s.rate() / std::max(base.rate(), 1e-9), baseName,
                                     describe(base, baseName == "SQLite insert" ? "rows/s" : "req/s"));
  std::string errors = s.errors ? fmt::format(" [{} errors]", s.errors) : "";
  fmt::print("{}: {}{} ({})\n", what, figures, errors, baseline);
  std::fflush(stdout);
  gTable.push_back({what, figures + errors, baseline});
}

// A paced run against a target: the baseline is /healthz offered at the same rate.
void reportPaced(const std::string& what, Samples& s, Samples& base, double rate, double targetP99) {
  double p99 = s.percentile(0.99);
  bool met = s.errors == 0 && s.rate() >= rate * 0.95 && p99 <= targetP99;
  std::string figures = fmt::format("{} (target p99 <= {:.0f} ms: {})", describe(s, "req/s"), targetP99,
                                    met ? "met" : "MISSED");
  std::string errors = s.errors ? fmt::format(" [{} errors]", s.errors) : "";
  std::string baseline = fmt::format("/healthz at the same rate: p50 {:.2f} ms p99 {:.2f} ms", base.percentile(0.5),
                                     base.percentile(0.99));
  fmt::print("{}: {}{} ({})\n", what, figures, errors, baseline);
  std::fflush(stdout);
  gTable.push_back({what, figures + errors, baseline});
}

Samples healthz(ssl::context& tls, const Options& options, double seconds) {
  return closedLoop(tls, options, seconds, [](Client& c, size_t, uint64_t) -> std::optional<Response> {
    return c.request(http::verb::get, "/healthz");
  });
}

// The transport baseline is taken right before each request benchmark so that
// both see the same neighbours on the shared machine.
template <typename Body>
void timedVersusHealthz(const std::string& what, ssl::context& tls, const Options& options, Body body,
                        const char* unit = "req/s") {
  Samples base = healthz(tls, options, options.seconds / 2);
  Samples s = closedLoop(tls, options, options.seconds, body);
  report(what, s, base, "/healthz", unit);
}

Samples createPods(ssl::context& tls, const Options& options, const std::string& ns, const std::string& prefix,
                   int count) {
  return countedLoop(tls, options, count, [&](Client& c, int i) {
    return c.request(http::verb::post, fmt::format("/api/v1/namespaces/{}/pods", ns), podBody(podName(prefix, i), ns));
  });
}

// What durable storage alone costs: one autocommit INSERT per object, as a
// create is one acknowledged transaction, with the store's schema and pragmas.
Samples sqliteInserts(const Options& options, int count, const std::string& value) {
  std::string path = options.scratchDir + "/baseline.db";
  std::filesystem::remove(path);
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) throw std::runtime_error("sqlite3_open " + path);
  const char* schema =
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
      "CREATE TABLE kv (revision INTEGER PRIMARY KEY, key BLOB NOT NULL, create_revision INTEGER NOT NULL,"
      " prev_revision INTEGER NOT NULL, value BLOB NOT NULL, tombstone INTEGER NOT NULL);"
      "CREATE INDEX kv_key_revision ON kv (key, revision);";
  if (sqlite3_exec(db, schema, nullptr, nullptr, nullptr) != SQLITE_OK) throw std::runtime_error(sqlite3_errmsg(db));
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO kv VALUES (?1, ?2, ?1, 0, ?3, 0)", -1, &stmt, nullptr);
  Samples s;
  auto start = Clock::now();
  for (int i = 1; i <= count; ++i) {
    std::string key = "/registry/pods/bench/" + podName("sqlite", i);
    auto t0 = Clock::now();
    sqlite3_bind_int64(stmt, 1, i);
    sqlite3_bind_blob(stmt, 2, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
    sqlite3_bind_blob(stmt, 3, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
    if (sqlite3_step(stmt) != SQLITE_DONE) ++s.errors;
    sqlite3_reset(stmt);
    s.ms.push_back(msSince(t0, Clock::now()));
  }
  s.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  return s;
}

void benchCreate(const std::string& what, ssl::context& tls, const Options& options, const std::string& ns,
                 const std::string& prefix, int count) {
  Samples s = createPods(tls, options, ns, prefix, count);
  // The row the store writes is the defaulted object the server answers with.
  Client c(tls, options);
  std::string stored = c.request(http::verb::get, fmt::format("/api/v1/namespaces/{}/pods/{}", ns, podName(prefix, 0))).body;
  Samples base = sqliteInserts(options, std::min(count, 2000), stored);
  report(what, s, base, "SQLite insert");
}

// 100 watchers on one namespace; pods are created into it by the usual clients
// and each watcher notes when it reads every ADDED event. Delivery latency runs
// from the moment the creating client has its 201 to the watcher's read; an
// event that overtakes its own acknowledgement counts as 0.
void benchWatch(ssl::context& tls, const Options& options, const std::string& ns) {
  const int pods = options.watchPods;
  std::vector<std::atomic<int64_t>> ackedNs(pods);
  for (auto& a : ackedNs) a = 0;
  std::vector<std::unique_ptr<Client>> watchers;
  for (int i = 0; i < options.watchers; ++i) {
    watchers.push_back(std::make_unique<Client>(tls, options));
    unsigned status = watchers.back()->startWatch(fmt::format("/api/v1/namespaces/{}/pods?watch=true", ns));
    if (status != 200) throw std::runtime_error(fmt::format("watch answered {}", status));
  }
  struct Receipt {
    int index;
    Clock::time_point at;
  };
  std::vector<std::vector<Receipt>> receipts(watchers.size());
  std::vector<std::thread> threads;
  const std::string marker = "\"name\":\"w-";
  for (size_t w = 0; w < watchers.size(); ++w) {
    receipts[w].reserve(pods);
    threads.emplace_back([&, w] {
      watchers[w]->readEvents([&](std::string_view line) {
        auto now = Clock::now();
        if (line.find("\"type\":\"ADDED\"") == std::string_view::npos) return true;
        size_t at = line.find(marker);
        if (at == std::string_view::npos) return true;
        receipts[w].push_back({std::atoi(line.data() + at + marker.size()), now});
        return receipts[w].size() < static_cast<size_t>(pods);
      });
    });
  }
  auto start = Clock::now();
  Samples creates = countedLoop(tls, options, pods, [&](Client& c, int i) {
    Response r = c.request(http::verb::post, fmt::format("/api/v1/namespaces/{}/pods", ns), podBody(podName("w", i), ns));
    ackedNs[i] = (Clock::now() - start).count();
    return r;
  });
  // Give slow watchers a bounded time to catch up, then unblock them.
  auto giveUp = Clock::now() + std::chrono::seconds(30);
  std::thread stopper([&] {
    while (Clock::now() < giveUp) {
      bool all = true;
      for (auto& r : receipts) all = all && r.size() >= static_cast<size_t>(pods);
      if (all) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (auto& w : watchers) w->abort();
  });
  for (auto& th : threads) th.join();
  stopper.join();

  Samples delivery;
  Clock::time_point last = start;
  size_t early = 0;
  for (auto& list : receipts) {
    for (auto& r : list) {
      if (r.index < 0 || r.index >= pods) continue;
      double ms = (static_cast<double>((r.at - start).count()) - static_cast<double>(ackedNs[r.index])) / 1e6;
      if (ms < 0) ++early;
      delivery.ms.push_back(std::max(ms, 0.0));
      last = std::max(last, r.at);
    }
  }
  size_t expected = static_cast<size_t>(pods) * watchers.size();
  delivery.errors = expected - delivery.ms.size();
  delivery.seconds = std::chrono::duration<double>(last - start).count();
  Samples base = healthz(tls, options, options.seconds / 2);
  fmt::print("watch: {} watchers, {} pods created at {:.0f}/s; {} of {} events delivered, {} before their create's ack\n",
             watchers.size(), pods, creates.rate(), delivery.ms.size(), expected, early);
  report(fmt::format("watch fan-out ({} watchers), create-ack to receipt", watchers.size()), delivery, base,
         "/healthz", "events/s");
  report(fmt::format("create pod while {} watch", watchers.size()), creates, base, "/healthz");
}

void createNamespace(Client& c, const std::string& name) {
  Json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
  Response r = c.request(http::verb::post, "/api/v1/namespaces", ns.dump());
  if (r.status != 201 && r.status != 409) throw std::runtime_error(fmt::format("create namespace {}: {}", name, r.status));
}

void benchGetAndList(const std::string& suffix, ssl::context& tls, const Options& options) {
  const int pods = options.listPods;
  std::vector<std::mt19937> rngs;
  for (int i = 0; i < options.connections; ++i) rngs.emplace_back(42 + i);
  timedVersusHealthz("GET pod" + suffix, tls, options, [&](Client& c, size_t t, uint64_t) -> std::optional<Response> {
    int i = static_cast<int>(rngs[t]() % static_cast<unsigned>(pods));
    return c.request(http::verb::get, "/api/v1/namespaces/bench-list/pods/" + podName("p", i));
  });
  const double getRate = 2000;
  Samples base = pacedLoop(tls, options, getRate, options.seconds / 2, [](Client& c, size_t, uint64_t) -> std::optional<Response> {
    return c.request(http::verb::get, "/healthz");
  });
  Samples paced = pacedLoop(tls, options, getRate, options.seconds, [&](Client& c, size_t t, uint64_t) -> std::optional<Response> {
    int i = static_cast<int>(rngs[t]() % static_cast<unsigned>(pods));
    return c.request(http::verb::get, "/api/v1/namespaces/bench-list/pods/" + podName("p", i));
  });
  reportPaced(fmt::format("GET pod at {:.0f}/s{}", getRate, suffix), paced, base, getRate, 20);
  timedVersusHealthz(fmt::format("LIST {} pods{}", pods, suffix), tls, options,
                     [&](Client& c, size_t, uint64_t) -> std::optional<Response> {
                       return c.request(http::verb::get, "/api/v1/namespaces/bench-list/pods");
                     });
}

void printTable(const Options& options, long idleKb, long fullKb) {
  fmt::print("\n| benchmark ({} connections) | figures | baseline in the same run |\n|---|---|---|\n",
             options.connections);
  for (const auto& r : gTable) fmt::print("| {} | {} | {} |\n", r.what, r.figures, r.baseline);
  fmt::print("| server RSS idle | {:.1f} MB | |\n", idleKb / 1024.0);
  fmt::print("| server RSS, {} pods stored | {:.1f} MB | |\n", options.totalPods, fullKb / 1024.0);
}

int run(const Options& options) {
  auto tls = makeTls(options);
  long idleKb = rssKb(options.serverPid);
  fmt::print("server RSS idle: {:.1f} MB (VmRSS of pid {})\n", idleKb / 1024.0, options.serverPid);
  {
    Client admin(*tls, options);
    for (const char* ns : {"bench-list", "bench-watch", "bench-fill"}) createNamespace(admin, ns);
  }
  // Warm the server's caches and the client's code paths before anything counts.
  healthz(*tls, options, 1);

  benchCreate(fmt::format("create pod (0 to {} stored)", options.listPods), *tls, options, "bench-list", "p",
              options.listPods);
  benchGetAndList(fmt::format(" ({} stored)", options.listPods), *tls, options);
  benchWatch(*tls, options, "bench-watch");

  const double createRate = 500;
  Samples base = pacedLoop(*tls, options, createRate, options.seconds / 2, [](Client& c, size_t, uint64_t) -> std::optional<Response> {
    return c.request(http::verb::get, "/healthz");
  });
  std::atomic<int> pacedCreates{0};
  Samples paced = pacedLoop(*tls, options, createRate, options.seconds, [&](Client& c, size_t, uint64_t) -> std::optional<Response> {
    return c.request(http::verb::post, "/api/v1/namespaces/bench-fill/pods",
                     podBody(podName("c", pacedCreates.fetch_add(1)), "bench-fill"));
  });
  reportPaced(fmt::format("create pod at {:.0f}/s", createRate), paced, base, createRate, 20);

  int fill = options.totalPods - options.listPods - options.watchPods - pacedCreates.load();
  benchCreate(fmt::format("create pod (to {} stored)", options.totalPods), *tls, options, "bench-fill", "f", fill);
  long fullKb = rssKb(options.serverPid);
  fmt::print("server RSS with {} pods stored: {:.1f} MB\n", options.totalPods, fullKb / 1024.0);
  benchGetAndList(fmt::format(" ({} stored)", options.totalPods), *tls, options);
  timedVersusHealthz(fmt::format("LIST all {} pods", options.totalPods), *tls, options,
                     [&](Client& c, size_t, uint64_t) -> std::optional<Response> {
                       return c.request(http::verb::get, "/api/v1/pods");
                     });
  printTable(options, idleKb, fullKb);
  size_t errors = 0;
  for (const auto& r : gTable) errors += r.figures.find("errors]") != std::string::npos;
  return errors ? 1 : 0;
}

Options parseOptions(int argc, char** argv) {
  Options o;
  std::map<std::string, std::string> kv;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    size_t eq = a.find('=');
    if (a.rfind("--", 0) != 0 || eq == std::string::npos) throw std::runtime_error("expected --name=value, got " + a);
    kv[a.substr(2, eq - 2)] = a.substr(eq + 1);
  }
  auto take = [&](const char* name, auto& field) {
    auto it = kv.find(name);
    if (it == kv.end()) return;
    if constexpr (std::is_same_v<std::decay_t<decltype(field)>, std::string>) field = it->second;
    else if constexpr (std::is_same_v<std::decay_t<decltype(field)>, double>) field = std::stod(it->second);
    else field = std::stoi(it->second);
    kv.erase(it);
  };
  take("host", o.host);
  take("port", o.port);
  take("pki", o.pkiDir);
  take("scratch", o.scratchDir);
  take("server-pid", o.serverPid);
  take("connections", o.connections);
  take("watchers", o.watchers);
  take("watch-pods", o.watchPods);
  take("list-pods", o.listPods);
  take("total-pods", o.totalPods);
  take("seconds", o.seconds);
  if (!kv.empty()) throw std::runtime_error("unknown option --" + kv.begin()->first);
  if (o.port.empty() || o.pkiDir.empty() || o.scratchDir.empty() || o.serverPid == 0) {
    throw std::runtime_error(
        "usage: nk_apiserver_bench --port=N --pki=DIR --scratch=DIR --server-pid=PID [--connections=4] "
        "[--watchers=100] [--watch-pods=500] [--list-pods=1000] [--total-pods=10000] [--seconds=5]");
  }
  return o;
}

}  // namespace nanokube::bench

int main(int argc, char** argv) {
  try {
    return nanokube::bench::run(nanokube::bench::parseOptions(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nk_apiserver_bench: %s\n", e.what());
    return 2;
  }
}
