#include "net/overlay/tun.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "net/netlink.h"

namespace nanokube::net::overlay {

Result<std::vector<Fd>> openTun(const std::string& name, const TunOptions& options) {
  if (name.empty() || name.size() >= IFNAMSIZ) return fail(Code::kInvalid, "TUN name \"" + name + "\": 1 to 15 bytes");
  std::vector<Fd> fds;
  for (unsigned q = 0; q < std::max(1u, options.queues); ++q) {
    Fd fd(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
    if (!fd) return std::unexpected(kernelError("open /dev/net/tun", errno));
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, name.data(), name.size());
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    if (options.queues > 1) ifr.ifr_flags |= IFF_MULTI_QUEUE;
    if (options.vnetHeader) ifr.ifr_flags |= IFF_VNET_HDR;
    if (::ioctl(fd.get(), TUNSETIFF, &ifr) < 0) return std::unexpected(kernelError("TUNSETIFF " + name, errno));
    if (options.offloads != 0 && ::ioctl(fd.get(), TUNSETOFFLOAD, static_cast<unsigned long>(options.offloads)) < 0) {
      return std::unexpected(kernelError("TUNSETOFFLOAD " + name, errno));
    }
    fds.push_back(std::move(fd));
  }
  return fds;
}

}  // namespace nanokube::net::overlay
