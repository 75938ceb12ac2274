// The udp backend's pure parts: the peer table, and the packet handling of its data path
// (checksums, IPv4 parsing, TSO segmentation and the receiver's coalescing), checked
// against a straightforward big-endian checksum written here.

#include <gtest/gtest.h>

#include <cstring>
#include <numeric>
#include <vector>

#include "net/overlay/udp.h"
#include "net/overlay/udp_packet.h"

namespace nanokube::net::overlay {
namespace {

using Bytes = std::vector<uint8_t>;

NodeInfo peer(std::string name, const char* ip, const char* cidr, std::string backend = "udp") {
  return NodeInfo{std::move(name), *Ipv4::parse(ip), *Ipv4Cidr::parse(cidr), std::move(backend), ""};
}

std::optional<std::string> lookup(const PeerTable& table, const char* ip) {
  auto found = table.lookup(*Ipv4::parse(ip));
  return found ? std::optional(found->toString()) : std::nullopt;
}

TEST(PeerTable, LooksUpTheNodeWhosePodCidrHoldsTheDestination) {
  auto table = PeerTable::build({peer("b", "192.168.254.3", "10.244.2.0/24"), peer("c", "192.168.254.4", "10.244.3.0/24"),
                                 peer("wide", "192.168.254.9", "10.245.0.0/16"), peer("narrow", "192.168.254.10", "10.245.7.0/24"),
                                 peer("vx", "192.168.254.5", "10.244.4.0/24", "vxlan"), peer("blank", "192.168.254.6", "10.244.5.0/24", "")});
  ASSERT_TRUE(table) << table.error().message;
  EXPECT_EQ(table->size(), 5u);
  struct Case {
    const char* dst;
    std::optional<std::string> peer;
  };
  for (const auto& c : {Case{"10.244.2.7", "192.168.254.3"}, Case{"10.244.2.0", "192.168.254.3"},
                        Case{"10.244.2.255", "192.168.254.3"}, Case{"10.244.3.200", "192.168.254.4"},
                        Case{"10.244.1.5", std::nullopt}, Case{"10.244.4.5", std::nullopt} /* another backend */,
                        Case{"10.244.5.1", "192.168.254.6"} /* no annotation yet: assumed udp */,
                        Case{"10.245.7.1", "192.168.254.10"} /* longest prefix */, Case{"10.245.8.1", "192.168.254.9"},
                        Case{"8.8.8.8", std::nullopt}}) {
    EXPECT_EQ(lookup(*table, c.dst), c.peer) << c.dst;
  }
}

TEST(PeerTable, EmptyAndConflicts) {
  auto empty = PeerTable::build({});
  ASSERT_TRUE(empty);
  EXPECT_EQ(lookup(*empty, "10.244.2.1"), std::nullopt);

  auto same = PeerTable::build({peer("b", "192.168.254.3", "10.244.2.0/24"), peer("b", "192.168.254.3", "10.244.2.0/24")});
  ASSERT_TRUE(same);
  EXPECT_EQ(same->size(), 1u);

  auto clash = PeerTable::build({peer("b", "192.168.254.3", "10.244.2.0/24"), peer("c", "192.168.254.4", "10.244.2.0/24")});
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error().code, Code::kInvalid);
  EXPECT_EQ(clash.error().message, "podCIDR 10.244.2.0/24 is claimed by peers b and c");
}

TEST(UdpOverlay, PodMtuLeavesRoomForIpAndUdpHeaders) {
  EXPECT_EQ(makeUdpOverlay({Backend::kUdp, "eth0", 1500})->podMtu(), 1472u);
  EXPECT_EQ(makeUdpOverlay({Backend::kUdp, "eth0", 9000})->podMtu(), 8972u);
}

TEST(UdpOverlay, SyncWithoutSetUpAndTearDownTwiceAreHarmless) {
  UdpOverlay overlay({Backend::kUdp, "eth0", 1500});
  EXPECT_TRUE(overlay.sync({peer("b", "192.168.254.3", "10.244.2.0/24")}));
  EXPECT_FALSE(overlay.sync({peer("b", "192.168.254.3", "10.244.2.0/24"), peer("c", "192.168.254.4", "10.244.2.0/24")}));
  EXPECT_TRUE(overlay.tearDown());
  EXPECT_TRUE(overlay.tearDown());
  EXPECT_EQ(overlay.threads(), 0u);
}

// --- packets -------------------------------------------------------------------------

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t be32(const uint8_t* p) { return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3]; }

// RFC 1071 the slow way: 16-bit big-endian words, end-around carry.
uint16_t referenceSum(const Bytes& bytes, uint32_t sum = 0) {
  for (size_t i = 0; i < bytes.size(); i += 2) {
    sum += uint32_t{bytes[i]} << 8 | (i + 1 < bytes.size() ? bytes[i + 1] : 0);
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

bool ipHeaderOk(const Bytes& p) { return referenceSum(Bytes(p.begin(), p.begin() + (p[0] & 0xf) * 4)) == 0xffff; }

bool transportOk(const Bytes& p) {
  size_t ihl = (p[0] & 0xfu) * 4;
  Bytes pseudo(p.begin() + 12, p.begin() + 20);
  size_t len = p.size() - ihl;
  pseudo.insert(pseudo.end(), {0, p[9], static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(len)});
  uint32_t sum = referenceSum(pseudo);
  return referenceSum(Bytes(p.begin() + static_cast<long>(ihl), p.end()), sum) == 0xffff;
}

void put16(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void put32(uint8_t* p, uint32_t v) {
  put16(p, v >> 16);
  put16(p + 2, v);
}
void setChecksum(uint8_t* field, uint16_t folded) {
  put16(field, static_cast<uint16_t>(~folded));
}

struct Tcp {
  uint32_t seq = 1000;
  uint8_t flags = 0x10;
  size_t payload = 100;
  uint16_t sport = 40000;
  uint16_t dport = 5201;
  size_t options = 12;  // a timestamp option, as Linux sends it
  uint8_t fill = 0;
};

// A complete IPv4/TCP packet 10.244.1.5 -> 10.244.2.7 with valid checksums.
Bytes tcpPacket(const Tcp& t) {
  size_t thl = 20 + t.options;
  Bytes p(20 + thl + t.payload);
  p[0] = 0x45;
  put16(&p[2], p.size());
  put16(&p[4], 0x1234);
  p[6] = 0x40;  // DF
  p[8] = 64;
  p[9] = 6;
  put32(&p[12], 0x0af40105);
  put32(&p[16], 0x0af40207);
  uint8_t* tcp = &p[20];
  put16(tcp, t.sport);
  put16(tcp + 2, t.dport);
  put32(tcp + 4, t.seq);
  put32(tcp + 8, 777);
  tcp[12] = static_cast<uint8_t>((thl / 4) << 4);
  tcp[13] = t.flags;
  put16(tcp + 14, 502);
  for (size_t i = 0; i < t.options; i += 4) put32(tcp + 20 + i, i == 0 ? 0x0101080a : 0x01020304);
  for (size_t i = 0; i < t.payload; ++i) p[20 + thl + i] = static_cast<uint8_t>(i * 7 + t.fill);
  setChecksum(&p[10], referenceSum(Bytes(p.begin(), p.begin() + 20)));
  Bytes pseudo(p.begin() + 12, p.begin() + 20);
  size_t len = thl + t.payload;
  pseudo.insert(pseudo.end(), {0, 6, static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(len)});
  setChecksum(tcp + 16, referenceSum(Bytes(p.begin() + 20, p.end()), referenceSum(pseudo)));
  return p;
}

TEST(UdpPacket, ChecksumMatchesRfc1071) {
  Bytes example = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  uint16_t sum = udp::checksum(example);
  uint8_t stored[2];
  std::memcpy(stored, &sum, 2);
  EXPECT_EQ(be16(stored), static_cast<uint16_t>(~0xddf2));
  for (size_t len : {0, 1, 3, 15, 16, 17, 63, 1500, 65535}) {
    Bytes b(len);
    for (size_t i = 0; i < len; ++i) b[i] = static_cast<uint8_t>(i * 131 + 7);
    uint16_t s = udp::checksum(b);
    std::memcpy(stored, &s, 2);
    EXPECT_EQ(be16(stored), static_cast<uint16_t>(~referenceSum(b))) << len;
  }
}

TEST(UdpPacket, ParsesIpv4AndRejectsWhatIsNotAWholePacket) {
  Bytes p = tcpPacket({});
  auto ip = udp::parseReceived(p);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->src.toString(), "10.244.1.5");
  EXPECT_EQ(ip->dst.toString(), "10.244.2.7");
  EXPECT_EQ(ip->protocol, 6);
  EXPECT_EQ(ip->headerLen, 20u);
  EXPECT_EQ(ip->totalLen, p.size());

  Bytes v6 = p;
  v6[0] = 0x60;
  EXPECT_FALSE(udp::parseIpv4(v6));
  Bytes shortIhl = p;
  shortIhl[0] = 0x44;
  EXPECT_FALSE(udp::parseIpv4(shortIhl));
  EXPECT_FALSE(udp::parseIpv4(std::span(p).first(19)));
  EXPECT_TRUE(udp::parseIpv4(std::span(p).first(20)));        // enough to route on
  EXPECT_FALSE(udp::parseReceived(std::span(p).first(60)));   // but not a whole packet
  Bytes badSum = p;
  badSum[8] = 63;
  EXPECT_FALSE(udp::parseReceived(badSum));
  Bytes longer = p;
  longer.push_back(0);
  EXPECT_FALSE(udp::parseReceived(longer));
}

TEST(UdpPacket, CompletesAPartialChecksum) {
  // A UDP packet as the kernel hands it with CHECKSUM_PARTIAL: the field holds the folded
  // pseudo-header sum, not complemented.
  Bytes p(20 + 8 + 33);
  p[0] = 0x45;
  put16(&p[2], p.size());
  p[9] = 17;
  put32(&p[12], 0x0af40105);
  put32(&p[16], 0x0af40207);
  put16(&p[20], 53);
  put16(&p[22], 5353);
  put16(&p[24], 8 + 33);
  for (size_t i = 28; i < p.size(); ++i) p[i] = static_cast<uint8_t>(i);
  Bytes pseudo(p.begin() + 12, p.begin() + 20);
  pseudo.insert(pseudo.end(), {0, 17, 0, 41});
  put16(&p[26], referenceSum(pseudo));
  EXPECT_FALSE(transportOk(p));
  ASSERT_TRUE(udp::completeChecksum(p, 20, 6));
  EXPECT_TRUE(transportOk(p));
  EXPECT_FALSE(udp::completeChecksum(p, 20, static_cast<uint16_t>(p.size())));
}

Bytes materialize(const udp::Segment& s) {
  Bytes out(s.header, s.header + s.headerLen);
  out.insert(out.end(), s.payload, s.payload + s.payloadLen);
  return out;
}

TEST(UdpPacket, SegmentsATsoSuperPacketAsTheKernelWould) {
  Bytes super = tcpPacket({.seq = 0xfffff000, .flags = 0x18 /* ACK|PSH */, .payload = 10000});
  std::vector<udp::Segment> out(64);
  auto count = udp::segmentTcp4(super, 1408, out);
  ASSERT_TRUE(count);
  ASSERT_EQ(*count, 8u);  // 7 * 1408 + 144
  size_t thl = 32;
  for (size_t i = 0; i < *count; ++i) {
    Bytes seg = materialize(out[i]);
    size_t expected = i + 1 < *count ? 1408 : 10000 - 7 * 1408;
    SCOPED_TRACE(i);
    EXPECT_EQ(seg.size(), 20 + thl + expected);
    EXPECT_EQ(be16(&seg[2]), seg.size());
    EXPECT_EQ(be16(&seg[4]), 0x1234 + i);
    EXPECT_EQ(be32(&seg[24]), 0xfffff000u + static_cast<uint32_t>(i * 1408));  // wraps
    EXPECT_EQ(seg[33], i + 1 < *count ? 0x10 : 0x18);
    EXPECT_TRUE(ipHeaderOk(seg));
    EXPECT_TRUE(transportOk(seg));
    EXPECT_EQ(0, std::memcmp(&seg[20 + thl], &super[20 + thl + i * 1408], expected));
  }
  // A payload that fits one segment is one segment, its checksum still completed.
  Bytes small = tcpPacket({.payload = 10});
  ASSERT_EQ(udp::segmentTcp4(small, 1408, out), 1u);
  EXPECT_EQ(materialize(out[0]), small);

  EXPECT_FALSE(udp::segmentTcp4(super, 1408, std::span(out).first(7)));  // no room
  EXPECT_FALSE(udp::segmentTcp4(super, 0, out));
  Bytes notTcp = super;
  notTcp[9] = 17;
  EXPECT_FALSE(udp::segmentTcp4(notTcp, 1408, out));
}

TEST(UdpPacket, CoalescesSegmentsBackIntoTheSuperPacket) {
  Bytes super = tcpPacket({.flags = 0x18, .payload = 30000});
  std::vector<udp::Segment> out(64);
  auto count = udp::segmentTcp4(super, 1420, out);
  ASSERT_EQ(count, 22u);
  std::vector<Bytes> segs;
  for (size_t i = 0; i < *count; ++i) segs.push_back(materialize(out[i]));
  std::vector<std::span<const uint8_t>> views(segs.begin(), segs.end());
  ASSERT_EQ(udp::coalescableRun(views, 0), 22u);
  ASSERT_EQ(udp::coalescableRun(views, 5), 17u);

  uint8_t header[udp::kMaxHeaders];
  udp::VnetHeader vnet;
  size_t headerLen = udp::coalescedHeader(views, header, vnet);
  ASSERT_EQ(headerLen, 52u);
  EXPECT_EQ(vnet.flags, udp::kVnetNeedsCsum);
  EXPECT_EQ(vnet.gsoType, udp::kGsoTcpv4);
  EXPECT_EQ(vnet.gsoSize, 1420);
  EXPECT_EQ(vnet.hdrLen, 52);
  EXPECT_EQ(vnet.csumStart, 20);
  EXPECT_EQ(vnet.csumOffset, 16);
  Bytes merged(header, header + headerLen);
  for (const auto& s : segs) merged.insert(merged.end(), s.begin() + 52, s.end());
  EXPECT_TRUE(ipHeaderOk(merged));
  // What the kernel does with NEEDS_CSUM gives the original packet back, byte for byte,
  // except the IP id, which is the first segment's (the same as the super-packet's).
  ASSERT_TRUE(udp::completeChecksum(merged, vnet.csumStart, vnet.csumOffset));
  EXPECT_EQ(merged, super);
}

TEST(UdpPacket, CoalescesOnlyWhatIsOneFlowInOrder) {
  auto run = [](std::vector<Bytes> packets) {
    std::vector<std::span<const uint8_t>> views(packets.begin(), packets.end());
    return udp::coalescableRun(views, 0);
  };
  const size_t m = 1000;
  Tcp a{.seq = 1, .payload = m};
  Tcp b{.seq = 1 + m, .payload = m};
  Tcp c{.seq = 1 + 2 * m, .payload = m};
  auto with = [](Tcp t, auto change) {
    change(t);
    return tcpPacket(t);
  };
  EXPECT_EQ(run({tcpPacket(a), tcpPacket(b), tcpPacket(c)}), 3u);
  EXPECT_EQ(run({tcpPacket(a)}), 1u);
  EXPECT_EQ(run({tcpPacket(a), with(b, [](Tcp& t) { t.flags = 0x18; }), tcpPacket(c)}), 2u);  // PSH ends a run
  EXPECT_EQ(run({tcpPacket(a), with(b, [](Tcp& t) { t.payload = 10; }), with(c, [](Tcp& t) { t.seq = 1 + 1000 + 10; })}), 2u);
  EXPECT_EQ(run({tcpPacket(a), with(b, [](Tcp& t) { t.payload = 1001; })}), 1u);         // longer than the first
  EXPECT_EQ(run({tcpPacket(a), with(b, [](Tcp& t) { t.seq += 1; })}), 1u);                // gap
  EXPECT_EQ(run({tcpPacket(a), with(b, [](Tcp& t) { t.sport = 40001; })}), 1u);          // another flow
  EXPECT_EQ(run({tcpPacket(a), with(b, [](Tcp& t) { t.options = 0; })}), 1u);            // other options
  EXPECT_EQ(run({tcpPacket(a), with(b, [](Tcp& t) { t.payload = 0; })}), 1u);            // a pure ACK
  EXPECT_EQ(run({with(a, [](Tcp& t) { t.flags = 0x18; }), tcpPacket(b)}), 1u);          // PSH first
  EXPECT_EQ(run({with(a, [](Tcp& t) { t.flags = 0x02; }), tcpPacket(b)}), 1u);          // SYN
  EXPECT_EQ(run({with(a, [](Tcp& t) { t.flags = 0x11; }), tcpPacket(b)}), 1u);          // FIN

  // No more than 65535 bytes in all.
  std::vector<Bytes> many;
  for (uint32_t i = 0; i < 70; ++i) many.push_back(tcpPacket({.seq = 1 + i * 1400, .payload = 1400}));
  size_t n = run(many);
  EXPECT_EQ(n, (65535 - 52) / 1400);
}

}  // namespace
}  // namespace nanokube::net::overlay
