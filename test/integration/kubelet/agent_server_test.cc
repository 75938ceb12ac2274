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

#include "apiserver/pki.h"
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
                  std::optional<std::string> resize = std::nullopt) {
    ssl::context ctx = clientContext(pki_.kubeletClientCert, pki_.kubeletClientKey);
    net::io_context ioc;
    websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws(ioc, ctx);
    beast::get_lowest_layer(ws).connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server_->port()));
    beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(30));
    ws.next_layer().handshake(ssl::stream_base::client);
    ws.set_option(websocket::stream_base::decorator(
        [](websocket::request_type& r) { r.set(http::field::sec_websocket_protocol, "v5.channel.k8s.io"); }));
    websocket::response_type res;
    ws.handshake(res, "127.0.0.1", "/exec/default/p/" + query);
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

}  // namespace
}  // namespace nanokube::kubelet::runtime
