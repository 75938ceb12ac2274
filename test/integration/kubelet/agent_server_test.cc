// The agent's HTTPS endpoint against real runc containers: exec over
// WebSocket (v5.channel.k8s.io), logs with tail, limit and follow, and the
// client-certificate checks. Root; see runtime_fixture.h for the set-up.

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "apiserver/handler.h"
#include "apiserver/http_server.h"
#include "apiserver/pki.h"
#include "apiserver/registry.h"
#include "common/time.h"
#include "store/store.h"
#include "kubelet/server/agent_server.h"
#include "runtime_fixture.h"

namespace nanokube::kubelet::runtime {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

// Containers by name, with "running" asked of runc at every lookup.
class TestLookup : public ContainerLookup {
 public:
  explicit TestLookup(Containers& c) : containers_(c) {}
  void add(const std::string& name, std::string id, std::filesystem::path log) {
    std::lock_guard l(mu_);
    entries_[name] = {std::move(id), std::move(log)};
  }
  Result<ContainerTarget> find(const std::string& ns, const std::string& pod, const std::string& container,
                               bool previous) override {
    std::lock_guard l(mu_);
    if (previous) {
      return fail(Code::kBadRequest,
                  "previous terminated container \"" + container + "\" in pod \"" + pod + "\" not found");
    }
    auto it = entries_.find(container);
    if (ns != "default" || it == entries_.end()) {
      return fail(Code::kBadRequest, "container " + container + " is not valid for pod " + pod);
    }
    auto st = containers_.status(it->second.first);
    bool running = st && st->status == Status::kRunning;
    return ContainerTarget{it->second.first, running, it->second.second};
  }

 private:
  Containers& containers_;
  std::mutex mu_;
  std::map<std::string, std::pair<std::string, std::filesystem::path>> entries_;
};

struct ExecResult {
  std::map<int, std::string> channels;
  Json status;
};

class AgentServerTest : public RuntimeFixture {
 protected:
  void SetUp() override {
    RuntimeFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto pki = apiserver::ensurePki((dir_ / "pki").string(), {"127.0.0.1"}, {"localhost"});
    ASSERT_TRUE(pki) << pki.error().message;
    pki_ = *pki;
    std::string cert = (dir_ / "pki" / "agent.crt").string(), key = (dir_ / "pki" / "agent.key").string();
    auto s = apiserver::issueServingCert(pki_, "node-1", {"127.0.0.1"}, {"localhost"}, cert, key);
    ASSERT_TRUE(s) << s.error().message;
    auto sandbox = sandboxes_->create(podConfig("p"));
    ASSERT_TRUE(sandbox) << sandbox.error().message;
    sandbox_ = *sandbox;
    lookup_ = std::make_unique<TestLookup>(*containers_);
    AgentServerOptions o;
    o.address = "127.0.0.1";
    o.port = 0;
    o.certFile = cert;
    o.keyFile = key;
    o.clientCaFile = pki_.caCert;
    o.runcRoot = options_.dataDir / "runc";
    server_ = std::make_unique<AgentServer>(o, *lookup_);
    auto started = server_->start();
    ASSERT_TRUE(started) << started.error().message;
  }

  void TearDown() override {
    if (server_) server_->stop();
    server_.reset();
    RuntimeFixture::TearDown();
  }

  std::string start(const std::string& name, std::vector<std::string> command) {
    ContainerSpec spec = busybox(name, std::move(command));
    std::string id = runContainer(sandbox_, spec);
    lookup_->add(name, id, spec.logPath);
    return id;
  }

  ssl::context clientContext(const std::string& cert, const std::string& key) {
    ssl::context ctx(ssl::context::tls_client);
    ctx.load_verify_file(pki_.caCert);
    ctx.set_verify_mode(ssl::verify_peer);
    if (!cert.empty()) {
      ctx.use_certificate_chain_file(cert);
      ctx.use_private_key_file(key, ssl::context::pem);
    }
    return ctx;
  }

  // A GET answered in full: {status, body}.
  std::pair<int, std::string> get(const std::string& target, bool withCert = true, std::string cert = "",
                                  std::string key = "") {
    if (withCert && cert.empty()) cert = pki_.kubeletClientCert, key = pki_.kubeletClientKey;
    ssl::context ctx = clientContext(withCert ? cert : "", key);
    net::io_context ioc;
    beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
    beast::get_lowest_layer(stream).connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server_->port()));
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
    stream.handshake(ssl::stream_base::client);
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, "127.0.0.1");
    http::write(stream, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    beast::error_code ec;
    http::read(stream, buf, res, ec);
    EXPECT_FALSE(ec) << ec.message();
    return {res.result_int(), res.body()};
  }

  ExecResult exec(const std::string& query, const std::string& input = "", bool closeStdin = false,
                  std::optional<std::string> resize = std::nullopt, uint16_t port = 0,
                  std::string prefix = "/exec/default/p/") {
    ssl::context ctx = clientContext(pki_.kubeletClientCert, pki_.kubeletClientKey);
    net::io_context ioc;
    websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws(ioc, ctx);
    beast::get_lowest_layer(ws).connect(
        tcp::endpoint(net::ip::make_address("127.0.0.1"), port ? port : server_->port()));
    beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(30));
    ws.next_layer().handshake(ssl::stream_base::client);
    ws.set_option(websocket::stream_base::decorator(
        [](websocket::request_type& r) { r.set(http::field::sec_websocket_protocol, "v5.channel.k8s.io"); }));
    websocket::response_type res;
    ws.handshake(res, "127.0.0.1", prefix + query);
    EXPECT_EQ(res[http::field::sec_websocket_protocol], "v5.channel.k8s.io");
    ws.binary(true);
    if (resize) ws.write(net::buffer(std::string("\x04") + *resize));
    if (!input.empty()) ws.write(net::buffer(std::string(1, '\0') + input));
    if (closeStdin) ws.write(net::buffer(std::string("\xff\x00", 2)));
    ExecResult out;
    for (;;) {
      beast::flat_buffer buf;
      beast::error_code ec;
      ws.read(buf, ec);
      if (ec) break;
      std::string msg = beast::buffers_to_string(buf.data());
      if (msg.empty()) continue;
      int channel = static_cast<unsigned char>(msg[0]);
      out.channels[channel] += msg.substr(1);
      if (channel == 3) out.status = Json::parse(msg.substr(1), nullptr, false);
    }
    return out;
  }

  apiserver::Pki pki_;
  Sandbox sandbox_;
  std::unique_ptr<TestLookup> lookup_;
  std::unique_ptr<AgentServer> server_;
};

TEST_F(AgentServerTest, ExecOutputsAndExitCodes) {
  start("app", {"sleep", "1000"});
  auto hi = exec("app?command=echo&command=hi&stdout=true&stderr=true");
  EXPECT_EQ(hi.channels[1], "hi\n");
  EXPECT_EQ(hi.status, Json::parse(R"({"metadata":{},"status":"Success"})"));

  auto three = exec("app?command=sh&command=-c&command=echo%20oops%201%3E%262%3B%20exit%203&stdout=true&stderr=true");
  EXPECT_EQ(three.channels[2], "oops\n");
  EXPECT_EQ(three.status.value("reason", ""), "NonZeroExitCode");
  EXPECT_EQ(three.status["details"]["causes"][0]["reason"], "ExitCode");
  EXPECT_EQ(three.status["details"]["causes"][0]["message"], "3");

  // runc's own error on stderr, and the shell's exit code for a missing command.
  auto missing = exec("app?command=nope&stdout=true&stderr=true");
  EXPECT_NE(missing.channels[2].find("executable file not found"), std::string::npos) << missing.channels[2];
  EXPECT_EQ(missing.status["details"]["causes"][0]["message"], "127") << missing.status.dump();

  auto killed = exec("app?command=sh&command=-c&command=kill%20-9%20%24%24&stdout=true");
  EXPECT_EQ(killed.status["details"]["causes"][0]["message"], "137") << killed.status.dump();
}

TEST_F(AgentServerTest, ExecStdinThroughCat) {
  start("app", {"sleep", "1000"});
  auto r = exec("app?command=cat&stdin=true&stdout=true&stderr=true", "hello\nworld\n", true);
  EXPECT_EQ(r.channels[1], "hello\nworld\n");
  EXPECT_EQ(r.status.value("status", ""), "Success");
}

TEST_F(AgentServerTest, ExecWithTerminal) {
  start("app", {"sleep", "1000"});
  auto r = exec("app?command=sh&command=-c&command=sleep%200.5%3B%20stty%20size%3B%20exit%205&stdin=true&stdout=true&tty=true",
                "", false, R"({"Width":100,"Height":30})");
  EXPECT_NE(r.channels[1].find("30 100"), std::string::npos) << r.channels[1];
  EXPECT_EQ(r.status["details"]["causes"][0]["message"], "5") << r.status.dump();

  auto missing = exec("app?command=nope&stdin=true&stdout=true&tty=true");
  EXPECT_NE(missing.channels[1].find("executable file not found"), std::string::npos) << missing.channels[1];
  EXPECT_EQ(missing.status["details"]["causes"][0]["message"], "127") << missing.status.dump();
}

TEST_F(AgentServerTest, LogsWithTailLimitAndPrevious) {
  std::string id = start("printer", {"sh", "-c", "for i in 1 2 3 4 5; do echo line$i; done"});
  ASSERT_TRUE(containers_->wait(id, std::chrono::seconds(10)));
  auto all = get("/containerLogs/default/p/printer");
  EXPECT_EQ(all.first, 200);
  EXPECT_EQ(all.second, "line1\nline2\nline3\nline4\nline5\n");
  EXPECT_EQ(get("/containerLogs/default/p/printer?tailLines=2").second, "line4\nline5\n");
  EXPECT_EQ(get("/containerLogs/default/p/printer?limitBytes=3").second, "lin");
  auto previous = get("/containerLogs/default/p/printer?previous=true");
  EXPECT_EQ(previous.first, 400);
  EXPECT_EQ(Json::parse(previous.second)["message"],
            "previous terminated container \"printer\" in pod \"p\" not found");
  auto ts = get("/containerLogs/default/p/printer?timestamps=true");
  EXPECT_EQ(ts.first, 400);
  EXPECT_NE(ts.second.find("not implemented"), std::string::npos);
  EXPECT_EQ(get("/containerLogs/default/p/nope").first, 400);
  EXPECT_EQ(get("/nothing/here").first, 404);
}

TEST_F(AgentServerTest, LogsFollowUntilTheContainerEnds) {
  start("ticker", {"sh", "-c", "for i in 1 2 3 4; do echo tick$i; sleep 0.4; done"});
  auto began = std::chrono::steady_clock::now();
  auto r = get("/containerLogs/default/p/ticker?follow=true");
  EXPECT_EQ(r.first, 200);
  EXPECT_EQ(r.second, "tick1\ntick2\ntick3\ntick4\n");
  EXPECT_GE(std::chrono::steady_clock::now() - began, std::chrono::milliseconds(1000));
}

TEST_F(AgentServerTest, ClientCertificatesChecked) {
  start("app", {"sleep", "1000"});
  auto none = get("/containerLogs/default/p/app", false);
  EXPECT_EQ(none.first, 401);
  std::string cert = (dir_ / "pki" / "node.crt").string(), key = (dir_ / "pki" / "node.key").string();
  ASSERT_TRUE(apiserver::issueClientCert(pki_, "system:node:node-1", "system:nodes", cert, key));
  EXPECT_EQ(get("/containerLogs/default/p/app", true, cert, key).first, 403);
  EXPECT_EQ(get("/containerLogs/default/p/app", true, pki_.adminCert, pki_.adminKey).first, 200);
  EXPECT_EQ(get("/containerLogs/default/p/app").first, 200);
}

// The whole path below kubectl: a real API server (in process) proxies
// pods/exec and pods/log to this agent, found through its Node object; then the
// real kubectl against it.
TEST_F(AgentServerTest, ThroughTheApiServerAndKubectl) {
  start("app", {"sleep", "1000"});
  std::string printer = start("printer", {"sh", "-c", "echo first; echo second"});
  ASSERT_TRUE(containers_->wait(printer, std::chrono::seconds(10)));
  start("ticker", {"sh", "-c", "sleep 1; for i in 1 2 3; do echo tick$i; sleep 0.3; done"});

  auto store = store::openSqliteStore((dir_ / "store.db").string());
  ASSERT_TRUE(store);
  auto registry = apiserver::Registry::create(**store, {}, systemNow);
  ASSERT_TRUE(registry);
  ASSERT_TRUE((*registry)->bootstrap());
  apiserver::Handler handler(**registry, "127.0.0.1:0");
  net::io_context apiIoc;
  apiserver::HttpServer http(apiIoc, handler, pki_);
  ASSERT_TRUE(http.start("127.0.0.1", 0));
  std::thread apiThread([&] { apiIoc.run(); });
  struct Stop {
    net::io_context& ioc;
    apiserver::HttpServer& http;
    std::thread& t;
    ~Stop() {
      http.stop();
      ioc.stop();
      t.join();
    }
  } stop{apiIoc, http, apiThread};

  const auto* nodes = api::findResource("", "v1", "nodes");
  const auto* pods = api::findResource("", "v1", "pods");
  Json node = {{"apiVersion", "v1"},
               {"kind", "Node"},
               {"metadata", {{"name", "node-1"}}},
               {"status",
                {{"addresses", Json::array({{{"type", "InternalIP"}, {"address", "127.0.0.1"}}})},
                 {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", server_->port()}}}}}}}};
  auto created = (*registry)->create(*nodes, "", node, {});
  ASSERT_TRUE(created) << created.error().message;
  Json withStatus = created->object;
  withStatus["status"] = node["status"];
  ASSERT_TRUE((*registry)->update(*nodes, "", "node-1", withStatus, {}, "status"));
  Json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "p"}}},
              {"spec",
               {{"nodeName", "node-1"},
                {"containers", Json::array({{{"name", "app"}, {"image", "busybox"}},
                                            {{"name", "printer"}, {"image", "busybox"}},
                                            {{"name", "ticker"}, {"image", "busybox"}}})}}}};
  auto p = (*registry)->create(*pods, "default", pod, {});
  ASSERT_TRUE(p) << p.error().message;

  // A WebSocket client through the API server, with the admin's certificate.
  std::string certs[2] = {pki_.kubeletClientCert, pki_.kubeletClientKey};
  pki_.kubeletClientCert = pki_.adminCert;
  pki_.kubeletClientKey = pki_.adminKey;
  auto hi = exec("exec?command=echo&command=hi&container=app&stderr=true&stdout=true", "", false, std::nullopt,
                 static_cast<uint16_t>(http.port()), "/api/v1/namespaces/default/pods/p/");
  pki_.kubeletClientCert = certs[0];
  pki_.kubeletClientKey = certs[1];
  EXPECT_EQ(hi.channels[1], "hi\n");
  EXPECT_EQ(hi.status.value("status", ""), "Success");

  // The real kubectl.
  std::string kubeconfig = (dir_ / "kubeconfig").string();
  ASSERT_TRUE(apiserver::writeKubeconfig(kubeconfig, "https://127.0.0.1:" + std::to_string(http.port()), pki_,
                                         "nanokube"));
  auto kubectl = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {"kubectl", "--kubeconfig", kubeconfig, "--cache-dir", (dir_ / "kcache").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = runProcess(argv);
    EXPECT_TRUE(r);
    return r ? *r : ProcessResult{-1, "", ""};
  };
  auto echo = kubectl({"exec", "p", "-c", "app", "--", "sh", "-c", "echo out; echo err >&2; exit 4"});
  EXPECT_EQ(echo.exitCode, 4) << echo.err;
  EXPECT_EQ(echo.out, "out\n");
  EXPECT_NE(echo.err.find("err\n"), std::string::npos) << echo.err;
  EXPECT_NE(echo.err.find("command terminated with exit code 4"), std::string::npos) << echo.err;
  auto missing = kubectl({"exec", "p", "-c", "app", "--", "nope"});
  EXPECT_EQ(missing.exitCode, 127) << missing.err;
  auto logs = kubectl({"logs", "p", "-c", "printer"});
  EXPECT_EQ(logs.exitCode, 0) << logs.err;
  EXPECT_EQ(logs.out, "first\nsecond\n");
  auto tail = kubectl({"logs", "p", "-c", "printer", "--tail=1"});
  EXPECT_EQ(tail.out, "second\n");
  auto follow = kubectl({"logs", "-f", "p", "-c", "ticker"});
  EXPECT_EQ(follow.exitCode, 0) << follow.err;
  EXPECT_EQ(follow.out, "tick1\ntick2\ntick3\n");
  auto noContainer = kubectl({"logs", "p", "-c", "nope"});
  EXPECT_NE(noContainer.exitCode, 0);
  EXPECT_NE(noContainer.err.find("container nope is not valid for pod p"), std::string::npos) << noContainer.err;
  auto input = runProcess({"sh", "-c",
                           "printf 'a\\nb\\n' | kubectl --kubeconfig " + kubeconfig + " --cache-dir " +
                               (dir_ / "kcache").string() + " exec -i p -c app -- cat"});
  ASSERT_TRUE(input);
  EXPECT_EQ(input->out, "a\nb\n") << input->err;
}

}  // namespace
}  // namespace nanokube::kubelet::runtime
