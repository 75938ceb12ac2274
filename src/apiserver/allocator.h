#pragma once
// Allocators for Service cluster IPs, node ports and node pod CIDRs. The state is derived, not
// stored: at start the API server replays every stored Service into the
// allocators, so a restart never hands out a value twice (Kubernetes keeps a
// RangeAllocation object instead; rebuilding from the Services is equivalent
// here because the allocators live in the single API server process).
//
// Thread-safety: all methods lock; the registry calls them from any thread.

#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"

namespace nanokube::apiserver {

struct Ipv4Cidr {
  uint32_t base = 0;  // network address, host order
  int prefix = 0;
  uint32_t size() const { return prefix == 0 ? 0xffffffffu : (1u << (32 - prefix)); }
  std::string str() const;
};
Result<Ipv4Cidr> parseCidr(const std::string& text);
Result<uint32_t> parseIpv4(const std::string& text);
std::string formatIpv4(uint32_t ip);

// Hands out addresses of a CIDR, never the network or the broadcast address.
// Random choice, as Kubernetes' allocator, so that a recreated Service rarely
// gets the address a client may still have cached.
class IpAllocator {
 public:
  IpAllocator(Ipv4Cidr cidr, uint64_t seed);
  // Allocates `ip`; Invalid-style message texts as Kubernetes' ipallocator errors.
  Result<void> allocate(const std::string& ip);
  Result<std::string> allocateNext();
  void release(const std::string& ip);
  bool isAllocated(const std::string& ip) const;
  const Ipv4Cidr& cidr() const { return cidr_; }

 private:
  mutable std::mutex mu_;
  Ipv4Cidr cidr_;
  std::vector<bool> used_;
  std::mt19937_64 rng_;
};

class PortAllocator {
 public:
  PortAllocator(int first, int last, uint64_t seed);
  Result<void> allocate(int port);
  Result<int> allocateNext();
  void release(int port);
  bool isAllocated(int port) const;
  int first() const { return first_; }
  int last() const { return last_; }

 private:
  mutable std::mutex mu_;
  int first_, last_;
  std::vector<bool> used_;
  std::mt19937_64 rng_;
};

// Hands out the per-node pod subnets (/24 by default) of the cluster CIDR, as
// Kubernetes' node IPAM range allocator does (pkg/controller/nodeipam/ipam/
// cidrset): the scan for a free subnet starts after the last one handed out,
// as cidrset's nextCandidate does, so a freed subnet is not reused at once. Each subnet remembers the node holding it, for the message
// when a node asks for a taken one. State is rebuilt from the stored Nodes at
// start, as for Services.
class CidrAllocator {
 public:
  CidrAllocator(Ipv4Cidr cluster, int subnetPrefix);
  // Marks `cidr` (any prefix inside the cluster CIDR) as `owner`'s; Invalid
  // when it lies outside the cluster CIDR or overlaps an allocated subnet.
  Result<void> occupy(const std::string& cidr, const std::string& owner);
  // The next free subnet, marked as `owner`'s; Unavailable when all are taken.
  Result<std::string> allocateNext(const std::string& owner);
  // Frees the subnets `cidr` covers if `owner` holds them.
  void release(const std::string& cidr, const std::string& owner);
  bool isAllocated(const std::string& cidr) const;
  const Ipv4Cidr& cluster() const { return cluster_; }

 private:
  // The range of subnet indexes `cidr` covers, or an error.
  Result<std::pair<uint32_t, uint32_t>> indexes(const std::string& cidr) const;

  mutable std::mutex mu_;
  Ipv4Cidr cluster_;
  int subnetPrefix_;
  std::vector<std::string> owners_;  // "" when free
  size_t next_ = 0;
};

}  // namespace nanokube::apiserver
