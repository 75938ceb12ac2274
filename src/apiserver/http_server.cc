#include "apiserver/http_server.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <random>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "apiserver/node_proxy.h"

namespace nanokube::apiserver {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using net::awaitable;
using net::use_awaitable;
using Stream = beast::ssl_stream<beast::tcp_stream>;

namespace {

constexpr size_t kMaxBody = 3 * 1024 * 1024;
constexpr auto kIdleTimeout = std::chrono::minutes(5);
constexpr auto kBookmarkInterval = std::chrono::seconds(60);

// The user a verified client certificate names (its CN), or "" without one.
std::string peerUser(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return {};
  char cn[256] = "";
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
  return cn;
}

std::map<std::string, std::string> loadTokens(const std::string& path) {
  std::map<std::string, std::string> tokens;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    size_t a = line.find(',');
    if (a == std::string::npos) continue;
    size_t b = line.find(',', a + 1);
    tokens[line.substr(0, a)] = line.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
  }
  return tokens;
}

HttpRequest toRequest(const http::request<http::string_body>& msg, const std::string& user) {
  HttpRequest req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  for (const auto& field : msg) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req.headers[name] = std::string(field.value());
  }
  req.body = msg.body();
  req.user = user;
  return req;
}

}  // namespace

struct HttpServer::Impl {
  net::io_context& ioc;
  Handler& handler;
  Pki pki;
  ssl::context sslctx{ssl::context::tls_server};
  // The static tokens file, read again when it changed (`nanokube token create`
  // appends to it while the server runs).
  std::shared_mutex tokensMu;
  std::map<std::string, std::string> tokens;
  std::filesystem::file_time_type tokensMtime;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::mt19937 rng{std::random_device{}()};
  NodeProxy nodeProxy;

  Impl(net::io_context& io, Handler& h, const Pki& p) : ioc(io), handler(h), pki(p), nodeProxy(p) {}

  awaitable<void> acceptLoop() {
    for (;;) {
      beast::error_code ec;
      tcp::socket socket = co_await acceptor->async_accept(net::make_strand(ioc),
                                                           net::redirect_error(use_awaitable, ec));
      if (ec) {
        if (ec == net::error::operation_aborted) co_return;
        continue;
      }
      auto ex = socket.get_executor();
      net::co_spawn(ex, session(std::move(socket)), net::detached);
    }
  }

  std::optional<std::string> lookupToken(const std::string& token) {
    {
      std::shared_lock lock(tokensMu);
      if (auto t = tokens.find(token); t != tokens.end()) return t->second;
    }
    std::error_code ec;
    auto mtime = std::filesystem::last_write_time(pki.tokens, ec);
    std::unique_lock lock(tokensMu);
    if (ec || mtime == tokensMtime) return std::nullopt;
    tokens = loadTokens(pki.tokens);
    tokensMtime = mtime;
    if (auto t = tokens.find(token); t != tokens.end()) return t->second;
    return std::nullopt;
  }

  // The user a request acts as: the client certificate's, or a bearer token's.
  // A token that is present but unknown is rejected even when a certificate
  // would do, as Kubernetes' union authenticator fails on a bad token.
  std::string authenticate(const http::request<http::string_body>& msg, const std::string& certUser,
                           bool& badToken) {
    badToken = false;
    auto it = msg.find(http::field::authorization);
    if (it != msg.end()) {
      std::string value(it->value());
      if (value.rfind("Bearer ", 0) == 0) {
        std::string token = value.substr(7);
        if (auto user = lookupToken(token)) return *user;
        badToken = true;
        return {};
      }
    }
    return certUser;
  }

  awaitable<void> writeResponse(Stream& stream, const HttpResponse& resp, unsigned version, bool keepAlive,
                                bool head) {
    http::response<http::string_body> out{static_cast<http::status>(resp.status), version};
    out.set(http::field::content_type, resp.contentType);
    out.set(http::field::cache_control, "no-cache, private");
    for (const auto& [k, v] : resp.headers) {
      if (beast::iequals(k, "Cache-Control")) out.set(http::field::cache_control, v);
      else out.insert(k, v);
    }
    out.body() = head ? std::string() : resp.body;
    out.keep_alive(keepAlive);
    out.prepare_payload();
    if (head) out.content_length(resp.body.size());
    co_await http::async_write(stream, out, use_awaitable);
  }

  awaitable<void> streamWatch(Stream& stream, std::shared_ptr<WatchStream> watch, unsigned version) {
    beast::get_lowest_layer(stream).expires_never();
    http::response<http::empty_body> head{http::status::ok, version};
    head.set(http::field::content_type, watch->contentType);
    head.set(http::field::cache_control, "no-cache, private");
    head.chunked(true);
    http::response_serializer<http::empty_body> sr{head};
    co_await http::async_write_header(stream, sr, use_awaitable);

    auto ex = co_await net::this_coro::executor;
    auto wake = std::make_shared<net::steady_timer>(ex);
    watch->queue->setNotify([wake, ex] { net::post(ex, [wake] { wake->cancel(); }); });
    // A read alongside the writes notices a client that went away (EOF or an
    // error) while the watch is idle; the connection is not reused afterwards.
    // The handler outlives this frame (it completes with an error once the
    // connection is closed), so it shares its state and never re-arms after `done`.
    struct Reader {
      bool closed = false;
      bool done = false;
      std::array<char, 512> scratch;
    };
    auto reader = std::make_shared<Reader>();
    auto* s = &stream;
    auto onRead = std::make_shared<std::function<void(beast::error_code, size_t)>>();
    *onRead = [reader, wake, s, weak = std::weak_ptr(onRead)](beast::error_code ec, size_t) {
      if (ec) {
        reader->closed = true;
        wake->cancel();
        return;
      }
      auto self = weak.lock();
      if (reader->done || !self) return;
      s->async_read_some(net::buffer(reader->scratch), [self](beast::error_code e, size_t n) { (*self)(e, n); });
    };
    stream.async_read_some(net::buffer(reader->scratch), [onRead](beast::error_code e, size_t n) { (*onRead)(e, n); });
    auto closed = std::shared_ptr<bool>(reader, &reader->closed);
    // Without timeoutSeconds Kubernetes ends a watch after a random 30-60 minutes
    // (min-request-timeout 1800s), so that clients rebalance.
    int seconds = watch->timeoutSeconds > 0 ? watch->timeoutSeconds : 1800 + static_cast<int>(rng() % 1800);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    auto nextBookmark = std::chrono::steady_clock::now() + kBookmarkInterval;
    for (;;) {
      std::vector<std::string> lines = watch->queue->drain();
      if (!lines.empty()) {
        std::string batch;
        for (auto& l : lines) batch += l;
        co_await net::async_write(stream, http::make_chunk(net::buffer(batch)), use_awaitable);
        continue;
      }
      if (watch->endAfterQueued || *closed) break;
      auto now = std::chrono::steady_clock::now();
      if (now >= deadline) break;
      if (watch->bookmark && now >= nextBookmark) {
        std::string line = watch->bookmark();
        co_await net::async_write(stream, http::make_chunk(net::buffer(line)), use_awaitable);
        nextBookmark = now + kBookmarkInterval;
        continue;
      }
      wake->expires_at(watch->bookmark ? std::min(deadline, nextBookmark) : deadline);
      beast::error_code ec;
      co_await wake->async_wait(net::redirect_error(use_awaitable, ec));
    }
    watch->queue->setNotify(nullptr);
    reader->done = true;
    if (*closed) throw beast::system_error(net::error::eof);
    co_await net::async_write(stream, http::make_chunk_last(), use_awaitable);
  }

  awaitable<void> session(tcp::socket socket) {
    Stream stream(std::move(socket), sslctx);
    try {
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
      co_await stream.async_handshake(ssl::stream_base::server, use_awaitable);
      std::string certUser = peerUser(stream.native_handle());
      beast::flat_buffer buffer;
      for (;;) {
        beast::get_lowest_layer(stream).expires_after(kIdleTimeout);
        http::request_parser<http::string_body> parser;
        parser.body_limit(kMaxBody);
        beast::error_code ec;
        co_await http::async_read(stream, buffer, parser, net::redirect_error(use_awaitable, ec));
        if (ec == http::error::body_limit) {
          HttpResponse resp = errorResponse(
              Error{Code::kRequestEntityTooLarge, fmt::format("Request entity too large: limit is {}", kMaxBody)});
          co_await writeResponse(stream, resp, 11, false, false);
          break;
        }
        if (ec) break;
        auto msg = parser.release();
        bool badToken = false;
        std::string user = authenticate(msg, certUser, badToken);
        HandlerResult result;
        if (badToken) {
          result = errorResponse(Error{Code::kUnauthorized, "Unauthorized"});
        } else {
          result = handler.handle(toRequest(msg, user));
        }
        if (auto* proxy = std::get_if<std::shared_ptr<ProxyTarget>>(&result)) {
          // The connection belongs to the relay from here on; it closes it.
          ProxyTarget target = **proxy;
          co_await nodeProxy.relay(stream, buffer, msg, std::move(target));
          co_return;
        }
        if (auto* watch = std::get_if<std::shared_ptr<WatchStream>>(&result)) {
          co_await streamWatch(stream, *watch, msg.version());
          break;
        }
        bool keepAlive = msg.keep_alive();
        co_await writeResponse(stream, std::get<HttpResponse>(result), msg.version(), keepAlive,
                               msg.method() == http::verb::head);
        if (!keepAlive) break;
      }
      beast::error_code ec;
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
      co_await stream.async_shutdown(net::redirect_error(use_awaitable, ec));
    } catch (const std::exception& e) {
      spdlog::debug("connection ended: {}", e.what());
    }
  }
};

HttpServer::HttpServer(net::io_context& ioc, Handler& handler, const Pki& pki)
    : impl_(std::make_unique<Impl>(ioc, handler, pki)) {}

HttpServer::~HttpServer() = default;

Result<void> HttpServer::start(const std::string& address, int port) {
  try {
    auto& ctx = impl_->sslctx;
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                    ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    ctx.use_certificate_chain_file(impl_->pki.serverCert);
    ctx.use_private_key_file(impl_->pki.serverKey, ssl::context::pem);
    ctx.load_verify_file(impl_->pki.caCert);
    // Ask for a client certificate but let requests without one through: they
    // may carry a bearer token, and the health endpoints are public.
    ctx.set_verify_mode(ssl::verify_peer);
    // A certificate from another CA must not fail the handshake: Kubernetes
    // requests client certificates without requiring them and answers 401 when
    // none verifies. peerUser() reads the verification result instead.
    ctx.set_verify_callback([](bool, ssl::verify_context&) { return true; });
    SSL_CTX_set_session_id_context(ctx.native_handle(), reinterpret_cast<const unsigned char*>("nanokube"), 8);
    {
      std::error_code ec;
      impl_->tokensMtime = std::filesystem::last_write_time(impl_->pki.tokens, ec);
      impl_->tokens = loadTokens(impl_->pki.tokens);
    }
    tcp::endpoint ep(net::ip::make_address(address), static_cast<unsigned short>(port));
    impl_->acceptor = std::make_unique<tcp::acceptor>(impl_->ioc);
    impl_->acceptor->open(ep.protocol());
    impl_->acceptor->set_option(net::socket_base::reuse_address(true));
    impl_->acceptor->bind(ep);
    impl_->acceptor->listen(net::socket_base::max_listen_connections);
  } catch (const std::exception& e) {
    return fail(Code::kUnavailable, fmt::format("listen on {}:{}: {}", address, port, e.what()));
  }
  net::co_spawn(impl_->ioc, impl_->acceptLoop(), net::detached);
  return {};
}

int HttpServer::port() const { return impl_->acceptor ? impl_->acceptor->local_endpoint().port() : 0; }

void HttpServer::stop() {
  if (impl_->acceptor) {
    beast::error_code ec;
    impl_->acceptor->close(ec);
  }
}

}  // namespace nanokube::apiserver
