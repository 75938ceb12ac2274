#pragma once
// Pod IP allocation from the node's podCIDR, keyed by pod UID.
//
// Ipam is the pure allocator: no I/O, deterministic, unit-tested by tables. IpamStore wraps
// it with a state file so that a restarted agent hands out nothing twice and leaks nothing:
// every change is written (temp file, fsync, rename, fsync of the directory) before the call
// returns, and a failed write leaves memory as it was.
//
// Rules, as the CNI host-local plugin keeps them: the network and broadcast addresses are
// never handed out, the first host address is the gateway on the bridge, and allocation goes
// round-robin from the last address handed out, so a just-freed IP is reused last — a pod
// that comes up on the IP of one that just died would otherwise get its stale ARP entries
// and conntrack flows.

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "net/ip.h"

namespace nanokube::net {

class Ipam {
 public:
  // `podCidr` is the node's subnet ("10.244.1.0/24"); prefixes /8 to /30 are accepted.
  static Result<Ipam> create(const Ipv4Cidr& podCidr);

  const Ipv4Cidr& podCidr() const { return podCidr_; }
  // The first host address: the bridge's address and the pods' default gateway.
  Ipv4 gateway() const { return Ipv4{podCidr_.network().value + 1}; }
  // The gateway with the subnet's prefix, as it goes on the bridge ("10.244.1.1/24").
  Ipv4Cidr gatewayCidr() const { return Ipv4Cidr{gateway(), podCidr_.prefix}; }

  // The IP of `uid`, allocating one if it has none; kUnavailable when the subnet is full.
  Result<Ipv4> allocate(const std::string& uid);
  std::optional<Ipv4> lookup(const std::string& uid) const;
  // Frees the IP of `uid`; false when it had none.
  bool release(const std::string& uid);
  // Frees the IP of every UID not in `live`; returns the UIDs freed.
  std::vector<std::string> reconcile(const std::set<std::string>& live);
  const std::map<std::string, Ipv4>& allocations() const { return byUid_; }

  // The state file's content: {"podCIDR": "...", "last": "...", "allocations": {uid: ip}}.
  std::string serialize() const;
  // Reads a state file's content for the subnet `podCidr`. A file written for another subnet
  // is a kConflict: its IPs mean nothing in the new one, and the caller decides what to do.
  static Result<Ipam> parse(const std::string& text, const Ipv4Cidr& podCidr);

 private:
  explicit Ipam(const Ipv4Cidr& podCidr) : podCidr_(podCidr), last_(gateway()) {}
  Ipv4 first() const { return Ipv4{gateway().value + 1}; }
  Ipv4 lastHost() const { return Ipv4{podCidr_.broadcast().value - 1}; }

  Ipv4Cidr podCidr_;
  Ipv4 last_;  // the address handed out last; the next search starts after it
  std::map<std::string, Ipv4> byUid_;
  std::set<Ipv4> used_;
};

// Ipam persisted in one file. Thread-safe: the agent's pod workers may call it concurrently.
class IpamStore {
 public:
  // Loads `path` if it exists (else starts empty) for the subnet `podCidr`.
  static Result<std::unique_ptr<IpamStore>> open(const std::filesystem::path& path, const Ipv4Cidr& podCidr);

  Ipv4 gateway() const { return ipam_.gateway(); }
  Ipv4Cidr gatewayCidr() const { return ipam_.gatewayCidr(); }
  const Ipv4Cidr& podCidr() const { return ipam_.podCidr(); }

  Result<Ipv4> allocate(const std::string& uid);
  std::optional<Ipv4> lookup(const std::string& uid) const;
  // Frees the IP of `uid`; succeeds when it had none.
  Result<void> release(const std::string& uid);
  Result<std::vector<std::string>> reconcile(const std::set<std::string>& live);
  std::map<std::string, Ipv4> allocations() const;

 private:
  IpamStore(std::filesystem::path path, Ipam ipam) : path_(std::move(path)), ipam_(std::move(ipam)) {}
  // Writes `next` to the file and, once it is durable, makes it the current state.
  Result<void> commit(Ipam next);

  std::filesystem::path path_;
  mutable std::mutex mu_;
  Ipam ipam_;
};

// Writes `content` to `path` atomically: a reader or a crash sees the old or the new file,
// never a mix. The directory is fsynced so that the rename itself survives a power loss.
Result<void> writeFileAtomically(const std::filesystem::path& path, const std::string& content);

}  // namespace nanokube::net
