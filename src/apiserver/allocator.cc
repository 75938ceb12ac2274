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

CidrAllocator::CidrAllocator(Ipv4Cidr cluster, int subnetPrefix)
    : cluster_(cluster),
      subnetPrefix_(subnetPrefix),
      owners_(subnetPrefix >= cluster.prefix && subnetPrefix - cluster.prefix < 24
                  ? size_t{1} << (subnetPrefix - cluster.prefix)
                  : 0) {}

Result<std::pair<uint32_t, uint32_t>> CidrAllocator::indexes(const std::string& cidr) const {
  size_t slash = cidr.find('/');
  auto ip = parseIpv4(cidr.substr(0, slash));
  char* end = nullptr;
  long prefix = slash == std::string::npos ? -1 : std::strtol(cidr.c_str() + slash + 1, &end, 10);
  if (!ip || prefix < 0 || prefix > 32 || end == nullptr || *end != '\0') {
    return fail(Code::kInvalid, fmt::format("\"{}\" is not a valid CIDR", cidr));
  }
  uint32_t mask = prefix == 0 ? 0 : ~0u << (32 - prefix);
  if ((*ip & mask) != *ip) return fail(Code::kInvalid, fmt::format("\"{}\" has host bits set", cidr));
  uint32_t clusterMask = ~0u << (32 - cluster_.prefix);
  if (prefix < cluster_.prefix || (*ip & clusterMask) != cluster_.base) {
    return fail(Code::kInvalid, fmt::format("{} is not inside the cluster CIDR {}", cidr, cluster_.str()));
  }
  int shift = 32 - subnetPrefix_;
  uint32_t first = (*ip - cluster_.base) >> shift;
  uint32_t last = prefix >= subnetPrefix_ ? first : first + (1u << (subnetPrefix_ - prefix)) - 1;
  return std::pair{first, last};
}

Result<void> CidrAllocator::occupy(const std::string& cidr, const std::string& owner) {
  auto range = indexes(cidr);
  if (!range) return std::unexpected(range.error());
  std::lock_guard lock(mu_);
  for (uint32_t i = range->first; i <= range->second; ++i) {
    if (!owners_[i].empty()) {
      return fail(Code::kInvalid, fmt::format("{} is already allocated to node \"{}\"", cidr, owners_[i]));
    }
  }
  for (uint32_t i = range->first; i <= range->second; ++i) owners_[i] = owner;
  return {};
}

Result<std::string> CidrAllocator::allocateNext(const std::string& owner) {
  std::lock_guard lock(mu_);
  for (size_t n = 0; n < owners_.size(); ++n) {
    size_t i = (next_ + n) % owners_.size();
    if (owners_[i].empty()) {
      owners_[i] = owner;
      next_ = i + 1;
      return Ipv4Cidr{cluster_.base + (static_cast<uint32_t>(i) << (32 - subnetPrefix_)), subnetPrefix_}.str();
    }
  }
  return fail(Code::kUnavailable, fmt::format("no remaining pod CIDRs in the cluster CIDR {}", cluster_.str()));
}

void CidrAllocator::release(const std::string& cidr, const std::string& owner) {
  auto range = indexes(cidr);
  if (!range) return;
  std::lock_guard lock(mu_);
  for (uint32_t i = range->first; i <= range->second; ++i) {
    if (owners_[i] == owner) owners_[i].clear();
  }
}

bool CidrAllocator::isAllocated(const std::string& cidr) const {
  auto range = indexes(cidr);
  if (!range) return false;
  std::lock_guard lock(mu_);
  for (uint32_t i = range->first; i <= range->second; ++i) {
    if (!owners_[i].empty()) return true;
  }
  return false;
}

}  // namespace nanokube::apiserver
