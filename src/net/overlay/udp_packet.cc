#include "net/overlay/udp_packet.h"

#include <algorithm>
#include <cstring>

namespace nanokube::net::overlay::udp {

namespace {

constexpr uint8_t kTcpFin = 0x01;
constexpr uint8_t kTcpPsh = 0x08;
constexpr uint8_t kTcpAck = 0x10;
constexpr uint8_t kTcpCwr = 0x80;

uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t get32(const uint8_t* p) { return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3]; }
void put16(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void put32(uint8_t* p, uint32_t v) {
  put16(p, v >> 16);
  put16(p + 2, v);
}

// Stores a folded sum (or its complement) as the checksum field, in memory order.
void storeSum(uint8_t* field, uint16_t folded) { std::memcpy(field, &folded, 2); }

void setIpChecksum(uint8_t* ip, size_t headerLen) {
  ip[10] = ip[11] = 0;
  storeSum(ip + 10, checksum({ip, headerLen}));
}

// The TCP/UDP pseudo-header sum of RFC 793 §3.1 for `length` bytes of transport.
uint64_t pseudoHeaderSum(const uint8_t* ip, uint8_t protocol, uint32_t length) {
  uint8_t pseudo[12];
  std::memcpy(pseudo, ip + 12, 8);  // source and destination, as they are in the header
  pseudo[8] = 0;
  pseudo[9] = protocol;
  put16(pseudo + 10, length);
  return checksumAdd(0, pseudo);
}

size_t tcpHeaderLen(const uint8_t* tcp) { return static_cast<size_t>(tcp[12] >> 4) * 4; }

// A packet coalescableRun may merge: plain IPv4 (no options, not a fragment) carrying TCP
// with a payload, and exactly the length its header says. Returns the TCP header length.
std::optional<size_t> mergeableTcp(std::span<const uint8_t> p) {
  if (p.size() < 40 || p[0] != 0x45 || p[9] != kProtoTcp) return std::nullopt;
  if (get16(p.data() + 2) != p.size() || (get16(p.data() + 6) & 0x3fff) != 0) return std::nullopt;
  size_t thl = tcpHeaderLen(p.data() + 20);
  if (thl < 20 || 20 + thl >= p.size()) return std::nullopt;  // no payload: nothing to merge
  return thl;
}

}  // namespace

uint64_t checksumAdd(uint64_t sum, std::span<const uint8_t> bytes) {
  const uint8_t* p = bytes.data();
  size_t n = bytes.size();
  // 32-bit words into a 64-bit accumulator: the carries wait until the fold.
  while (n >= 16) {
    uint32_t w[4];
    std::memcpy(w, p, 16);
    sum += uint64_t{w[0]} + w[1] + w[2] + w[3];
    p += 16;
    n -= 16;
  }
  while (n >= 4) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    sum += w;
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    uint16_t w;
    std::memcpy(&w, p, 2);
    sum += w;
    p += 2;
    n -= 2;
  }
  if (n) {
    uint16_t w = 0;  // an odd last byte is padded with a zero byte after it
    std::memcpy(&w, p, 1);
    sum += w;
  }
  return sum;
}

uint16_t checksumFold(uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

std::optional<Ipv4View> parseIpv4(std::span<const uint8_t> packet) {
  if (packet.size() < 20 || (packet[0] >> 4) != 4) return std::nullopt;
  size_t ihl = size_t{packet[0] & 0x0fu} * 4;
  if (ihl < 20 || ihl > packet.size()) return std::nullopt;
  const uint8_t* p = packet.data();
  return Ipv4View{Ipv4{get32(p + 12)}, Ipv4{get32(p + 16)}, p[9], ihl, get16(p + 2)};
}

std::optional<Ipv4View> parseReceived(std::span<const uint8_t> packet) {
  auto ip = parseIpv4(packet);
  if (!ip || ip->totalLen != packet.size()) return std::nullopt;
  if (checksum(packet.first(ip->headerLen)) != 0) return std::nullopt;
  return ip;
}

bool completeChecksum(std::span<uint8_t> packet, uint16_t csumStart, uint16_t csumOffset) {
  if (size_t{csumStart} + csumOffset + 2 > packet.size()) return false;
  uint16_t sum = checksum(packet.subspan(csumStart));
  // A UDP checksum that computes to 0 is sent as 0xffff (RFC 768); for TCP the field is
  // never zero after ~ unless the sum was 0xffff, and 0xffff is equivalent.
  if (sum == 0) sum = 0xffff;
  storeSum(packet.data() + csumStart + csumOffset, sum);
  return true;
}

std::optional<size_t> segmentTcp4(std::span<const uint8_t> packet, uint16_t mss, std::span<Segment> out) {
  auto ip = parseIpv4(packet);
  if (!ip || ip->protocol != kProtoTcp || mss == 0 || packet.size() < ip->headerLen + 20) return std::nullopt;
  const uint8_t* tcp = packet.data() + ip->headerLen;
  size_t thl = tcpHeaderLen(tcp);
  size_t headerLen = ip->headerLen + thl;
  if (thl < 20 || headerLen > packet.size()) return std::nullopt;
  size_t payloadLen = packet.size() - headerLen;
  size_t count = std::max<size_t>(1, (payloadLen + mss - 1) / mss);
  if (count > out.size()) return std::nullopt;

  uint32_t seq = get32(tcp + 4);
  uint16_t id = get16(packet.data() + 4);
  uint8_t flags = tcp[13];
  for (size_t i = 0; i < count; ++i) {
    Segment& s = out[i];
    size_t offset = i * mss;
    size_t len = std::min<size_t>(mss, payloadLen - offset);
    std::memcpy(s.header, packet.data(), headerLen);
    s.headerLen = static_cast<uint16_t>(headerLen);
    s.payload = packet.data() + headerLen + offset;
    s.payloadLen = static_cast<uint32_t>(len);

    uint8_t* h = s.header;
    put16(h + 2, headerLen + len);
    put16(h + 4, static_cast<uint16_t>(id + i));
    setIpChecksum(h, ip->headerLen);

    uint8_t* th = h + ip->headerLen;
    put32(th + 4, seq + static_cast<uint32_t>(offset));
    uint8_t f = flags;
    if (i + 1 != count) f &= static_cast<uint8_t>(~(kTcpFin | kTcpPsh));
    if (i != 0) f &= static_cast<uint8_t>(~kTcpCwr);
    th[13] = f;
    th[16] = th[17] = 0;
    uint64_t sum = pseudoHeaderSum(h, kProtoTcp, static_cast<uint32_t>(thl + len));
    sum = checksumAdd(sum, {th, thl});
    sum = checksumAdd(sum, {s.payload, len});
    storeSum(th + 16, static_cast<uint16_t>(~checksumFold(sum)));
  }
  return count;
}

size_t coalescableRun(std::span<const std::span<const uint8_t>> packets, size_t start) {
  const auto& first = packets[start];
  auto thl = mergeableTcp(first);
  if (!thl || first[20 + 13] != kTcpAck) return 1;
  const uint8_t* ip0 = first.data();
  const uint8_t* tcp0 = ip0 + 20;
  size_t mss = first.size() - 20 - *thl;
  size_t total = first.size();
  uint32_t nextSeq = get32(tcp0 + 4) + static_cast<uint32_t>(mss);

  size_t count = 1;
  for (size_t j = start + 1; j < packets.size(); ++j) {
    const auto& p = packets[j];
    auto pthl = mergeableTcp(p);
    if (!pthl || *pthl != *thl) break;
    const uint8_t* ip = p.data();
    const uint8_t* tcp = ip + 20;
    size_t len = p.size() - 20 - *thl;
    uint8_t flags = tcp[13];
    // Same TOS, DF, TTL and addresses; same ports, ack, header length, window, urgent
    // pointer and options; the next sequence number; ACK with at most PSH.
    if (ip[1] != ip0[1] || (ip[6] & 0x40) != (ip0[6] & 0x40) || ip[8] != ip0[8] ||
        std::memcmp(ip + 12, ip0 + 12, 8) != 0 || std::memcmp(tcp, tcp0, 4) != 0 ||
        std::memcmp(tcp + 8, tcp0 + 8, 5) != 0 || std::memcmp(tcp + 14, tcp0 + 14, 2) != 0 ||
        std::memcmp(tcp + 18, tcp0 + 18, *thl - 18) != 0 || get32(tcp + 4) != nextSeq ||
        (flags & ~kTcpPsh) != kTcpAck || len > mss || total + len > 65535) {
      break;
    }
    ++count;
    total += len;
    nextSeq += static_cast<uint32_t>(len);
    if (len < mss || (flags & kTcpPsh)) break;
  }
  return count;
}

size_t coalescedHeader(std::span<const std::span<const uint8_t>> run, uint8_t (&header)[kMaxHeaders], VnetHeader& vnet) {
  const auto& first = run.front();
  size_t thl = tcpHeaderLen(first.data() + 20);
  size_t headerLen = 20 + thl;
  size_t payload = 0;
  for (const auto& p : run) payload += p.size() - headerLen;
  std::memcpy(header, first.data(), headerLen);
  put16(header + 2, headerLen + payload);
  setIpChecksum(header, 20);
  uint8_t* th = header + 20;
  th[13] = static_cast<uint8_t>(kTcpAck | (run.back()[20 + 13] & kTcpPsh));
  th[16] = th[17] = 0;
  storeSum(th + 16, checksumFold(pseudoHeaderSum(header, kProtoTcp, static_cast<uint32_t>(thl + payload))));
  vnet = VnetHeader{kVnetNeedsCsum, kGsoTcpv4, static_cast<uint16_t>(headerLen),
                    static_cast<uint16_t>(first.size() - headerLen), 20, 16};
  return headerLen;
}

}  // namespace nanokube::net::overlay::udp
