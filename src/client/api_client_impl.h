#pragma once
// ApiClient over HTTPS to a real API server (Boost.Beast over OpenSSL).
//
// Requests use a pool of TLS keep-alive connections: a call takes an idle
// connection (or opens one), runs its request on the calling thread with a
// deadline, and gives the connection back when the server keeps it open. A
// request that fails on a reused connection before any byte of the answer
// arrived is retried once on a new connection: that is a keep-alive connection
// the server closed while it sat idle, and the request never reached it.
//
// The server certificate must chain to the configured CA and name the host of
// the server URL (an IP SAN for an address, a DNS SAN for a name).

#include <chrono>
#include <memory>

#include "client/api_client.h"
#include "client/config.h"

namespace nanokube::client {

struct ClientOptions {
  std::chrono::milliseconds connectTimeout{10'000};  // TCP connect + TLS handshake
  std::chrono::milliseconds requestTimeout{60'000};  // one whole request, connect included
  size_t maxIdleConnections = 4;
  // The API server closes a connection idle for 5 minutes; one idle longer
  // than this is dropped instead of reused.
  std::chrono::seconds maxIdleAge{90};
  std::string userAgent = "nanokube-client/0.1";
};

// The parts of a server URL ("https://host[:port][/prefix]").
struct ServerEndpoint {
  std::string host;      // without brackets for IPv6
  std::string port;      // "443" when the URL has none
  std::string basePath;  // "" or "/prefix" without a trailing slash
  bool hostIsIp = false;
};
Result<ServerEndpoint> parseServerUrl(std::string_view url);

class ApiClientImpl : public ApiClient {
 public:
  // Fails (kBadRequest) when the URL is not https or a PEM does not load.
  static Result<std::unique_ptr<ApiClientImpl>> create(const ClientConfig& config, ClientOptions options = {});
  ~ApiClientImpl() override;

  Result<Json> get(const std::string& path, const Query& query = {}) override;
  Result<Json> list(const std::string& path, const Query& query = {}) override;
  Result<Json> create(const std::string& path, const Json& body, const Query& query = {}) override;
  Result<Json> update(const std::string& path, const Json& body, const Query& query = {}) override;
  Result<Json> patch(const std::string& path, PatchType type, const Json& body, const Query& query = {}) override;
  Result<Json> remove(const std::string& path, const Json& deleteOptions = nullptr) override;
  // The Watch holds its own references: it may outlive this client.
  Result<std::unique_ptr<Watch>> watch(const std::string& path, const WatchQuery& query, WatchCallback callback,
                                       WatchEndCallback onEnd = nullptr) override;

  // How many connections were opened so far (pooling is observable in tests).
  size_t connectionsOpened() const;

  struct Impl;

 private:
  explicit ApiClientImpl(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace nanokube::client
