#include "net/netlink.h"

#include <cerrno>
#include <cstring>

namespace nanokube::net {

std::string Route::toString() const {
  std::string out = dst ? dst->toString() : "default";
  if (via) out += " via " + via->toString();
  if (!dev.empty()) out += " dev " + dev;
  if (onlink) out += " onlink";
  return out;
}

std::string Neighbour::toString() const { return ip.toString() + " lladdr " + mac + " dev " + dev; }

std::string FdbEntry::toString() const { return mac + " dev " + dev + " dst " + dst.toString(); }

Error kernelError(const std::string& what, int err) {
  Code code = Code::kInternal;
  if (err == EEXIST) code = Code::kAlreadyExists;
  if (err == ENODEV || err == ENOENT || err == ESRCH) code = Code::kNotFound;
  const char* name = strerrorname_np(err);
  return Error{code, what + ": " + std::strerror(err) + " (" + (name ? name : std::to_string(err)) + ")"};
}

Result<int> Netlink::linkIndex(const std::string& name) {
  auto found = link(name);
  if (!found) return std::unexpected(found.error());
  return found->index;
}

Result<bool> Netlink::exists(const std::string& name) {
  auto found = link(name);
  if (found) return true;
  if (found.error().code == Code::kNotFound) return false;
  return std::unexpected(found.error());
}

}  // namespace nanokube::net
