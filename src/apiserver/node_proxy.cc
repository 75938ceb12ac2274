#include "apiserver/node_proxy.h"

#include <array>
#include <chrono>
#include <limits>
#include <memory>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/url.h"

namespace nanokube::apiserver {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using net::awaitable;
using net::use_awaitable;

namespace {


// Every container name of the pod: init, app, ephemeral (podutil.VisitContainers' order).
std::vector<std::string> containerNames(const Json& pod) {
  std::vector<std::string> names;
  const Json& spec = pod.contains("spec") ? pod["spec"] : Json::object();
  for (const char* field : {"initContainers", "containers", "ephemeralContainers"}) {
    if (!spec.contains(field) || !spec[field].is_array()) continue;
    for (const auto& c : spec[field]) {
      if (c.is_object() && c.contains("name") && c["name"].is_string()) names.push_back(c["name"]);
    }
  }
  return names;
}

// A wake-up on one strand (see the agent server's): notify() ends pending waits.
class Signal {
 public:
  explicit Signal(const net::any_io_executor& ex) : timer_(ex) {
    timer_.expires_at(net::steady_timer::time_point::max());
  }
  void notify() { timer_.cancel(); }
  awaitable<void> wait() {
    beast::error_code ec;
    co_await timer_.async_wait(net::redirect_error(use_awaitable, ec));
  }

 private:
  net::steady_timer timer_;
};

bool hopByHop(beast::string_view name, bool upgrade) {
  static constexpr const char* kDrop[] = {"host", "authorization", "content-length", "transfer-encoding",
                                               "keep-alive", "te", "trailer", "proxy-authorization",
                                               "proxy-connection", "impersonate-user", "impersonate-group"};
  for (auto d : kDrop) {
    if (beast::iequals(name, d)) return true;
  }
  if (!upgrade && (beast::iequals(name, "connection") || beast::iequals(name, "upgrade"))) return true;
  return false;
}

http::response<http::string_body> errorAnswer(const Error& error) {
  http::response<http::string_body> res{static_cast<http::status>(httpStatus(error.code)), 11};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-cache, private");
  res.body() = toStatus(error).dump(-1, ' ', false, Json::error_handler_t::replace);
  res.keep_alive(false);
  res.prepare_payload();
  return res;
}

// Copies bytes from one stream to the other until either side ends, then
// closes both connections (which ends the copy the other way).
template <class From, class To>
awaitable<void> pump(From& from, To& to, beast::flat_buffer& leftover, std::shared_ptr<Signal> done,
                     std::shared_ptr<int> running) {
  beast::error_code ec;
  if (leftover.size() > 0) {
    co_await net::async_write(to, leftover.data(), net::redirect_error(use_awaitable, ec));
    leftover.consume(leftover.size());
  }
  std::vector<char> buf(64 * 1024);
  while (!ec) {
    size_t n = co_await from.async_read_some(net::buffer(buf), net::redirect_error(use_awaitable, ec));
    if (n > 0) {
      beast::error_code wec;
      co_await net::async_write(to, net::buffer(buf.data(), n), net::redirect_error(use_awaitable, wec));
      if (wec) break;
    }
  }
  beast::get_lowest_layer(from).close();
  beast::get_lowest_layer(to).close();
  --*running;
  done->notify();
}

// A failure to reach the agent, as kube-apiserver's proxy reports it (500).
awaitable<void> writeError(NodeProxy::Stream& client, std::string message) {
  auto res = errorAnswer(Error{Code::kInternal, std::move(message)});
  beast::error_code ec;
  co_await http::async_write(client, res, net::redirect_error(use_awaitable, ec));
  beast::get_lowest_layer(client).close();
}

}  // namespace

Result<std::string> requestedContainer(const Json& pod, const std::string& container) {
  std::string name = pod["metadata"].value("name", "");
  std::vector<std::string> all = containerNames(pod);
  if (!container.empty()) {
    if (std::find(all.begin(), all.end(), container) == all.end()) {
      return fail(Code::kBadRequest, fmt::format("container {} is not valid for pod {}", container, name));
    }
    return container;
  }
  const Json& spec = pod.contains("spec") ? pod["spec"] : Json::object();
  const Json containers = spec.value("containers", Json::array());
  if (containers.is_array() && containers.size() == 1) return containers[0].value("name", "");
  if (!containers.is_array() || containers.empty()) {
    return fail(Code::kBadRequest, fmt::format("a container name must be specified for pod {}", name));
  }
  return fail(Code::kBadRequest, fmt::format("a container name must be specified for pod {}, choose one of: [{}]",
                                             name, fmt::join(all, " ")));
}

Result<std::pair<std::string, int>> kubeletEndpoint(const Json& node) {
  const Json status = node.value("status", Json::object());
  const Json addresses = status.value("addresses", Json::array());
  std::string host;
  for (const char* type : {"InternalIP", "ExternalIP", "Hostname"}) {
    for (const auto& a : addresses) {
      if (a.is_object() && a.value("type", "") == type && !a.value("address", "").empty()) {
        host = a.value("address", "");
        break;
      }
    }
    if (!host.empty()) break;
  }
  if (host.empty()) {
    return fail(Code::kInternal, fmt::format("no preferred addresses found for node {}; known addresses: {}",
                                             node["metadata"].value("name", ""), addresses.dump()));
  }
  int port = 10250;
  if (status.contains("daemonEndpoints") && status["daemonEndpoints"].is_object()) {
    const Json ke = status["daemonEndpoints"].value("kubeletEndpoint", Json::object());
    if (ke.is_object() && ke.contains("Port") && ke["Port"].is_number_integer() && ke["Port"].get<int>() > 0) {
      port = ke["Port"].get<int>();
    }
  }
  return std::make_pair(host, port);
}

std::string agentTarget(std::string_view subresource, const std::string& ns, const std::string& pod,
                        const std::string& container, const Query& query) {
  std::string out = fmt::format("/{}/{}/{}/{}", subresource == "log" ? "containerLogs" : "exec", percentEncode(ns),
                                percentEncode(pod), percentEncode(container));
  char sep = '?';
  for (const auto& [k, v] : query) {
    if (k == "container") continue;
    out += sep;
    out += percentEncode(k) + "=" + percentEncode(v);
    sep = '&';
  }
  return out;
}

NodeProxy::NodeProxy(const Pki& pki) : ctx_(ssl::context::tls_client) {
  try {
    if (pki.kubeletClientCert.empty() || pki.kubeletClientKey.empty()) {
      error_ = "the API server has no kubelet client certificate";
      return;
    }
    ctx_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    ctx_.load_verify_file(pki.caCert);
    ctx_.use_certificate_chain_file(pki.kubeletClientCert);
    ctx_.use_private_key_file(pki.kubeletClientKey, ssl::context::pem);
    ctx_.set_verify_mode(ssl::verify_peer);
  } catch (const std::exception& e) {
    error_ = fmt::format("loading the kubelet client certificate: {}", e.what());
  }
}

awaitable<void> NodeProxy::relay(Stream& client, beast::flat_buffer& clientBuffer, const Request& req,
                                 ProxyTarget target) {
  auto ex = co_await net::this_coro::executor;
  beast::error_code ec;
  std::string url = fmt::format("https://{}:{}{}", target.host, target.port, target.target);
  if (!error_.empty()) {
    std::string message = fmt::format("error dialing backend: {}", error_);
    co_await writeError(client, message);
    co_return;
  }

  Stream agent(ex, ctx_);
  agent.set_verify_callback(ssl::host_name_verification(target.host));
  beast::get_lowest_layer(agent).expires_after(std::chrono::seconds(10));
  tcp::resolver resolver(ex);
  auto endpoints = co_await resolver.async_resolve(target.host, std::to_string(target.port),
                                                   net::redirect_error(use_awaitable, ec));
  if (!ec) co_await beast::get_lowest_layer(agent).async_connect(endpoints, net::redirect_error(use_awaitable, ec));
  if (!ec) co_await agent.async_handshake(ssl::stream_base::client, net::redirect_error(use_awaitable, ec));
  if (ec) {
    std::string message = fmt::format("error dialing backend: {} {}: {}", std::string(req.method_string()), url, ec.message());
    co_await writeError(client, message);
    co_return;
  }

  bool upgrade = beast::iequals(req[http::field::upgrade], "websocket") ||
                 req.find(http::field::upgrade) != req.end();
  http::request<http::string_body> out{req.method(), target.target, 11};
  for (const auto& f : req) {
    if (!hopByHop(f.name_string(), upgrade)) out.insert(f.name_string(), f.value());
  }
  out.set(http::field::host, fmt::format("{}:{}", target.host, target.port));
  out.body() = req.body();
  out.prepare_payload();
  if (!upgrade) out.keep_alive(false);
  co_await http::async_write(agent, out, net::redirect_error(use_awaitable, ec));
  beast::flat_buffer agentBuffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit((std::numeric_limits<std::uint64_t>::max)());
  if (!ec) co_await http::async_read_header(agent, agentBuffer, parser, net::redirect_error(use_awaitable, ec));
  if (ec) {
    std::string message = fmt::format("error reading from backend: {} {}: {}", std::string(req.method_string()), url, ec.message());
    co_await writeError(client, message);
    co_return;
  }
  beast::get_lowest_layer(agent).expires_never();
  beast::get_lowest_layer(client).expires_never();

  auto& head = parser.get();
  auto done = std::make_shared<Signal>(ex);
  auto running = std::make_shared<int>(0);
  if (head.result() == http::status::switching_protocols) {
    http::response<http::empty_body> up{http::status::switching_protocols, 11};
    for (const auto& f : head) up.insert(f.name_string(), f.value());
    http::response_serializer<http::empty_body> sr{up};
    co_await http::async_write_header(client, sr, net::redirect_error(use_awaitable, ec));
    if (!ec) {
      *running = 1;
      net::co_spawn(ex, pump(agent, client, agentBuffer, done, running), net::detached);
      ++*running;
      co_await pump(client, agent, clientBuffer, done, running);
    }
  } else {
    http::response<http::empty_body> res{head.result(), 11};
    for (const auto& f : head) {
      if (!hopByHop(f.name_string(), false) && !beast::iequals(f.name_string(), "connection")) {
        res.insert(f.name_string(), f.value());
      }
    }
    res.chunked(true);
    res.keep_alive(false);
    http::response_serializer<http::empty_body> sr{res};
    co_await http::async_write_header(client, sr, net::redirect_error(use_awaitable, ec));
    // A read on the client notices it leaving while a followed log is idle:
    // closing the agent's connection then ends the relay.
    *running = 1;
    net::co_spawn(
        ex,
        [&client, &agent, done, running]() -> awaitable<void> {
          std::array<char, 512> scratch;
          beast::error_code e;
          while (!e) co_await client.async_read_some(net::buffer(scratch), net::redirect_error(use_awaitable, e));
          beast::get_lowest_layer(agent).close();
          --*running;
          done->notify();
        },
        net::detached);
    std::vector<char> buf(64 * 1024);
    while (!ec && !parser.is_done()) {
      parser.get().body().data = buf.data();
      parser.get().body().size = buf.size();
      co_await http::async_read(agent, agentBuffer, parser, net::redirect_error(use_awaitable, ec));
      if (ec == http::error::need_buffer) ec = {};
      if (ec) break;
      size_t n = buf.size() - parser.get().body().size;
      if (n == 0) continue;
      auto chunk = http::make_chunk(net::buffer(buf.data(), n));
      co_await net::async_write(client, chunk, net::redirect_error(use_awaitable, ec));
    }
    if (!ec) {
      auto last = http::make_chunk_last();
      co_await net::async_write(client, last, net::redirect_error(use_awaitable, ec));
    }
    beast::get_lowest_layer(client).close();
    beast::get_lowest_layer(agent).close();
  }
  while (*running > 0) co_await done->wait();
}

}  // namespace nanokube::apiserver
