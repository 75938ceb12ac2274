#pragma once
// HTTPS transport for the API: Boost.Beast over Asio with C++20 coroutines, one
// strand per connection, HTTP/1.1 keep-alive, chunked watch streams. It
// authenticates each connection (client certificate signed by the cluster CA) or
// request (static bearer token) and passes the user to the Handler.

#include <map>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include "apiserver/handler.h"
#include "apiserver/pki.h"

namespace nanokube::apiserver {

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& ioc, Handler& handler, const Pki& pki);
  ~HttpServer();

  // Loads the serving certificate and the tokens, binds and starts accepting.
  Result<void> start(const std::string& address, int port);
  int port() const;
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nanokube::apiserver
