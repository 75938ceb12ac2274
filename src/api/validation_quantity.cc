// Resource quantities (k8s.io/apimachinery/pkg/api/resource/quantity.go):
// parsing, comparison and the canonical text Kubernetes prints back.

#include <cctype>

#include "api/validation.h"

namespace nanokube::api {

namespace {

using Int = __int128;
constexpr Int kNano = 1000000000;

std::string toString(Int v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  if (neg) v = -v;
  std::string s;
  while (v > 0) {
    s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  return neg ? "-" + s : s;
}

Int pow10(int n) {
  Int r = 1;
  while (n-- > 0) r *= 10;
  return r;
}

// Decimal suffixes as powers of ten; binary ones as powers of 1024.
bool suffixScale(std::string_view s, int* exp10, int* exp1024, Quantity::Format* fmt) {
  static const std::pair<std::string_view, int> kDec[] = {
      {"", 0}, {"n", -9}, {"u", -6}, {"m", -3}, {"k", 3}, {"M", 6}, {"G", 9}, {"T", 12}, {"P", 15}, {"E", 18}};
  static const std::pair<std::string_view, int> kBin[] = {
      {"Ki", 1}, {"Mi", 2}, {"Gi", 3}, {"Ti", 4}, {"Pi", 5}, {"Ei", 6}};
  for (const auto& [name, e] : kDec) {
    if (s == name) { *exp10 = e; *fmt = Quantity::Format::kDecimalSI; return true; }
  }
  for (const auto& [name, e] : kBin) {
    if (s == name) { *exp1024 = e; *fmt = Quantity::Format::kBinarySI; return true; }
  }
  if (s.size() >= 2 && (s[0] == 'e' || s[0] == 'E')) {
    std::string_view n = s.substr(1);
    bool neg = n[0] == '-';
    if (n[0] == '+' || n[0] == '-') n.remove_prefix(1);
    if (n.empty() || n.size() > 3) return false;
    int v = 0;
    for (char c : n) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
      v = v * 10 + (c - '0');
    }
    *exp10 = neg ? -v : v;
    *fmt = Quantity::Format::kDecimalExponent;
    return true;
  }
  return false;
}

}  // namespace

std::optional<Quantity> parseQuantity(std::string_view text) {
  size_t i = 0;
  bool neg = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) neg = text[i++] == '-';
  Int mantissa = 0;
  int digits = 0, frac = 0;
  bool dot = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.' && !dot) { dot = true; continue; }
    if (!std::isdigit(static_cast<unsigned char>(c))) break;
    if (++digits > 30) return std::nullopt;
    mantissa = mantissa * 10 + (c - '0');
    if (dot) ++frac;
  }
  if (digits == 0) return std::nullopt;
  int exp10 = 0, exp1024 = 0;
  Quantity q;
  if (!suffixScale(text.substr(i), &exp10, &exp1024, &q.format)) return std::nullopt;
  Int v = mantissa;
  for (int k = 0; k < exp1024; ++k) v *= 1024;
  int shift = 9 + exp10 - frac;  // to nano-units
  if (shift > 30) return std::nullopt;
  if (shift >= 0) {
    v *= pow10(shift);
  } else {
    // Kubernetes rounds a value finer than its precision up, away from zero.
    Int d = pow10(-shift);
    v = (v + d - 1) / d;
  }
  q.nanos = neg ? -v : v;
  return q;
}

std::optional<Quantity> parseQuantity(const Json& value) {
  if (value.is_string()) return parseQuantity(std::string_view(value.get_ref<const std::string&>()));
  if (value.is_number_integer()) return parseQuantity(std::string_view(value.dump()));
  if (value.is_number_float()) {
    // JSON numbers such as 0.5 decode into a quantity as their decimal text.
    std::string s = value.dump();
    return parseQuantity(std::string_view(s));
  }
  return std::nullopt;
}

std::string Quantity::str() const {
  Int v = nanos < 0 ? -nanos : nanos;
  std::string sign = nanos < 0 ? "-" : "";
  if (v == 0) return "0";
  // Binary form only for whole values of at least 1024; others print as decimal.
  if (format == Format::kBinarySI && v % kNano == 0 && v >= 1024 * kNano) {
    static const char* kSuffix[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    Int whole = v / kNano;
    int k = 0;
    while (k < 6 && whole % 1024 == 0) { whole /= 1024; ++k; }
    return sign + toString(whole) + kSuffix[k];
  }
  int exp = -9;
  while (exp < 18 && v % 1000 == 0) { v /= 1000; exp += 3; }
  if (format == Format::kDecimalExponent) {
    return sign + toString(v) + (exp == 0 ? "" : "e" + std::to_string(exp));
  }
  static const char* kDecSuffix[] = {"n", "u", "m", "", "k", "M", "G", "T", "P", "E"};
  return sign + toString(v) + kDecSuffix[(exp + 9) / 3];
}

}  // namespace nanokube::api
