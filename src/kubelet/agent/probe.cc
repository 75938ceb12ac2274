#include "kubelet/agent/probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "kubelet/runtime/process.h"

namespace nanokube::kubelet {

namespace {

using Ms = std::chrono::milliseconds;

// Connects with a deadline; returns the socket or -1 with `why` set as Go's
// net package words it ("connect: connection refused", "i/o timeout").
int dial(const std::string& host, int port, Ms timeout, std::string& why) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    why = fmt::format("lookup {}: no such host", host);
    return -1;
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    why = std::strerror(errno);
    return -1;
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
    why = fmt::format("connect: {}", std::strerror(errno));
    close(fd);
    return -1;
  }
  pollfd p{fd, POLLOUT, 0};
  int n = poll(&p, 1, static_cast<int>(timeout.count()));
  if (n <= 0) {
    why = "i/o timeout";
    close(fd);
    return -1;
  }
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    why = fmt::format("connect: {}", std::strerror(err));
    close(fd);
    return -1;
  }
  return fd;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

ProbeResult httpProbe(const Probe& probe, const std::string& host) {
  std::string url = fmt::format("http://{}:{}{}", host, probe.port, probe.path);
  if (lower(probe.scheme) == "https") {
    return {false, fmt::format("Get \"https://{}:{}{}\": HTTPS probes are not supported by nanokube's agent yet", host,
                               probe.port, probe.path)};
  }
  std::string why;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(probe.timeoutSeconds);
  int fd = dial(host, probe.port, std::chrono::seconds(probe.timeoutSeconds), why);
  if (fd < 0) return {false, fmt::format("Get \"{}\": dial tcp {}:{}: {}", url, host, probe.port, lower(why))};
  std::string req = fmt::format("GET {} HTTP/1.1\r\nHost: {}:{}\r\nUser-Agent: kube-probe/1.32\r\nAccept: */*\r\n",
                                probe.path, host, probe.port);
  for (const auto& [k, v] : probe.headers) req += k + ": " + v + "\r\n";
  req += "Connection: close\r\n\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    close(fd);
    return {false, fmt::format("Get \"{}\": write: broken pipe", url)};
  }
  std::string resp;
  char buf[1024];
  while (resp.find("\r\n") == std::string::npos) {
    auto left = std::chrono::duration_cast<Ms>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      close(fd);
      return {false, fmt::format("Get \"{}\": context deadline exceeded (Client.Timeout exceeded while awaiting "
                                 "headers)",
                                 url)};
    }
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    resp.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  int code = parseHttpStatusLine(resp);
  if (code < 0) return {false, fmt::format("Get \"{}\": EOF", url)};
  if (code >= 200 && code < 400) return {true, ""};
  return {false, fmt::format("HTTP probe failed with statuscode: {}", code)};
}

}  // namespace

int parseHttpStatusLine(std::string_view response) {
  if (!response.starts_with("HTTP/1.")) return -1;
  auto sp = response.find(' ');
  if (sp == std::string_view::npos || response.size() < sp + 4) return -1;
  int code = 0;
  for (size_t i = sp + 1; i < sp + 4; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(response[i]))) return -1;
    code = code * 10 + (response[i] - '0');
  }
  return code;
}

ProbeResult runProbe(const Probe& probe, const std::string& podIp, const std::filesystem::path& runcRoot,
                     const std::string& containerId) {
  std::string host = probe.host.empty() ? podIp : probe.host;
  switch (probe.kind) {
    case Probe::Kind::kHttpGet:
      return httpProbe(probe, host);
    case Probe::Kind::kTcpSocket: {
      std::string why;
      int fd = dial(host, probe.port, std::chrono::seconds(probe.timeoutSeconds), why);
      if (fd < 0) return {false, fmt::format("dial tcp {}:{}: {}", host, probe.port, lower(why))};
      close(fd);
      return {true, ""};
    }
    case Probe::Kind::kExec: {
      // The probe's timeout is not enforced on exec probes yet.
      std::vector<std::string> argv = {"runc", "--root", runcRoot.string(), "exec", containerId};
      argv.insert(argv.end(), probe.command.begin(), probe.command.end());
      auto r = runtime::runProcess(argv);
      if (!r) return {false, r.error().message};
      if (r->exitCode == 0) return {true, ""};
      std::string out = r->out + r->err;
      while (!out.empty() && out.back() == '\n') out.pop_back();
      return {false, out.empty() ? fmt::format("command terminated with exit code {}", r->exitCode) : out};
    }
  }
  return {false, "unknown probe"};
}

}  // namespace nanokube::kubelet
