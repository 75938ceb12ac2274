#include "apiserver/allocator.h"

#include <arpa/inet.h>

#include <fmt/format.h>

namespace nanokube::apiserver {

std::string formatIpv4(uint32_t ip) {
  return fmt::format("{}.{}.{}.{}", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}

Result<uint32_t> parseIpv4(const std::string& text) {
  in_addr addr{};
  if (inet_pton(AF_INET, text.c_str(), &addr) != 1) {
    return fail(Code::kInvalid, fmt::format("\"{}\" is not a valid IPv4 address", text));
  }
  return ntohl(addr.s_addr);
}

std::string Ipv4Cidr::str() const { return fmt::format("{}/{}", formatIpv4(base), prefix); }

Result<Ipv4Cidr> parseCidr(const std::string& text) {
  size_t slash = text.find('/');
  if (slash == std::string::npos) return fail(Code::kInvalid, "missing prefix length in " + text);
  auto ip = parseIpv4(text.substr(0, slash));
  if (!ip) return std::unexpected(ip.error());
  int prefix = std::atoi(text.c_str() + slash + 1);
  if (prefix < 8 || prefix > 30) return fail(Code::kInvalid, "unsupported prefix length in " + text);
  uint32_t mask = prefix == 0 ? 0 : ~0u << (32 - prefix);
  return Ipv4Cidr{*ip & mask, prefix};
}

IpAllocator::IpAllocator(Ipv4Cidr cidr, uint64_t seed) : cidr_(cidr), used_(cidr.size()), rng_(seed) {
  used_.front() = true;  // network address
  used_.back() = true;   // broadcast address
}

Result<void> IpAllocator::allocate(const std::string& ip) {
  auto parsed = parseIpv4(ip);
  if (!parsed) return std::unexpected(parsed.error());
  uint32_t off = *parsed - cidr_.base;
  std::lock_guard lock(mu_);
  if (*parsed < cidr_.base || off >= cidr_.size() || off == 0 || off == cidr_.size() - 1) {
    return fail(Code::kInvalid,
                fmt::format("failed to allocate IP {}: the provided IP ({}) is not in the valid range. "
                            "The range of valid IPs is {}",
                            ip, ip, cidr_.str()));
  }
  if (used_[off]) {
    return fail(Code::kInvalid, fmt::format("failed to allocate IP {}: provided IP is already allocated", ip));
  }
  used_[off] = true;
  return {};
}

Result<std::string> IpAllocator::allocateNext() {
  std::lock_guard lock(mu_);
  uint32_t n = cidr_.size();
  uint32_t start = static_cast<uint32_t>(rng_() % n);
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t off = (start + i) % n;
    if (!used_[off]) {
      used_[off] = true;
      return formatIpv4(cidr_.base + off);
    }
  }
  return fail(Code::kInternal, "failed to allocate a serviceIP: range is full");
}

void IpAllocator::release(const std::string& ip) {
  auto parsed = parseIpv4(ip);
  if (!parsed) return;
  uint32_t off = *parsed - cidr_.base;
  std::lock_guard lock(mu_);
  if (*parsed >= cidr_.base && off > 0 && off < cidr_.size() - 1) used_[off] = false;
}

bool IpAllocator::isAllocated(const std::string& ip) const {
  auto parsed = parseIpv4(ip);
  if (!parsed) return false;
  uint32_t off = *parsed - cidr_.base;
  std::lock_guard lock(mu_);
  return *parsed >= cidr_.base && off < cidr_.size() && used_[off];
}

PortAllocator::PortAllocator(int first, int last, uint64_t seed)
    : first_(first), last_(last), used_(last - first + 1), rng_(seed) {}

Result<void> PortAllocator::allocate(int port) {
  std::lock_guard lock(mu_);
  if (port < first_ || port > last_) {
    return fail(Code::kInvalid,
                fmt::format("provided port is not in the valid range. The range of valid ports is {}-{}",
                            first_, last_));
  }
  if (used_[port - first_]) return fail(Code::kInvalid, "provided port is already allocated");
  used_[port - first_] = true;
  return {};
}

Result<int> PortAllocator::allocateNext() {
  std::lock_guard lock(mu_);
  int n = last_ - first_ + 1;
  int start = static_cast<int>(rng_() % n);
  for (int i = 0; i < n; ++i) {
    int off = (start + i) % n;
    if (!used_[off]) {
      used_[off] = true;
      return first_ + off;
    }
  }
  return fail(Code::kInternal, "range is full");
}

void PortAllocator::release(int port) {
  std::lock_guard lock(mu_);
  if (port >= first_ && port <= last_) used_[port - first_] = false;
}

bool PortAllocator::isAllocated(int port) const {
  std::lock_guard lock(mu_);
  return port >= first_ && port <= last_ && used_[port - first_];
}

}  // namespace nanokube::apiserver
