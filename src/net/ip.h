#pragma once
// IPv4 addresses and prefixes as plain values. The pod network is IPv4 only for now
// (DESIGN.md: 10.244.0.0/16, one /24 per node), so a uint32_t in host byte order is
// the whole representation; parsing and printing happen here and nowhere else.

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nanokube::net {

struct Ipv4 {
  uint32_t value = 0;  // host byte order: 10.244.1.2 is 0x0af40102

  static std::optional<Ipv4> parse(std::string_view text);
  std::string toString() const;
  auto operator<=>(const Ipv4&) const = default;
};

// An address with a prefix length, as `ip addr` writes it: "10.244.1.5/24".
// The address need not be the network address (an interface address keeps its host bits).
struct Ipv4Cidr {
  Ipv4 address;
  int prefix = 32;

  static std::optional<Ipv4Cidr> parse(std::string_view text);
  std::string toString() const;

  uint32_t mask() const { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }
  Ipv4 network() const { return Ipv4{address.value & mask()}; }
  Ipv4 broadcast() const { return Ipv4{network().value | ~mask()}; }
  bool contains(Ipv4 ip) const { return (ip.value & mask()) == network().value; }
  auto operator<=>(const Ipv4Cidr&) const = default;
};

}  // namespace nanokube::net
