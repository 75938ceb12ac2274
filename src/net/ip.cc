#include "net/ip.h"

#include <charconv>

namespace nanokube::net {

namespace {

// Parses a decimal number in [0, max] that fills `text` exactly; no signs, no leading zeros
// beyond a single "0", so that "010" is not silently read as ten.
std::optional<uint32_t> parseDecimal(std::string_view text, uint32_t max) {
  if (text.empty() || text.size() > 3 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value > max) return std::nullopt;
  return value;
}

}  // namespace

std::optional<Ipv4> Ipv4::parse(std::string_view text) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) {
    size_t dot = i < 3 ? text.find('.') : text.size();
    if (dot == std::string_view::npos) return std::nullopt;
    auto octet = parseDecimal(text.substr(0, dot), 255);
    if (!octet) return std::nullopt;
    value = (value << 8) | *octet;
    text.remove_prefix(i < 3 ? dot + 1 : dot);
  }
  if (!text.empty()) return std::nullopt;
  return Ipv4{value};
}

std::string Ipv4::toString() const {
  return std::to_string(value >> 24) + "." + std::to_string((value >> 16) & 0xff) + "." +
         std::to_string((value >> 8) & 0xff) + "." + std::to_string(value & 0xff);
}

std::optional<Ipv4Cidr> Ipv4Cidr::parse(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto address = Ipv4::parse(text.substr(0, slash));
  auto prefix = parseDecimal(text.substr(slash + 1), 32);
  if (!address || !prefix) return std::nullopt;
  return Ipv4Cidr{*address, static_cast<int>(*prefix)};
}

std::string Ipv4Cidr::toString() const { return address.toString() + "/" + std::to_string(prefix); }

}  // namespace nanokube::net
