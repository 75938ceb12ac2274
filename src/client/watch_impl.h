#pragma once
// The real Watch: one connection and one thread per watch. Internal to the client.

#include <chrono>
#include <memory>
#include <string>

#include "client/connection.h"

namespace nanokube::client::detail {

struct WatchSetup {
  std::shared_ptr<net::ssl::context> tls;
  ServerEndpoint endpoint;
  http::request<http::string_body> request;
  std::chrono::milliseconds connectTimeout;
  std::chrono::milliseconds requestTimeout;  // until the answer's header arrives
  int timeoutSeconds = 0;                    // the watch's own, for the idle deadline
  std::string path;                          // for error messages
};

Result<std::unique_ptr<Watch>> startWatch(WatchSetup setup, WatchCallback callback, WatchEndCallback onEnd);

}  // namespace nanokube::client::detail
