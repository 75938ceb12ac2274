#include "client/api_client_impl.h"

#include <mutex>
#include <vector>

#include <boost/asio/ip/address.hpp>
#include <fmt/format.h>

#include "client/connection.h"
#include "client/status.h"
#include "client/watch_impl.h"

namespace nanokube::client {

using namespace detail;

Result<ServerEndpoint> parseServerUrl(std::string_view url) {
  constexpr std::string_view kScheme = "https://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return fail(Code::kBadRequest, fmt::format("server URL {}: only https:// is supported", url));
  }
  std::string_view rest = url.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  ServerEndpoint ep;
  if (slash != std::string_view::npos) {
    ep.basePath = std::string(rest.substr(slash));
    while (!ep.basePath.empty() && ep.basePath.back() == '/') ep.basePath.pop_back();
  }
  std::string_view portText;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return fail(Code::kBadRequest, fmt::format("server URL {}: bad IPv6 host", url));
    ep.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail(Code::kBadRequest, fmt::format("server URL {}: bad port", url));
      portText = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    ep.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) portText = authority.substr(colon + 1);
  }
  if (ep.host.empty()) return fail(Code::kBadRequest, fmt::format("server URL {}: no host", url));
  if (portText.empty()) {
    ep.port = "443";
  } else {
    if (portText.find_first_not_of("0123456789") != std::string_view::npos || portText.size() > 5) {
      return fail(Code::kBadRequest, fmt::format("server URL {}: bad port", url));
    }
    ep.port = std::string(portText);
  }
  boost::system::error_code ec;
  boost::asio::ip::make_address(ep.host, ec);
  ep.hostIsIp = !ec;
  return ep;
}

struct ApiClientImpl::Impl {
  ClientConfig config;
  ClientOptions options;
  ServerEndpoint endpoint;
  std::shared_ptr<net::ssl::context> tls;
  std::string hostHeader;

  std::mutex mu;
  std::vector<std::unique_ptr<Connection>> idle;  // guarded by mu; most recently used last
  size_t opened = 0;                              // guarded by mu

  std::unique_ptr<Connection> acquire() {
    std::vector<std::unique_ptr<Connection>> stale;  // closed outside the lock
    std::unique_ptr<Connection> conn;
    {
      std::lock_guard lock(mu);
      while (!idle.empty() && !conn) {
        auto c = std::move(idle.back());
        idle.pop_back();
        if (Clock::now() - c->lastUsed() > options.maxIdleAge) {
          stale.push_back(std::move(c));
        } else {
          conn = std::move(c);
        }
      }
      if (!conn) ++opened;
    }
    if (!conn) conn = std::make_unique<Connection>(tls, endpoint);
    return conn;
  }

  void release(std::unique_ptr<Connection> conn) {
    std::lock_guard lock(mu);
    if (idle.size() < options.maxIdleConnections) idle.push_back(std::move(conn));
  }

  http::request<http::string_body> makeRequest(http::verb verb, const std::string& target) const {
    http::request<http::string_body> req{verb, endpoint.basePath + target, 11};
    req.set(http::field::host, hostHeader);
    req.set(http::field::user_agent, options.userAgent);
    req.set(http::field::accept, "application/json");
    if (!config.token.empty()) req.set(http::field::authorization, "Bearer " + config.token);
    return req;
  }

  Result<RawResponse> execute(http::request<http::string_body>& req) {
    auto deadline = Clock::now() + options.requestTimeout;
    for (int attempt = 0;; ++attempt) {
      auto conn = acquire();
      bool reused = conn->isOpen();
      if (!reused) {
        auto c = conn->connect(std::min(deadline, Clock::now() + options.connectTimeout));
        if (!c) return std::unexpected(c.error());
      }
      bool gotSome = false;
      auto r = conn->roundTrip(req, deadline, gotSome);
      if (!r) {
        if (reused && !gotSome && attempt == 0 && r.error().code != Code::kTimeout) continue;
        return r;
      }
      if (r->keepAlive) release(std::move(conn));
      return r;
    }
  }

  Result<Json> call(http::verb verb, const std::string& path, const Query& query, const Json* body,
                    std::string_view contentType) {
    auto req = makeRequest(verb, path + encodeQuery(query));
    if (body != nullptr) {
      req.set(http::field::content_type, std::string(contentType));
      req.body() = body->dump(-1, ' ', false, Json::error_handler_t::replace);
    }
    req.prepare_payload();
    auto resp = execute(req);
    if (!resp) {
      Error e = resp.error();
      e.message = fmt::format("{} {}: {}", std::string_view(http::to_string(verb)), path, e.message);
      return std::unexpected(std::move(e));
    }
    if (resp->status < 200 || resp->status > 299) return std::unexpected(errorFromResponse(resp->status, resp->body));
    if (resp->body.empty()) return Json::object();
    Json parsed = Json::parse(resp->body, nullptr, false);
    if (parsed.is_discarded()) {
      return fail(Code::kInternal, fmt::format("{} {}: the server's answer is not JSON: {}",
                                               std::string_view(http::to_string(verb)), path,
                                               resp->body.substr(0, 200)));
    }
    return parsed;
  }
};

Result<std::unique_ptr<ApiClientImpl>> ApiClientImpl::create(const ClientConfig& config, ClientOptions options) {
  auto endpoint = parseServerUrl(config.server);
  if (!endpoint) return std::unexpected(endpoint.error());
  auto tls = makeTlsContext(config);
  if (!tls) return std::unexpected(tls.error());
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->options = std::move(options);
  impl->endpoint = *endpoint;
  impl->tls = *tls;
  bool v6 = endpoint->host.find(':') != std::string::npos;
  impl->hostHeader = v6 ? fmt::format("[{}]:{}", endpoint->host, endpoint->port)
                        : fmt::format("{}:{}", endpoint->host, endpoint->port);
  return std::unique_ptr<ApiClientImpl>(new ApiClientImpl(std::move(impl)));
}

ApiClientImpl::ApiClientImpl(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ApiClientImpl::~ApiClientImpl() = default;

Result<Json> ApiClientImpl::get(const std::string& path, const Query& query) {
  return impl_->call(http::verb::get, path, query, nullptr, {});
}

Result<Json> ApiClientImpl::list(const std::string& path, const Query& query) {
  return impl_->call(http::verb::get, path, query, nullptr, {});
}

Result<Json> ApiClientImpl::create(const std::string& path, const Json& body, const Query& query) {
  return impl_->call(http::verb::post, path, query, &body, "application/json");
}

Result<Json> ApiClientImpl::update(const std::string& path, const Json& body, const Query& query) {
  return impl_->call(http::verb::put, path, query, &body, "application/json");
}

Result<Json> ApiClientImpl::patch(const std::string& path, PatchType type, const Json& body, const Query& query) {
  return impl_->call(http::verb::patch, path, query, &body, patchContentType(type));
}

Result<Json> ApiClientImpl::remove(const std::string& path, const Json& deleteOptions) {
  return impl_->call(http::verb::delete_, path, {}, deleteOptions.is_null() ? nullptr : &deleteOptions,
                     "application/json");
}

Result<std::unique_ptr<Watch>> ApiClientImpl::watch(const std::string& path, const WatchQuery& query,
                                                    WatchCallback callback, WatchEndCallback onEnd) {
  if (!callback) return fail(Code::kBadRequest, "watch: no callback");
  Query q{{"watch", "true"}};
  if (!query.resourceVersion.empty()) q["resourceVersion"] = query.resourceVersion;
  if (!query.labelSelector.empty()) q["labelSelector"] = query.labelSelector;
  if (!query.fieldSelector.empty()) q["fieldSelector"] = query.fieldSelector;
  if (query.allowWatchBookmarks) q["allowWatchBookmarks"] = "true";
  if (query.timeoutSeconds > 0) q["timeoutSeconds"] = std::to_string(query.timeoutSeconds);
  auto req = impl_->makeRequest(http::verb::get, path + encodeQuery(q));
  req.prepare_payload();
  WatchSetup setup{impl_->tls, impl_->endpoint, std::move(req), impl_->options.connectTimeout,
                   impl_->options.requestTimeout, query.timeoutSeconds, path};
  {
    std::lock_guard lock(impl_->mu);
    ++impl_->opened;
  }
  return startWatch(std::move(setup), std::move(callback), std::move(onEnd));
}

size_t ApiClientImpl::connectionsOpened() const {
  std::lock_guard lock(impl_->mu);
  return impl_->opened;
}

}  // namespace nanokube::client
