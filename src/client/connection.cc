#include "client/connection.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>

namespace nanokube::client::detail {

namespace ssl = net::ssl;
using tcp = net::ip::tcp;

Result<std::shared_ptr<ssl::context>> makeTlsContext(const ClientConfig& config) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  std::string step;
  try {
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    step = "the CA certificate";
    if (!config.caData.empty()) {
      ctx->add_certificate_authority(net::buffer(config.caData));
    } else if (!config.caFile.empty()) {
      ctx->load_verify_file(config.caFile);
    } else {
      ctx->set_default_verify_paths();
    }
    step = "the client certificate";
    if (!config.certData.empty()) {
      ctx->use_certificate_chain(net::buffer(config.certData));
    } else if (!config.certFile.empty()) {
      ctx->use_certificate_chain_file(config.certFile);
    }
    step = "the client key";
    if (!config.keyData.empty()) {
      ctx->use_private_key(net::buffer(config.keyData), ssl::context::pem);
    } else if (!config.keyFile.empty()) {
      ctx->use_private_key_file(config.keyFile, ssl::context::pem);
    }
    ctx->set_verify_mode(ssl::verify_peer);
  } catch (const boost::system::system_error& e) {
    return fail(Code::kBadRequest, fmt::format("TLS: loading {}: {}", step, e.what()));
  }
  return ctx;
}

Connection::Connection(std::shared_ptr<ssl::context> tls, ServerEndpoint endpoint)
    : tls_(std::move(tls)), endpoint_(std::move(endpoint)), stream_(std::make_unique<Stream>(ioc_, *tls_)) {}

void Connection::runLoop() {
  ioc_.restart();
  ioc_.run();
}

void Connection::post(std::function<void()> fn) { net::post(ioc_, std::move(fn)); }

void Connection::close() {
  beast::error_code ec;
  beast::get_lowest_layer(*stream_).socket().close(ec);
  open_ = false;
}

Error Connection::failure(std::string_view step, const beast::error_code& ec) const {
  Code code = ec == beast::error::timeout ? Code::kTimeout : Code::kUnavailable;
  std::string detail = ec.message();
  if (ec.category() == net::error::get_ssl_category()) {
    long verify = SSL_get_verify_result(stream_->native_handle());
    if (verify != X509_V_OK) detail += fmt::format(" ({})", X509_verify_cert_error_string(verify));
  }
  return Error{code, fmt::format("{} https://{}:{}: {}", step, endpoint_.host, endpoint_.port, detail)};
}

Result<void> Connection::connect(Clock::time_point deadline) {
  SSL* ssl = stream_->native_handle();
  // Verify that the certificate names the host we dialled: an IP SAN for an
  // address, a DNS SAN for a name (client-go does the same through crypto/tls).
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (endpoint_.hostIsIp) {
    if (X509_VERIFY_PARAM_set1_ip_asc(param, endpoint_.host.c_str()) != 1) {
      return fail(Code::kBadRequest, fmt::format("TLS: bad server address {}", endpoint_.host));
    }
  } else {
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (X509_VERIFY_PARAM_set1_host(param, endpoint_.host.c_str(), 0) != 1 ||
        SSL_set_tlsext_host_name(ssl, endpoint_.host.c_str()) != 1) {
      return fail(Code::kBadRequest, fmt::format("TLS: bad server name {}", endpoint_.host));
    }
  }

  beast::error_code ec;
  tcp::resolver::results_type endpoints;
  {
    // The resolver has no deadline of its own.
    tcp::resolver resolver(ioc_);
    net::steady_timer timer(ioc_);
    timer.expires_at(deadline);
    timer.async_wait([&](beast::error_code e) {
      if (!e) resolver.cancel();
    });
    resolver.async_resolve(endpoint_.host, endpoint_.port, [&](beast::error_code e, tcp::resolver::results_type r) {
      ec = e;
      endpoints = std::move(r);
      timer.cancel();
    });
    runLoop();
  }
  if (ec) return std::unexpected(failure("resolve", ec == net::error::operation_aborted ? beast::error::timeout : ec));

  auto& tcpStream = beast::get_lowest_layer(*stream_);
  tcpStream.expires_at(deadline);
  tcpStream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
  runLoop();
  if (ec) return std::unexpected(failure("connect", ec));
  beast::error_code ignored;
  tcpStream.socket().set_option(tcp::no_delay(true), ignored);

  stream_->async_handshake(ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
  runLoop();
  if (ec) return std::unexpected(failure("TLS handshake with", ec));
  open_ = true;
  touch();
  return {};
}

Result<void> Connection::write(http::request<http::string_body>& req, Clock::time_point deadline) {
  beast::error_code ec;
  beast::get_lowest_layer(*stream_).expires_at(deadline);
  http::async_write(*stream_, req, [&](beast::error_code e, size_t) { ec = e; });
  runLoop();
  if (ec) {
    close();
    return std::unexpected(failure("write to", ec));
  }
  return {};
}

Result<RawResponse> Connection::roundTrip(http::request<http::string_body>& req, Clock::time_point deadline,
                                          bool& gotSome) {
  gotSome = false;
  if (auto w = write(req, deadline); !w) return std::unexpected(w.error());
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBody);
  beast::error_code ec;
  http::async_read(*stream_, buffer_, parser, [&](beast::error_code e, size_t) { ec = e; });
  runLoop();
  gotSome = parser.got_some();
  if (ec) {
    close();
    return std::unexpected(failure("read from", ec));
  }
  beast::get_lowest_layer(*stream_).expires_never();
  auto msg = parser.release();
  touch();
  return RawResponse{static_cast<int>(msg.result_int()), std::move(msg.body()), msg.keep_alive()};
}

}  // namespace nanokube::client::detail
