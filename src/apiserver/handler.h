#pragma once
// The REST layer: decodes an HTTP request into a registry call and encodes the
// answer (JSON object, List, Table, Status), independent of the transport so that
// unit tests drive it without sockets.

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include "apiserver/registry.h"

namespace nanokube::apiserver {

struct HttpRequest {
  std::string method;
  std::string target;                         // path?query
  std::map<std::string, std::string> headers;  // keys lower-case
  std::string body;
  std::string user;  // authenticated user name; empty when anonymous

  std::string header(const std::string& lowerName) const {
    auto it = headers.find(lowerName);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct HttpResponse {
  int status = 200;
  std::string contentType = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// The events of one watch, serialized as the JSON lines the client gets. The
// registry's sink fills it on the store's writer thread; the HTTP session drains it.
class WatchQueue {
 public:
  void push(std::string line);
  // Takes everything queued; `closed` tells whether the producer is gone.
  std::vector<std::string> drain();
  // Called (without the lock held) after each push; the HTTP layer wakes its writer.
  void setNotify(std::function<void()> notify);

 private:
  std::mutex mu_;
  std::deque<std::string> lines_;
  std::function<void()> notify_;
};

struct WatchStream {
  std::string contentType = "application/json";
  std::shared_ptr<WatchQueue> queue;
  std::unique_ptr<store::Watch> watch;  // destroyed when the stream ends
  int timeoutSeconds = 0;               // 0: server default
  bool endAfterQueued = false;          // end the stream once the queued lines are sent
  // Serialized BOOKMARK event for the latest delivered revision; empty when the
  // client did not ask for bookmarks.
  std::function<std::string()> bookmark;
};

// pods/log and pods/exec: the HTTP server hands the connection to NodeProxy
// (node_proxy.h), which relays the node agent's answer.
struct ProxyTarget;

using HandlerResult = std::variant<HttpResponse, std::shared_ptr<WatchStream>, std::shared_ptr<ProxyTarget>>;

class Handler {
 public:
  Handler(Registry& registry, std::string serverAddress);
  // Never throws: every failure becomes a Status answer.
  HandlerResult handle(const HttpRequest& req);
  void setServerAddress(std::string address) { serverAddress_ = std::move(address); }

 private:
  HandlerResult handleRequest(const HttpRequest& req);
  HandlerResult handleResource(const HttpRequest& req, const std::string& path, const class RequestContext& ctx);
  HandlerResult handleNodeProxy(const class RequestContext& ctx);

  Registry& registry_;
  std::string serverAddress_;  // host:port, for serverAddressByClientCIDRs
};

// An error as the API answers it: a Status body with the right HTTP code.
HttpResponse errorResponse(const Error& error);
HttpResponse jsonResponse(int status, const Json& body);
// Serializes JSON for the wire, replacing invalid UTF-8 instead of failing.
std::string dumpJson(const Json& value);

}  // namespace nanokube::apiserver
