#include "client/watch_impl.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <limits>
#include <thread>

#include <fmt/format.h>

#include "client/status.h"
#include "client/watch_parser.h"

namespace nanokube::client::detail {

namespace {

// Shared by the Watch handle and its thread, so that a handle destroyed from
// inside a callback (and so detached) leaves the thread a valid state.
struct WatchState {
  explicit WatchState(WatchSetup s) : setup(std::move(s)), conn(setup.tls, setup.endpoint) {}
  WatchSetup setup;
  Connection conn;
  std::atomic<bool> stopped{false};
  std::atomic<bool> done{false};
};

// A watch can sit idle for many minutes; TCP keep-alive notices a server that
// vanished (host down, cable pulled) within about a minute instead of hours.
void enableKeepAlive(Connection& conn) {
  int fd = beast::get_lowest_layer(conn.stream()).socket().native_handle();
  int on = 1, idle = 30, interval = 10, count = 3;
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
}

Result<void> fromEc(const WatchState& s, std::string_view step, const beast::error_code& ec) {
  Code code = ec == beast::error::timeout ? Code::kTimeout : Code::kUnavailable;
  return fail(code, fmt::format("watch {}: {}: {}", s.setup.path, step, ec.message()));
}

// Runs the watch to its end. Returns what onEnd is told.
Result<void> runWatch(WatchState& s, const WatchCallback& callback) {
  Connection& conn = s.conn;
  auto start = Clock::now();
  auto c = conn.connect(start + s.setup.connectTimeout);
  if (!c) return fail(c.error().code, fmt::format("watch {}: {}", s.setup.path, c.error().message));
  if (s.stopped) return {};
  enableKeepAlive(conn);
  if (auto w = conn.write(s.setup.request, start + s.setup.requestTimeout); !w) {
    return fail(w.error().code, fmt::format("watch {}: {}", s.setup.path, w.error().message));
  }
  if (s.stopped) return {};

  http::response_parser<http::buffer_body> parser;
  // Not boost::none: Boost 1.74 compares a Content-Length against an empty
  // optional limit as "greater" and fails every non-chunked answer.
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  beast::error_code ec;
  auto& tcpStream = beast::get_lowest_layer(conn.stream());
  tcpStream.expires_at(start + s.setup.requestTimeout);
  http::async_read_header(conn.stream(), conn.buffer(), parser, [&](beast::error_code e, size_t) { ec = e; });
  conn.runLoop();
  if (s.stopped) return {};
  if (ec) return fromEc(s, "reading the answer", ec);

  // Past the header the stream may stay quiet for as long as the watch lasts;
  // a watch with timeoutSeconds gets a deadline a little after the server's.
  if (s.setup.timeoutSeconds > 0) {
    tcpStream.expires_after(std::chrono::seconds(s.setup.timeoutSeconds + 30));
  } else {
    tcpStream.expires_never();
  }

  int status = static_cast<int>(parser.get().result_int());
  std::string errorBody;
  WatchLineParser lines;
  std::array<char, 16 * 1024> buf;
  while (!parser.is_done()) {
    parser.get().body().data = buf.data();
    parser.get().body().size = buf.size();
    http::async_read_some(conn.stream(), conn.buffer(), parser, [&](beast::error_code e, size_t) { ec = e; });
    conn.runLoop();
    if (s.stopped) return {};
    if (ec == http::error::need_buffer) ec = {};
    size_t got = buf.size() - parser.get().body().size;
    if (status != 200) {
      if (errorBody.size() < 64 * 1024) errorBody.append(buf.data(), got);
    } else if (got > 0) {
      auto events = lines.feed(std::string_view(buf.data(), got));
      if (!events) return fail(events.error().code, fmt::format("watch {}: {}", s.setup.path, events.error().message));
      for (const auto& event : *events) {
        if (s.stopped) return {};
        callback(event.type, event.object);
      }
    }
    if (ec) {
      if (status != 200) break;
      return fromEc(s, "reading events", ec);
    }
  }
  if (status == 200) return {};
  Error error = errorFromResponse(status, errorBody);
  if (error.code == Code::kGone) {
    // Kubernetes sends a too-old resourceVersion as an ERROR event in a 200
    // stream; a server that answers 410 outright reaches the caller the same way.
    callback("ERROR", toStatus(error));
    return {};
  }
  error.message = fmt::format("watch {}: {}", s.setup.path, error.message);
  return std::unexpected(std::move(error));
}

class WatchImpl : public Watch {
 public:
  WatchImpl(std::shared_ptr<WatchState> state, WatchCallback callback, WatchEndCallback onEnd)
      : state_(std::move(state)) {
    thread_ = std::thread([s = state_, callback = std::move(callback), onEnd = std::move(onEnd)] {
      Result<void> end = runWatch(*s, callback);
      s->conn.close();
      s->done = true;
      if (!s->stopped && onEnd) onEnd(end);
    });
  }

  ~WatchImpl() override {
    state_->stopped = true;
    // The raw pointer is enough: the loop that runs this belongs to the thread,
    // which holds the state alive while it runs it.
    WatchState* s = state_.get();
    s->conn.post([s] { s->conn.close(); });
    if (thread_.get_id() == std::this_thread::get_id()) {
      thread_.detach();
    } else {
      thread_.join();
    }
  }

  bool done() const override { return state_->done; }

 private:
  std::shared_ptr<WatchState> state_;
  std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<Watch>> startWatch(WatchSetup setup, WatchCallback callback, WatchEndCallback onEnd) {
  auto state = std::make_shared<WatchState>(std::move(setup));
  try {
    return std::make_unique<WatchImpl>(std::move(state), std::move(callback), std::move(onEnd));
  } catch (const std::system_error& e) {
    return fail(Code::kInternal, fmt::format("watch: cannot start a thread: {}", e.what()));
  }
}

}  // namespace nanokube::client::detail
