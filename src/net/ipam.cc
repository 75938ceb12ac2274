#include "net/ipam.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace nanokube::net {

namespace {

auto ioFail(const std::string& what, int err) {
  const char* name = strerrorname_np(err);
  return fail(Code::kInternal, what + ": " + std::strerror(err) + " (" + (name ? name : std::to_string(err)) + ")");
}

}  // namespace

Result<Ipam> Ipam::create(const Ipv4Cidr& podCidr) {
  if (podCidr.prefix < 8 || podCidr.prefix > 30) {
    return fail(Code::kInvalid, "podCIDR " + podCidr.toString() + ": prefix must be between /8 and /30");
  }
  if (podCidr.address != podCidr.network()) {
    return fail(Code::kInvalid, "podCIDR " + podCidr.toString() + " has host bits set");
  }
  return Ipam(podCidr);
}

Result<Ipv4> Ipam::allocate(const std::string& uid) {
  if (uid.empty()) return fail(Code::kInvalid, "pod UID is empty");
  if (auto it = byUid_.find(uid); it != byUid_.end()) return it->second;
  uint64_t size = uint64_t{lastHost().value} - first().value + 1;
  Ipv4 candidate = last_;
  for (uint64_t i = 0; i < size; ++i) {
    candidate.value = candidate.value >= lastHost().value || candidate.value < first().value ? first().value
                                                                                             : candidate.value + 1;
    if (!used_.count(candidate)) {
      byUid_[uid] = candidate;
      used_.insert(candidate);
      last_ = candidate;
      return candidate;
    }
  }
  return fail(Code::kUnavailable, "podCIDR " + podCidr_.toString() + " has no free address for pod " + uid);
}

std::optional<Ipv4> Ipam::lookup(const std::string& uid) const {
  auto it = byUid_.find(uid);
  if (it == byUid_.end()) return std::nullopt;
  return it->second;
}

bool Ipam::release(const std::string& uid) {
  auto it = byUid_.find(uid);
  if (it == byUid_.end()) return false;
  used_.erase(it->second);
  byUid_.erase(it);
  return true;
}

std::vector<std::string> Ipam::reconcile(const std::set<std::string>& live) {
  std::vector<std::string> freed;
  for (const auto& [uid, ip] : byUid_) {
    if (!live.count(uid)) freed.push_back(uid);
  }
  for (const auto& uid : freed) release(uid);
  return freed;
}

std::string Ipam::serialize() const {
  Json allocations = Json::object();
  for (const auto& [uid, ip] : byUid_) allocations[uid] = ip.toString();
  Json doc = {{"podCIDR", podCidr_.toString()}, {"last", last_.toString()}, {"allocations", allocations}};
  return doc.dump(2) + "\n";
}

Result<Ipam> Ipam::parse(const std::string& text, const Ipv4Cidr& podCidr) {
  auto ipam = create(podCidr);
  if (!ipam) return ipam;
  Json doc = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc["podCIDR"].is_string() || !doc["allocations"].is_object()) {
    return fail(Code::kInvalid, "IPAM state is not {\"podCIDR\", \"allocations\"}");
  }
  std::string cidr = doc["podCIDR"].get<std::string>();
  if (Ipv4Cidr::parse(cidr) != podCidr) {
    return fail(Code::kConflict, "IPAM state is for podCIDR " + cidr + ", the node has " + podCidr.toString());
  }
  for (const auto& [uid, value] : doc["allocations"].items()) {
    auto ip = value.is_string() ? Ipv4::parse(value.get<std::string>()) : std::nullopt;
    if (!ip || !podCidr.contains(*ip) || *ip < ipam->first() || *ip > ipam->lastHost()) {
      return fail(Code::kInvalid, "IPAM state: pod " + uid + " has " + value.dump() + ", not a pod address of " + cidr);
    }
    if (!ipam->used_.insert(*ip).second) {
      return fail(Code::kInvalid, "IPAM state: " + ip->toString() + " is allocated twice");
    }
    ipam->byUid_[uid] = *ip;
  }
  if (doc["last"].is_string()) {
    if (auto last = Ipv4::parse(doc["last"].get<std::string>()); last && podCidr.contains(*last)) ipam->last_ = *last;
  }
  return ipam;
}

Result<void> writeFileAtomically(const std::filesystem::path& path, const std::string& content) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ioFail("open " + tmp.string(), errno);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return ioFail("write " + tmp.string(), err);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return ioFail("fsync " + tmp.string(), err);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return ioFail("rename " + tmp.string() + " " + path.string(), err);
  }
  std::filesystem::path dir = path.parent_path().empty() ? "." : path.parent_path();
  int dirFd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirFd < 0) return ioFail("open " + dir.string(), errno);
  int rc = ::fsync(dirFd);
  int err = errno;
  ::close(dirFd);
  if (rc != 0) return ioFail("fsync " + dir.string(), err);
  return {};
}

Result<std::unique_ptr<IpamStore>> IpamStore::open(const std::filesystem::path& path, const Ipv4Cidr& podCidr) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (ec) return fail(Code::kInternal, "stat " + path.string() + ": " + ec.message());
    auto ipam = Ipam::create(podCidr);
    if (!ipam) return std::unexpected(ipam.error());
    return std::unique_ptr<IpamStore>(new IpamStore(path, std::move(*ipam)));
  }
  std::ifstream in(path);
  if (!in) return ioFail("open " + path.string(), errno);
  std::stringstream text;
  text << in.rdbuf();
  auto ipam = Ipam::parse(text.str(), podCidr);
  if (!ipam) return fail(ipam.error().code, path.string() + ": " + ipam.error().message);
  return std::unique_ptr<IpamStore>(new IpamStore(path, std::move(*ipam)));
}

Result<void> IpamStore::commit(Ipam next) {
  if (auto written = writeFileAtomically(path_, next.serialize()); !written) return written;
  ipam_ = std::move(next);
  return {};
}

Result<Ipv4> IpamStore::allocate(const std::string& uid) {
  std::lock_guard lock(mu_);
  if (auto known = ipam_.lookup(uid)) return *known;
  Ipam next = ipam_;
  auto ip = next.allocate(uid);
  if (!ip) return ip;
  if (auto ok = commit(std::move(next)); !ok) return std::unexpected(ok.error());
  return ip;
}

std::optional<Ipv4> IpamStore::lookup(const std::string& uid) const {
  std::lock_guard lock(mu_);
  return ipam_.lookup(uid);
}

Result<void> IpamStore::release(const std::string& uid) {
  std::lock_guard lock(mu_);
  Ipam next = ipam_;
  if (!next.release(uid)) return {};
  return commit(std::move(next));
}

Result<std::vector<std::string>> IpamStore::reconcile(const std::set<std::string>& live) {
  std::lock_guard lock(mu_);
  Ipam next = ipam_;
  auto freed = next.reconcile(live);
  if (freed.empty()) return freed;
  if (auto ok = commit(std::move(next)); !ok) return std::unexpected(ok.error());
  return freed;
}

std::map<std::string, Ipv4> IpamStore::allocations() const {
  std::lock_guard lock(mu_);
  return ipam_.allocations();
}

}  // namespace nanokube::net
