#include "kubelet/images/reference.h"

#include <algorithm>
#include <cctype>

namespace nanokube::kubelet::images {

namespace {

constexpr size_t kMaxNameLength = 255;
constexpr size_t kMaxTagLength = 128;

bool isLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// One path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
bool validComponent(std::string_view c) {
  if (c.empty() || !isLowerAlnum(c.front()) || !isLowerAlnum(c.back())) return false;
  size_t i = 0;
  while (i < c.size()) {
    if (isLowerAlnum(c[i])) {
      ++i;
      continue;
    }
    size_t start = i;
    if (c[i] == '.') {
      ++i;
    } else if (c[i] == '_') {
      ++i;
      if (i < c.size() && c[i] == '_') ++i;
    } else if (c[i] == '-') {
      while (i < c.size() && c[i] == '-') ++i;
    } else {
      return false;
    }
    if (i == start || i >= c.size() || !isLowerAlnum(c[i])) return false;
  }
  return true;
}

bool allDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A registry host: DNS labels or an IPv6 literal in brackets, with an optional ":port".
bool validDomain(std::string_view d) {
  std::string_view host = d;
  std::string_view afterHost;
  if (d.starts_with('[')) {
    size_t close = d.find(']');
    if (close == std::string_view::npos || close < 2) return false;
    host = d.substr(0, close + 1);
    afterHost = d.substr(close + 1);
  } else if (size_t colon = d.find(':'); colon != std::string_view::npos) {
    host = d.substr(0, colon);
    afterHost = d.substr(colon);
  }
  if (!afterHost.empty() && !(afterHost.front() == ':' && allDigits(afterHost.substr(1)))) return false;
  if (host.empty()) return false;
  if (host.front() == '[') return true;
  size_t start = 0;
  while (true) {
    size_t dot = host.find('.', start);
    std::string_view label = host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool validTag(std::string_view t) {
  if (t.empty() || t.size() > kMaxTagLength) return false;
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (!word(t.front())) return false;
  return std::all_of(t.begin(), t.end(), [&](char c) { return word(c) || c == '.' || c == '-'; });
}

std::unexpected<Error> invalid(std::string_view why) {
  return fail(Code::kInvalid, "invalid reference format" + std::string(why.empty() ? "" : ": ") + std::string(why));
}

}  // namespace

bool isHex(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool isSha256Digest(std::string_view text) {
  return text.size() == 71 && text.starts_with("sha256:") && isHex(text.substr(7));
}

std::string Reference::name() const { return domain + "/" + path; }

std::string Reference::string() const {
  std::string s = name();
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

std::string Reference::familiarName() const {
  if (domain != kDefaultDomain) return name();
  if (path.starts_with(kOfficialRepoPrefix) && path.find('/', kOfficialRepoPrefix.size()) == std::string::npos) {
    return path.substr(kOfficialRepoPrefix.size());
  }
  return path;
}

std::string Reference::familiarString() const {
  std::string s = familiarName();
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

Result<Reference> parseReference(std::string_view text) {
  if (text.empty()) return invalid("");
  Reference ref;
  std::string_view rest = text;

  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    std::string_view digest = rest.substr(at + 1);
    if (!digest.starts_with("sha256:")) return invalid("unsupported digest algorithm");
    if (!isSha256Digest(digest)) return invalid("invalid checksum digest format");
    ref.digest = std::string(digest);
    rest = rest.substr(0, at);
  }
  // A tag follows the last ':' that comes after the last '/', so "localhost:5000/x" has none.
  size_t slash = rest.rfind('/');
  size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    std::string_view tag = rest.substr(colon + 1);
    if (!validTag(tag)) return invalid("");
    ref.tag = std::string(tag);
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return invalid("");

  // Docker's splitDockerDomain: the first component is a registry only when it looks like
  // a host (has a '.' or a ':', or is "localhost", or has upper-case letters).
  size_t first = rest.find('/');
  std::string_view remainder = rest;
  if (first == std::string_view::npos) {
    ref.domain = std::string(kDefaultDomain);
  } else {
    std::string_view head = rest.substr(0, first);
    bool isHost = head.find_first_of(".:") != std::string_view::npos || head == "localhost" ||
                  std::any_of(head.begin(), head.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
    if (isHost) {
      if (!validDomain(head)) return invalid("");
      ref.domain = std::string(head);
      remainder = rest.substr(first + 1);
    } else {
      ref.domain = std::string(kDefaultDomain);
    }
  }
  if (ref.domain == "index.docker.io") ref.domain = std::string(kDefaultDomain);

  if (std::any_of(remainder.begin(), remainder.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return invalid("repository name must be lowercase");
  }
  // Docker refuses a bare 64-hex name because it would be read as an image ID.
  if (first == std::string_view::npos && remainder.size() == 64 && isHex(remainder)) {
    return invalid("cannot specify 64-byte hexadecimal strings");
  }
  size_t start = 0;
  while (true) {
    size_t next = remainder.find('/', start);
    std::string_view component = remainder.substr(start, next == std::string_view::npos ? std::string_view::npos : next - start);
    if (!validComponent(component)) return invalid("");
    if (next == std::string_view::npos) break;
    start = next + 1;
  }
  ref.path = std::string(remainder);
  if (ref.domain == kDefaultDomain && ref.path.find('/') == std::string::npos) {
    ref.path = std::string(kOfficialRepoPrefix) + ref.path;
  }
  if (ref.name().size() > kMaxNameLength) return invalid("repository name must not be more than 255 characters");
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = std::string(kDefaultTag);
  return ref;
}

}  // namespace nanokube::kubelet::images
