#pragma once
// pods/log and pods/exec: the API server's side. The handler decides where a
// request goes (pure functions below: the container, the node agent's address,
// the rewritten path); the HTTP server then hands the client's connection to
// NodeProxy, which opens TLS to the agent with the kubelet-client certificate
// and relays the answer — a streamed log, or, for exec, the WebSocket upgrade
// spliced byte for byte both ways, as kube-apiserver's UpgradeAwareHandler
// does.

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "apiserver/pki.h"
#include "apiserver/request_info.h"
#include "common/error.h"

namespace nanokube::apiserver {

// Where the HTTP server sends a proxied request.
struct ProxyTarget {
  std::string host;  // the agent's address (the Node's InternalIP)
  int port = 10250;
  std::string target;  // path?query on the agent: /containerLogs/... or /exec/...
};

// The container a log or exec request is for, as kube-apiserver's
// validateContainer decides: the one given (any of init, app or ephemeral
// containers), else the pod's only container, else 400
// `a container name must be specified for pod X, choose one of: [a b]`.
Result<std::string> requestedContainer(const Json& pod, const std::string& container);

// The agent's address and port from a Node: status.addresses (InternalIP,
// then ExternalIP, then Hostname) and status.daemonEndpoints.kubeletEndpoint.Port
// (10250 when unset).
Result<std::pair<std::string, int>> kubeletEndpoint(const Json& node);

// "/containerLogs/{ns}/{pod}/{container}?{query}" for "log",
// "/exec/{ns}/{pod}/{container}?{query}" for "exec"; the query as sent,
// without `container` (the path names it).
std::string agentTarget(std::string_view subresource, const std::string& ns, const std::string& pod,
                        const std::string& container, const Query& query);

// Performs proxied requests. Thread-safe; one per HTTP server.
class NodeProxy {
 public:
  using Stream = boost::beast::ssl_stream<boost::beast::tcp_stream>;
  using Request = boost::beast::http::request<boost::beast::http::string_body>;

  // Client credentials: pki.kubeletClientCert/Key; the agent's certificate
  // must verify against pki.caCert and name the address dialled.
  explicit NodeProxy(const Pki& pki);

  // Sends req (rewritten to target) to the agent and relays the answer to
  // client: headers and a chunked body as it arrives (logs with follow), or
  // the 101 and then both directions (exec). Bytes the client sent after the
  // request (clientBuffer) go first. A failure to reach the agent is a 500
  // Status. The client connection is closed afterwards.
  boost::asio::awaitable<void> relay(Stream& client, boost::beast::flat_buffer& clientBuffer, const Request& req,
                                     ProxyTarget target);

 private:
  boost::asio::ssl::context ctx_;
  std::string error_;  // why no credentials could be loaded; empty when ready
};

}  // namespace nanokube::apiserver
