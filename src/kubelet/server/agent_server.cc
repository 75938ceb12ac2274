#include "kubelet/server/agent_server.h"

#include <fcntl.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <deque>
#include <optional>
#include <thread>
#include <variant>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "kubelet/server/channel.h"
#include "kubelet/server/exec_process.h"
#include "kubelet/server/request.h"

namespace nanokube::kubelet {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using net::awaitable;
using net::use_awaitable;
using Stream = beast::ssl_stream<beast::tcp_stream>;
using namespace server;

namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kMaxQueued = 1024 * 1024;
constexpr auto kFollowPoll = std::chrono::milliseconds(200);
constexpr auto kFollowRecheck = std::chrono::seconds(1);
// After the command exited, how long its output pipes may stay open (held by
// a child it left running) before the session ends anyway.
constexpr auto kOutputGrace = std::chrono::seconds(2);

// The verified client certificate's subject, or nullopt without one.
struct Peer {
  std::string cn;
  std::vector<std::string> orgs;
};

std::optional<Peer> verifiedPeer(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return std::nullopt;
  Peer p;
  X509_NAME* name = X509_get_subject_name(cert);
  char buf[256] = "";
  if (X509_NAME_get_text_by_NID(name, NID_commonName, buf, sizeof buf) >= 0) p.cn = buf;
  for (int i = -1; (i = X509_NAME_get_index_by_NID(name, NID_organizationName, i)) >= 0;) {
    ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    p.orgs.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), ASN1_STRING_length(s));
  }
  return p;
}

bool authorized(const Peer& p) {
  if (p.cn == "kube-apiserver-kubelet-client") return true;
  return std::find(p.orgs.begin(), p.orgs.end(), "system:masters") != p.orgs.end();
}

// A wake-up on one strand: notify() ends every pending wait(); waiters re-check
// their condition. The timer's expiry stays at "never", so a wait only ends by
// a notify (or by the deadline of waitUntil, used by a single waiter).
class Signal {
 public:
  explicit Signal(const net::any_io_executor& ex) : timer_(ex) {
    timer_.expires_at(net::steady_timer::time_point::max());
  }
  void notify() { timer_.cancel(); }
  awaitable<void> wait() {
    beast::error_code ec;
    co_await timer_.async_wait(net::redirect_error(use_awaitable, ec));
  }

 private:
  net::steady_timer timer_;
};

http::response<http::string_body> statusResponse(const Error& error, unsigned version) {
  http::response<http::string_body> res{static_cast<http::status>(httpStatus(error.code)), version};
  res.set(http::field::content_type, "application/json");
  res.body() = toStatus(error).dump(-1, ' ', false, Json::error_handler_t::replace);
  res.keep_alive(false);
  res.prepare_payload();
  return res;
}

struct ExecSession {
  explicit ExecSession(Stream&& s) : ws(std::move(s)), wake(ws.get_executor()), drained(ws.get_executor()) {}

  websocket::stream<Stream> ws;
  Signal wake;     // main loop: output queued, a stream ended, the command exited
  Signal drained;  // pumps: the outbox shrank
  std::unique_ptr<ExecProcess> process;
  std::optional<net::posix::stream_descriptor> in, out, err, terminal, pid;
  std::deque<std::string> outbox;
  size_t queued = 0;
  int openOutputs = 0;
  int children = 0;
  bool clientGone = false;
  std::optional<ExecExit> exit;

  void push(uint8_t channel, std::string_view data) {
    outbox.push_back(encodeFrame(channel, data));
    queued += outbox.back().size();
    wake.notify();
  }
};

// Copies one output of the command (a pipe or the pty master) to a channel.
awaitable<void> pumpOutput(std::shared_ptr<ExecSession> s, net::posix::stream_descriptor& from, uint8_t channel) {
  std::vector<char> buf(kReadChunk);
  for (;;) {
    beast::error_code ec;
    size_t n = co_await from.async_read_some(net::buffer(buf), net::redirect_error(use_awaitable, ec));
    if (n > 0) s->push(channel, std::string_view(buf.data(), n));
    if (ec) break;  // EOF; EIO from a pty master once the terminal's last user is gone
    while (s->queued > kMaxQueued && !s->clientGone) co_await s->drained.wait();
    if (s->clientGone) break;
  }
  --s->openOutputs;
  --s->children;
  s->wake.notify();
}

awaitable<void> watchExit(std::shared_ptr<ExecSession> s) {
  beast::error_code ec;
  co_await s->pid->async_wait(net::posix::descriptor_base::wait_read, net::redirect_error(use_awaitable, ec));
  if (!ec) s->exit = s->process->tryWait();
  --s->children;
  s->wake.notify();
}

// Client messages: stdin, resize, and v5's close signal for stdin.
awaitable<void> readClient(std::shared_ptr<ExecSession> s) {
  beast::flat_buffer buffer;
  for (;;) {
    beast::error_code ec;
    buffer.clear();
    co_await s->ws.async_read(buffer, net::redirect_error(use_awaitable, ec));
    if (ec) break;
    std::string payload = beast::buffers_to_string(buffer.data());
    auto frame = decodeFrame(payload);
    if (!frame) continue;
    net::posix::stream_descriptor* input = s->terminal ? &*s->terminal : (s->in ? &*s->in : nullptr);
    if (frame->channel == kStdin && input != nullptr && input->is_open()) {
      co_await net::async_write(*input, net::buffer(frame->data.data(), frame->data.size()),
                                net::redirect_error(use_awaitable, ec));
      if (ec && s->in) s->in->close(ec);  // the command stopped reading
    } else if (frame->channel == kResize) {
      if (auto size = parseResize(frame->data); size && s->process) (void)s->process->resize(*size);
    } else if (frame->channel == kCloseSignal && !frame->data.empty() && frame->data[0] == kStdin) {
      if (s->in) s->in->close(ec);
    }
  }
  s->clientGone = true;
  --s->children;
  s->wake.notify();
  s->drained.notify();
}

awaitable<void> runExec(std::shared_ptr<ExecSession> s, ExecSpec spec) {
  auto ex = s->ws.get_executor();
  auto proc = ExecProcess::start(spec);
  if (!proc) {
    s->push(kError, internalErrorStatus("error executing command in container: " + proc.error().message).dump());
  } else {
    s->process = std::move(*proc);
    auto adopt = [&](std::optional<net::posix::stream_descriptor>& d, int fd) {
      if (fd < 0) return false;
      d.emplace(ex, fd);
      return true;
    };
    adopt(s->in, s->process->takeStdin());
    adopt(s->pid, ::fcntl(s->process->pidFd(), F_DUPFD_CLOEXEC, 3));
    std::vector<std::pair<net::posix::stream_descriptor*, uint8_t>> outputs;
    if (adopt(s->terminal, s->process->takeTerminal())) outputs.emplace_back(&*s->terminal, kStdout);
    if (adopt(s->out, s->process->takeStdout())) outputs.emplace_back(&*s->out, kStdout);
    if (adopt(s->err, s->process->takeStderr())) outputs.emplace_back(&*s->err, kStderr);
    for (auto [d, channel] : outputs) {
      ++s->openOutputs;
      ++s->children;
      net::co_spawn(ex, pumpOutput(s, *d, channel), net::detached);
    }
    ++s->children;
    net::co_spawn(ex, watchExit(s), net::detached);
  }
  ++s->children;
  net::co_spawn(ex, readClient(s), net::detached);

  std::optional<std::chrono::steady_clock::time_point> exitedAt;
  net::steady_timer grace(ex);
  for (;;) {
    while (!s->outbox.empty() && !s->clientGone) {
      beast::error_code ec;
      co_await s->ws.async_write(net::buffer(s->outbox.front()), net::redirect_error(use_awaitable, ec));
      s->queued -= s->outbox.front().size();
      s->outbox.pop_front();
      s->drained.notify();
      if (ec) s->clientGone = true;
    }
    if (s->clientGone || !s->process) break;
    if (s->exit && !exitedAt) exitedAt = std::chrono::steady_clock::now();
    if (s->exit && (s->openOutputs == 0 || std::chrono::steady_clock::now() - *exitedAt >= kOutputGrace)) break;
    if (exitedAt) {
      // Wake up at the end of the grace even when no output comes.
      grace.expires_at(*exitedAt + kOutputGrace);
      grace.async_wait([s](beast::error_code) { s->wake.notify(); });
    }
    co_await s->wake.wait();
  }

  beast::error_code ec;
  if (!s->clientGone && s->process && s->exit) {
    const ExecExit& e = *s->exit;
    // Without a terminal runc printed its error on the command's stderr
    // already; a terminal shows it on the screen.
    if (!e.runtimeError.empty() && spec.tty) {
      std::string frame = encodeFrame(kStdout, e.runtimeError + "\r\n");
      co_await s->ws.async_write(net::buffer(frame), net::redirect_error(use_awaitable, ec));
    }
    std::string frame = encodeFrame(kError, exitStatus(e.code, e.runtimeError).dump());
    co_await s->ws.async_write(net::buffer(frame), net::redirect_error(use_awaitable, ec));
  } else if (!s->clientGone && !s->outbox.empty()) {
    co_await s->ws.async_write(net::buffer(s->outbox.front()), net::redirect_error(use_awaitable, ec));
  }
  if (s->process) s->process->terminate();
  if (!s->clientGone) co_await s->ws.async_close(websocket::close_code::normal, net::redirect_error(use_awaitable, ec));
  grace.cancel();
  // End the helpers: closing a descriptor cancels the operation pending on it.
  for (auto* d : {&s->in, &s->out, &s->err, &s->terminal, &s->pid}) {
    if (*d) (*d)->close(ec);
  }
  beast::get_lowest_layer(s->ws).close();
  s->drained.notify();
  while (s->children > 0) co_await s->wake.wait();
}

}  // namespace

struct AgentServer::Impl {
  AgentServerOptions options;
  ContainerLookup& lookup;
  std::unique_ptr<net::io_context> ioc = std::make_unique<net::io_context>();
  ssl::context sslctx{ssl::context::tls_server};
  std::unique_ptr<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  uint16_t boundPort = 0;

  Impl(AgentServerOptions o, ContainerLookup& l) : options(std::move(o)), lookup(l) {}

  awaitable<void> acceptLoop() {
    for (;;) {
      beast::error_code ec;
      tcp::socket socket =
          co_await acceptor->async_accept(net::make_strand(*ioc), net::redirect_error(use_awaitable, ec));
      if (ec) {
        if (ec == net::error::operation_aborted || !acceptor->is_open()) co_return;
        continue;
      }
      auto ex = socket.get_executor();
      net::co_spawn(ex, session(std::move(socket)), net::detached);
    }
  }

  awaitable<void> answer(Stream& stream, Error error, unsigned version) {
    auto res = statusResponse(error, version);
    beast::error_code ec;
    co_await http::async_write(stream, res, net::redirect_error(use_awaitable, ec));
  }

  awaitable<void> session(tcp::socket socket) {
    Stream stream(std::move(socket), sslctx);
    try {
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
      co_await stream.async_handshake(ssl::stream_base::server, use_awaitable);
      beast::flat_buffer buffer;
      http::request_parser<http::string_body> parser;
      parser.body_limit(64 * 1024);
      co_await http::async_read(stream, buffer, parser, use_awaitable);
      auto req = parser.release();
      beast::get_lowest_layer(stream).expires_never();
      bool handedOver = co_await route(stream, req);
      if (handedOver) co_return;
      beast::error_code ec;
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
      co_await stream.async_shutdown(net::redirect_error(use_awaitable, ec));
    } catch (const std::exception& e) {
      spdlog::debug("agent server: connection ended: {}", e.what());
    }
  }

  struct LogsPlan {
    AgentPath path;
    LogOptions options;
    ContainerTarget target;
  };
  struct ExecPlan {
    ExecSpec spec;
    std::string protocol;
  };
  using Plan = std::variant<Error, LogsPlan, ExecPlan>;

  // What to do with a request, decided without I/O on the connection (the
  // lookup may block briefly). Kept apart from the coroutine so that no
  // temporary lives across a co_await (g++ 12 mishandles those).
  Plan plan(SSL* ssl, const http::request<http::string_body>& req) {
    auto peer = verifiedPeer(ssl);
    if (!peer) return Error{Code::kUnauthorized, "Unauthorized"};
    std::string path;
    Query query;
    splitTarget(std::string_view(req.target().data(), req.target().size()), path, query);
    auto ap = parseAgentPath(path);
    if (!ap) return ap.error();
    if (!authorized(*peer)) {
      return Error{Code::kForbidden, fmt::format("Forbidden (user={}, verb={}, resource=nodes, subresource(s)=[proxy])",
                                                 peer->cn, req.method() == http::verb::get ? "get" : "create")};
    }
    bool isExec = ap->endpoint == Endpoint::kExec;
    if (req.method() != http::verb::get && !(isExec && req.method() == http::verb::post)) {
      return Error{Code::kMethodNotAllowed, "405: Method Not Allowed"};
    }
    if (!isExec) {
      auto opts = parseLogOptions(query);
      if (!opts) return opts.error();
      auto target = lookup.find(ap->ns, ap->pod, ap->container, opts->previous);
      if (!target) return target.error();
      return LogsPlan{*ap, *opts, *target};
    }
    auto opts = parseExecOptions(query);
    if (!opts) return opts.error();
    auto target = lookup.find(ap->ns, ap->pod, ap->container, false);
    if (!target) return target.error();
    if (!target->running) {
      return Error{Code::kBadRequest,
                   fmt::format("container \"{}\" in pod \"{}\" is not running", ap->container, ap->pod)};
    }
    if (!websocket::is_upgrade(req)) {
      // kubectl falls back to SPDY/3.1 (POST) when the WebSocket upgrade fails.
      return Error{Code::kBadRequest,
                   "Upgrade request required: the nanokube agent serves exec over WebSocket "
                   "(v5.channel.k8s.io, v4.channel.k8s.io) only; SPDY is not implemented"};
    }
    std::string offered(req[http::field::sec_websocket_protocol]);
    auto protocol = chooseProtocol(offered);
    if (!protocol) {
      return Error{Code::kBadRequest, fmt::format("none of the offered WebSocket subprotocols \"{}\" is supported: "
                                                  "use v5.channel.k8s.io or v4.channel.k8s.io",
                                                  offered)};
    }
    ExecPlan e;
    e.spec.runcBinary = options.runcBinary;
    e.spec.runcRoot = options.runcRoot;
    e.spec.containerId = target->containerId;
    e.spec.command = opts->command;
    e.spec.tty = opts->tty;
    e.spec.stdin = opts->stdin;
    e.spec.stdout = opts->stdout;
    e.spec.stderr = opts->stderr;
    e.protocol = *protocol;
    return e;
  }

  // Answers one request. Returns true when the connection is finished with
  // (streamed logs, or handed to the WebSocket).
  awaitable<bool> route(Stream& stream, http::request<http::string_body>& req) {
    unsigned version = req.version();
    Plan p = plan(stream.native_handle(), req);
    if (auto* error = std::get_if<Error>(&p)) {
      Error e = *error;
      co_await answer(stream, std::move(e), version);
      co_return false;
    }
    if (auto* logs = std::get_if<LogsPlan>(&p)) {
      LogsPlan l = *logs;
      co_await serveLogs(stream, version, l.path, l.options, l.target);
      co_return true;
    }
    ExecPlan e = std::get<ExecPlan>(p);
    auto s = std::make_shared<ExecSession>(std::move(stream));
    s->ws.binary(true);
    s->ws.set_option(websocket::stream_base::timeout{std::chrono::seconds(10), websocket::stream_base::none(), false});
    s->ws.set_option(websocket::stream_base::decorator(
        [proto = e.protocol](websocket::response_type& res) { res.set(http::field::sec_websocket_protocol, proto); }));
    beast::error_code ec;
    co_await s->ws.async_accept(req, net::redirect_error(use_awaitable, ec));
    if (ec) co_return true;
    co_await runExec(s, std::move(e.spec));
    co_return true;
  }

  // Whether the run of the container that target names is over.
  bool runEnded(const AgentPath& ap, const ContainerTarget& target) {
    auto now = lookup.find(ap.ns, ap.pod, ap.container, false);
    return !now || !now->running || now->containerId != target.containerId;
  }

  awaitable<void> serveLogs(Stream& stream, unsigned version, const AgentPath& ap, const LogOptions& opts,
                            const ContainerTarget& target) {
    int fd = ::open(target.logPath.c_str(), O_RDONLY | O_CLOEXEC);
    int64_t offset = 0;
    if (fd >= 0 && opts.tailLines) {
      auto start = tailStartInFile(fd, *opts.tailLines);
      if (!start) {
        ::close(fd);
        co_await answer(stream, start.error(), version);
        co_return;
      }
      offset = *start;
    }
    http::response<http::empty_body> head{http::status::ok, version};
    head.set(http::field::content_type, "text/plain");
    head.chunked(true);
    head.keep_alive(false);
    http::response_serializer<http::empty_body> sr{head};
    beast::error_code ec;
    co_await http::async_write_header(stream, sr, net::redirect_error(use_awaitable, ec));

    // A read alongside the writes notices a client that went away while the
    // log is idle.
    auto ex = co_await net::this_coro::executor;
    struct Watch {
      explicit Watch(const net::any_io_executor& e) : wake(e), done(e) {}
      Signal wake, done;
      bool gone = false, finished = false;
    };
    auto w = std::make_shared<Watch>(ex);
    net::co_spawn(
        ex,
        [w, &stream]() -> awaitable<void> {
          std::array<char, 512> scratch;
          beast::error_code e;
          while (!e) co_await stream.async_read_some(net::buffer(scratch), net::redirect_error(use_awaitable, e));
          w->gone = true;
          w->finished = true;
          w->wake.notify();
          w->done.notify();
        },
        net::detached);

    std::optional<int64_t> left = opts.limitBytes;
    std::vector<char> buf(kReadChunk);
    bool ended = !target.running;
    auto nextCheck = std::chrono::steady_clock::now() + kFollowRecheck;
    while (!ec && !w->gone) {
      if (fd < 0) fd = ::open(target.logPath.c_str(), O_RDONLY | O_CLOEXEC);
      ssize_t n = 0;
      if (fd >= 0) {
        size_t want = left ? std::min<size_t>(buf.size(), static_cast<size_t>(*left)) : buf.size();
        n = ::pread(fd, buf.data(), want, offset);
      }
      if (n > 0) {
        offset += n;
        co_await net::async_write(stream, http::make_chunk(net::buffer(buf.data(), static_cast<size_t>(n))),
                                  net::redirect_error(use_awaitable, ec));
        if (left && (*left -= n) <= 0) break;
        continue;
      }
      if (!opts.follow || ended) break;
      if (std::chrono::steady_clock::now() >= nextCheck) {
        // The run is over: read what it wrote last, then end.
        ended = runEnded(ap, target);
        nextCheck = std::chrono::steady_clock::now() + kFollowRecheck;
        if (ended) continue;
      }
      net::steady_timer t(ex, kFollowPoll);
      t.async_wait([w](beast::error_code) { w->wake.notify(); });
      co_await w->wake.wait();
    }
    if (fd >= 0) ::close(fd);
    if (!ec && !w->gone) co_await net::async_write(stream, http::make_chunk_last(), net::redirect_error(use_awaitable, ec));
    beast::get_lowest_layer(stream).close();
    while (!w->finished) co_await w->done.wait();
  }
};

AgentServer::AgentServer(AgentServerOptions options, ContainerLookup& lookup)
    : impl_(std::make_unique<Impl>(std::move(options), lookup)) {}

AgentServer::~AgentServer() { stop(); }

Result<void> AgentServer::start() {
  auto& o = impl_->options;
  ::signal(SIGPIPE, SIG_IGN);
  try {
    auto& ctx = impl_->sslctx;
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                    ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    ctx.use_certificate_chain_file(o.certFile);
    ctx.use_private_key_file(o.keyFile, ssl::context::pem);
    ctx.load_verify_file(o.clientCaFile);
    // Ask for a client certificate without failing the handshake: a client
    // without one (or with a foreign one) gets a 401 Status it can read.
    ctx.set_verify_mode(ssl::verify_peer);
    ctx.set_verify_callback([](bool, ssl::verify_context&) { return true; });
    SSL_CTX_set_session_id_context(ctx.native_handle(), reinterpret_cast<const unsigned char*>("nk-agent"), 8);
    tcp::endpoint ep(net::ip::make_address(o.address), o.port);
    impl_->acceptor = std::make_unique<tcp::acceptor>(*impl_->ioc);
    impl_->acceptor->open(ep.protocol());
    impl_->acceptor->set_option(net::socket_base::reuse_address(true));
    impl_->acceptor->bind(ep);
    impl_->acceptor->listen(net::socket_base::max_listen_connections);
    impl_->boundPort = impl_->acceptor->local_endpoint().port();
  } catch (const std::exception& e) {
    return fail(Code::kUnavailable, fmt::format("agent server: listen on {}:{}: {}", o.address, o.port, e.what()));
  }
  net::co_spawn(*impl_->ioc, impl_->acceptLoop(), net::detached);
  for (int i = 0; i < 2; ++i) impl_->threads.emplace_back([this] { impl_->ioc->run(); });
  spdlog::info("agent server listening on {}:{}", o.address, impl_->boundPort);
  return {};
}

void AgentServer::stop() {
  if (!impl_ || !impl_->ioc) return;
  if (impl_->acceptor) {
    net::post(*impl_->ioc, [a = impl_->acceptor.get()] {
      beast::error_code ec;
      a->close(ec);
    });
  }
  impl_->ioc->stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  // Destroying the context destroys the sessions' coroutine frames, and with
  // them their sockets and commands, while everything they use still lives.
  impl_->acceptor.reset();
  impl_->ioc.reset();
}

uint16_t AgentServer::port() const { return impl_->boundPort; }

}  // namespace nanokube::kubelet
