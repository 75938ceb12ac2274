#include "net/hostport.h"

#include <nftables/libnftables.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>

#include <fmt/format.h>

namespace nanokube::net {
namespace {

// The `<proto> dport` keyword of nft for a Pod API protocol; nullopt for anything else.
std::optional<std::string> nftProtocol(const std::string& protocol) {
  if (protocol == "TCP") return "tcp";
  if (protocol == "UDP") return "udp";
  if (protocol == "SCTP") return "sctp";
  return std::nullopt;
}

bool isWildcard(const std::string& hostIp) { return hostIp.empty() || hostIp == "0.0.0.0"; }

// A quoted nft comment. nft's grammar ends a string at the first '"' and the kernel keeps at
// most 128 bytes of a comment (NFTNL_UDATA_COMMENT_MAXLEN, with the NUL), so anything outside
// a UID's alphabet becomes '_' and the text is cut at 127 bytes.
std::string comment(const std::string& text) {
  std::string out;
  for (char c : text.substr(0, 127)) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '.' || c == ':' || c == '/';
    out.push_back(plain ? c : '_');
  }
  return "comment \"" + out + "\"";
}

std::string dnatRule(const HostPortMapping& m) {
  std::string match = isWildcard(m.hostIp) ? "" : "ip daddr " + m.hostIp + " ";
  return fmt::format("{}{} dport {} dnat to {}:{} {}", match, *nftProtocol(m.protocol), m.hostPort,
                     m.podIp.toString(), m.containerPort, comment(m.podUid));
}

std::string transactionPrefix() {
  return fmt::format("table ip {0}\ndelete table ip {0}\n", kHostPortTable);
}

struct NftCtxFree {
  void operator()(nft_ctx* ctx) const { nft_ctx_free(ctx); }
};

// Runs one buffer of nft commands, which the kernel applies as one transaction.
Result<void> runNft(const std::string& commands) {
  // libnftables 1.0.x initialises process-wide tables (e.g. for iproute2's realm and mark
  // names) in nft_ctx_new without locking; serializing our calls keeps that safe.
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  std::unique_ptr<nft_ctx, NftCtxFree> ctx(nft_ctx_new(NFT_CTX_DEFAULT));
  if (!ctx) return fail(Code::kInternal, "nft_ctx_new failed");
  nft_ctx_buffer_output(ctx.get());
  nft_ctx_buffer_error(ctx.get());
  if (nft_run_cmd_from_buffer(ctx.get(), commands.c_str()) != 0) {
    const char* error = nft_ctx_get_error_buffer(ctx.get());
    std::string text = error && *error ? error : "failed without a message";
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return fail(Code::kInternal, "nft table ip " + std::string(kHostPortTable) + ": " + text);
  }
  return {};
}

}  // namespace

HostPortPlan planHostPorts(const std::vector<HostPortMapping>& mappings) {
  std::vector<HostPortMapping> sorted = mappings;
  // "0.0.0.0" and "" mean the same; one spelling makes them duplicates and the output canonical.
  for (auto& m : sorted) {
    if (isWildcard(m.hostIp)) m.hostIp.clear();
  }
  std::ranges::sort(sorted, [](const HostPortMapping& a, const HostPortMapping& b) {
    return std::tie(a.protocol, a.hostPort, a.hostIp, a.podUid, a.podIp, a.containerPort) <
           std::tie(b.protocol, b.hostPort, b.hostIp, b.podUid, b.podIp, b.containerPort);
  });
  auto [first, last] = std::ranges::unique(sorted);
  sorted.erase(first, last);

  HostPortPlan plan;
  for (auto& m : sorted) {
    std::string reason;
    if (!nftProtocol(m.protocol)) {
      reason = fmt::format("protocol \"{}\" is not TCP, UDP or SCTP", m.protocol);
    } else if (m.hostPort == 0) {
      reason = "hostPort 0";
    } else if (m.containerPort == 0) {
      reason = "containerPort 0";
    } else if (m.podIp.value == 0) {
      reason = "no pod IP";
    } else if (!isWildcard(m.hostIp) && !Ipv4::parse(m.hostIp)) {
      reason = fmt::format("hostIP \"{}\" is not an IPv4 address", m.hostIp);
    } else {
      for (const auto& a : plan.accepted) {
        bool sameIp = isWildcard(a.hostIp) || isWildcard(m.hostIp) || a.hostIp == m.hostIp;
        if (a.protocol == m.protocol && a.hostPort == m.hostPort && sameIp) {
          reason = fmt::format("hostPort {}/{} on {} is taken by pod {}", m.hostPort, m.protocol,
                               isWildcard(a.hostIp) ? "0.0.0.0" : a.hostIp, a.podUid);
          break;
        }
      }
    }
    if (reason.empty()) {
      plan.accepted.push_back(std::move(m));
    } else {
      plan.rejected.push_back({std::move(m), std::move(reason)});
    }
  }
  return plan;
}

std::string renderHostPorts(const std::vector<HostPortMapping>& mappings) {
  auto plan = planHostPorts(mappings);
  if (plan.accepted.empty()) return "";

  std::string hostIpRules, wildcardRules, hairpinRules;
  std::set<Ipv4> hairpinned;
  for (const auto& m : plan.accepted) {
    (isWildcard(m.hostIp) ? wildcardRules : hostIpRules) += "\t\t" + dnatRule(m) + "\n";
    if (hairpinned.insert(m.podIp).second) {
      std::string ip = m.podIp.toString();
      hairpinRules += fmt::format("\t\tip saddr {0} ip daddr {0} masquerade {1}\n", ip, comment(m.podUid));
    }
  }

  std::string out = fmt::format("table ip {} {{\n", kHostPortTable);
  out += "\tcomment \"hostPort DNAT of the pods on this node (nanokube)\"\n";
  // nft 1.0.6 accepts the name `dstnat` for prerouting only; -100 is its value.
  for (const char* hook : {"prerouting", "output"}) {
    const char* priority = std::string_view(hook) == "prerouting" ? "dstnat" : "-100";
    out += fmt::format("\tchain {0} {{\n\t\ttype nat hook {0} priority {1}; policy accept;\n", hook, priority);
    out += "\t\tjump hostip_hostports\n";
    out += "\t\tfib daddr type local jump hostports\n";
    out += "\t}\n";
  }
  out += "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n";
  out += hairpinRules + "\t}\n";
  out += "\tchain hostip_hostports {\n" + hostIpRules + "\t}\n";
  out += "\tchain hostports {\n" + wildcardRules + "\t}\n";
  out += "}\n";
  return out;
}

std::string renderHostPortTransaction(const std::vector<HostPortMapping>& mappings) {
  return transactionPrefix() + renderHostPorts(mappings);
}

Result<void> HostPorts::sync(const std::vector<HostPortMapping>& mappings) {
  for (const auto& r : planHostPorts(mappings).rejected) {
    spdlog::warn("hostPort {}/{} of pod {}: not applied: {}", r.mapping.hostPort, r.mapping.protocol,
                 r.mapping.podUid, r.reason);
  }
  return runNft(renderHostPortTransaction(mappings));
}

Result<void> HostPorts::remove() { return runNft(transactionPrefix()); }

}  // namespace nanokube::net
