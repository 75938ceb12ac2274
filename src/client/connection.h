#pragma once
// One TLS connection to the API server, driven synchronously by the thread that
// holds it. Internal to the client (ApiClientImpl pools them; a Watch owns one).
//
// Each connection has its own io_context: an operation is started
// asynchronously and the calling thread runs the context until it completes,
// which gives every step a deadline (beast::tcp_stream closes the socket when
// it expires) without a thread per connection. The only call from another
// thread is post(), which a Watch uses to close its socket while it waits.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "client/api_client_impl.h"
#include "common/error.h"

namespace nanokube::client::detail {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

// The client's TLS settings: the CA to verify the server against, the client
// certificate and key, all loaded from memory when the kubeconfig embeds them.
Result<std::shared_ptr<net::ssl::context>> makeTlsContext(const ClientConfig& config);

struct RawResponse {
  int status = 0;
  std::string body;
  bool keepAlive = false;
};

class Connection {
 public:
  using Stream = beast::ssl_stream<beast::tcp_stream>;

  Connection(std::shared_ptr<net::ssl::context> tls, ServerEndpoint endpoint);

  // TCP connect and TLS handshake with server verification (chain + host).
  Result<void> connect(Clock::time_point deadline);
  bool isOpen() const { return open_; }

  // Writes `req` and reads the whole answer. `gotSome` tells whether any byte
  // of the answer arrived before a failure (for the stale keep-alive retry).
  Result<RawResponse> roundTrip(http::request<http::string_body>& req, Clock::time_point deadline, bool& gotSome);

  Result<void> write(http::request<http::string_body>& req, Clock::time_point deadline);

  // Runs the io_context until the operations started on it complete.
  void runLoop();
  // Thread-safe: runs `fn` on the thread that next runs the loop.
  void post(std::function<void()> fn);
  // Closes the socket; pending operations complete with an error.
  void close();

  Stream& stream() { return *stream_; }
  beast::flat_buffer& buffer() { return buffer_; }
  Clock::time_point lastUsed() const { return lastUsed_; }
  void touch() { lastUsed_ = Clock::now(); }
  const ServerEndpoint& endpoint() const { return endpoint_; }

 private:
  // An Error for a failed step, naming the server and the step.
  Error failure(std::string_view step, const beast::error_code& ec) const;

  net::io_context ioc_;
  std::shared_ptr<net::ssl::context> tls_;
  ServerEndpoint endpoint_;
  std::unique_ptr<Stream> stream_;
  beast::flat_buffer buffer_;
  bool open_ = false;
  Clock::time_point lastUsed_ = Clock::now();
};

// Maximum size of one (non-watch) answer: a list of many objects is large.
inline constexpr uint64_t kMaxResponseBody = 512ull * 1024 * 1024;

}  // namespace nanokube::client::detail
