#pragma once
// The pure part of the udp backend's data path: IPv4/TCP header handling, Internet
// checksums, and the two offload transforms that let the TUN device hand over and take back
// 64 KiB TCP "super-packets" (TSO/GRO) while the wire carries ordinary MTU-sized IP packets,
// one per UDP datagram, exactly as flannel's udp backend puts them on the wire.
//
//   sender:   TUN read (virtio_net_hdr, GSO TCPv4, 64 KiB)  -> segmentTcp4 -> N IP packets
//   receiver: N IP packets (one UDP GRO read)               -> coalescableRun + coalescedHeader
//             -> one TUN write (virtio_net_hdr, GSO TCPv4)
//
// Nothing here allocates or makes a system call; the data path calls it per packet.
// Checksums are computed over memory in its own byte order (RFC 1071 §2(B): the one's
// complement sum is byte-order independent), so a folded sum is stored back with memcpy.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "net/ip.h"

namespace nanokube::net::overlay::udp {

// struct virtio_net_hdr, as a TUN opened with IFF_VNET_HDR prepends it to every packet
// (in the host's byte order: TUN's default on a little-endian machine).
struct VnetHeader {
  uint8_t flags = 0;
  uint8_t gsoType = 0;
  uint16_t hdrLen = 0;
  uint16_t gsoSize = 0;
  uint16_t csumStart = 0;
  uint16_t csumOffset = 0;
};
static_assert(sizeof(VnetHeader) == 10);

inline constexpr uint8_t kVnetNeedsCsum = 1;   // VIRTIO_NET_HDR_F_NEEDS_CSUM
inline constexpr uint8_t kGsoNone = 0;         // VIRTIO_NET_HDR_GSO_NONE
inline constexpr uint8_t kGsoTcpv4 = 1;        // VIRTIO_NET_HDR_GSO_TCPV4
inline constexpr uint8_t kGsoEcn = 0x80;       // VIRTIO_NET_HDR_GSO_ECN

inline constexpr uint8_t kProtoTcp = 6;
inline constexpr size_t kMaxHeaders = 120;     // IPv4 (60) + TCP (60) with every option

// One's complement sum of `bytes` added to `sum`, not folded.
uint64_t checksumAdd(uint64_t sum, std::span<const uint8_t> bytes);
// Folds a sum to 16 bits (not complemented).
uint16_t checksumFold(uint64_t sum);
// The Internet checksum of `bytes` as stored in a header: ~fold(sum).
inline uint16_t checksum(std::span<const uint8_t> bytes) { return static_cast<uint16_t>(~checksumFold(checksumAdd(0, bytes))); }

// The parts of an IPv4 packet the data path needs.
struct Ipv4View {
  Ipv4 src;
  Ipv4 dst;
  uint8_t protocol = 0;
  size_t headerLen = 0;   // IHL * 4
  size_t totalLen = 0;    // from the header
};

// The header of `packet` when it is a plausible IPv4 packet: version 4, IHL >= 5, and the
// header (not necessarily the whole packet) within `packet`. Enough to route on.
std::optional<Ipv4View> parseIpv4(std::span<const uint8_t> packet);

// A packet received from a peer that may be written to the TUN: IPv4, total length equal to
// what was received, and a valid header checksum.
std::optional<Ipv4View> parseReceived(std::span<const uint8_t> packet);

// Finishes a checksum the kernel left to "hardware" (kVnetNeedsCsum): the field at
// csumStart + csumOffset holds the pseudo-header sum; the sum from csumStart to the end,
// complemented, replaces it. False when the offsets do not fit the packet.
bool completeChecksum(std::span<uint8_t> packet, uint16_t csumStart, uint16_t csumOffset);

// One MTU-sized TCP segment cut out of a super-packet: its own headers (a copy, fixed up),
// and its payload, which points into the super-packet (no copy).
struct Segment {
  uint8_t header[kMaxHeaders];
  uint16_t headerLen = 0;
  const uint8_t* payload = nullptr;
  uint32_t payloadLen = 0;
  size_t size() const { return headerLen + payloadLen; }
};

// Cuts an IPv4 TCP super-packet (what TUN reads with gsoType kGsoTcpv4) into segments of
// at most `mss` payload bytes, as the kernel's tcp_gso_segment does: sequence numbers
// advance, IP ids count up, FIN and PSH stay on the last segment only, CWR on the first
// only, and both checksums are complete. Writes at most `out.size()` segments and returns
// how many; nullopt when the packet is not IPv4/TCP, `mss` is 0, or `out` is too small.
std::optional<size_t> segmentTcp4(std::span<const uint8_t> packet, uint16_t mss, std::span<Segment> out);

// How many packets, starting at packets[start], form one run that can be written to the TUN
// as a single TCP super-packet: IPv4 without options or fragments, TCP, the same addresses,
// ports, ack, window and options, consecutive sequence numbers, every payload as long as the
// first except a shorter last one, only ACK set before the last (which may add PSH), and at
// most 65535 bytes in all. Always at least 1 (a packet that starts no run stands alone).
size_t coalescableRun(std::span<const std::span<const uint8_t>> packets, size_t start);

// The headers and virtio_net_hdr of the super-packet made of `run` (a run found by
// coalescableRun, at least two packets): the first packet's headers with the total length,
// IP checksum, the last packet's PSH, and the TCP pseudo-header sum for the kernel to finish
// (kVnetNeedsCsum); gso_size is the first packet's payload length. Returns the header length
// written into `header`.
size_t coalescedHeader(std::span<const std::span<const uint8_t>> run, uint8_t (&header)[kMaxHeaders], VnetHeader& vnet);

}  // namespace nanokube::net::overlay::udp
