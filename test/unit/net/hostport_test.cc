#include "net/hostport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace nanokube::net {
namespace {

HostPortMapping mapping(std::string uid, std::string protocol, uint16_t hostPort, std::string hostIp,
                        const char* podIp, uint16_t containerPort) {
  return {std::move(uid), std::move(protocol), hostPort, std::move(hostIp), *Ipv4::parse(podIp), containerPort};
}

TEST(RenderHostPorts, NothingWithoutMappings) {
  EXPECT_EQ(renderHostPorts({}), "");
  EXPECT_EQ(renderHostPortTransaction({}), "table ip nanokube-hostport\ndelete table ip nanokube-hostport\n");
}

TEST(RenderHostPorts, TheWholeTable) {
  auto text = renderHostPorts({
      mapping("uid-b", "UDP", 5353, "", "10.244.1.6", 53),
      mapping("uid-a", "TCP", 8080, "0.0.0.0", "10.244.1.5", 80),
      mapping("uid-a", "TCP", 8443, "192.168.251.2", "10.244.1.5", 443),
      mapping("uid-c", "SCTP", 9000, "", "10.244.1.7", 9000),
  });
  EXPECT_EQ(text,
            "table ip nanokube-hostport {\n"
            "\tcomment \"hostPort DNAT of the pods on this node (nanokube)\"\n"
            "\tchain prerouting {\n"
            "\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
            "\t\tjump hostip_hostports\n"
            "\t\tfib daddr type local jump hostports\n"
            "\t}\n"
            "\tchain output {\n"
            "\t\ttype nat hook output priority -100; policy accept;\n"
            "\t\tjump hostip_hostports\n"
            "\t\tfib daddr type local jump hostports\n"
            "\t}\n"
            "\tchain postrouting {\n"
            "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
            "\t\tip saddr 10.244.1.7 ip daddr 10.244.1.7 masquerade comment \"uid-c\"\n"
            "\t\tip saddr 10.244.1.5 ip daddr 10.244.1.5 masquerade comment \"uid-a\"\n"
            "\t\tip saddr 10.244.1.6 ip daddr 10.244.1.6 masquerade comment \"uid-b\"\n"
            "\t}\n"
            "\tchain hostip_hostports {\n"
            "\t\tip daddr 192.168.251.2 tcp dport 8443 dnat to 10.244.1.5:443 comment \"uid-a\"\n"
            "\t}\n"
            "\tchain hostports {\n"
            "\t\tsctp dport 9000 dnat to 10.244.1.7:9000 comment \"uid-c\"\n"
            "\t\ttcp dport 8080 dnat to 10.244.1.5:80 comment \"uid-a\"\n"
            "\t\tudp dport 5353 dnat to 10.244.1.6:53 comment \"uid-b\"\n"
            "\t}\n"
            "}\n");
  EXPECT_EQ(renderHostPortTransaction({mapping("uid-a", "TCP", 8080, "", "10.244.1.5", 80)}),
            "table ip nanokube-hostport\ndelete table ip nanokube-hostport\n" +
                renderHostPorts({mapping("uid-a", "TCP", 8080, "", "10.244.1.5", 80)}));
}

TEST(RenderHostPorts, OrderOfTheInputDoesNotMatter) {
  std::vector<HostPortMapping> mappings;
  for (int i = 0; i < 40; ++i) {
    mappings.push_back(mapping("uid-" + std::to_string(i % 7), i % 3 ? "TCP" : "UDP", static_cast<uint16_t>(8000 + i),
                               i % 5 ? "" : "192.168.251.2", i % 2 ? "10.244.1.5" : "10.244.1.9",
                               static_cast<uint16_t>(80 + i)));
  }
  auto expected = renderHostPorts(mappings);
  std::mt19937 rng(42);
  for (int round = 0; round < 10; ++round) {
    std::ranges::shuffle(mappings, rng);
    EXPECT_EQ(renderHostPorts(mappings), expected);
  }
}

TEST(RenderHostPorts, OneHairpinRulePerPodIp) {
  auto text = renderHostPorts({mapping("uid-a", "TCP", 8080, "", "10.244.1.5", 80),
                               mapping("uid-a", "UDP", 8080, "", "10.244.1.5", 80),
                               mapping("uid-a", "TCP", 8081, "", "10.244.1.5", 81)});
  size_t count = 0;
  for (size_t at = 0; (at = text.find("masquerade", at)) != std::string::npos; ++at) ++count;
  EXPECT_EQ(count, 1u);
}

TEST(RenderHostPorts, CommentsCannotBreakTheSyntax) {
  auto text = renderHostPorts({mapping("evil\" } flush ruleset ;\n" + std::string(200, 'x'), "TCP", 8080, "",
                                       "10.244.1.5", 80)});
  EXPECT_EQ(text.find("flush ruleset ;"), std::string::npos);
  EXPECT_NE(text.find("comment \"evil____flush_ruleset___"), std::string::npos);
  auto begin = text.find("comment \"evil");
  auto end = text.find('"', begin + 9);
  EXPECT_EQ(end - (begin + 9), 127u);
}

TEST(PlanHostPorts, DuplicatesCollapse) {
  auto m = mapping("uid-a", "TCP", 8080, "", "10.244.1.5", 80);
  auto plan = planHostPorts({m, m, m});
  ASSERT_EQ(plan.accepted.size(), 1u);
  EXPECT_EQ(plan.accepted[0], m);
  EXPECT_TRUE(plan.rejected.empty());
}

TEST(PlanHostPorts, WildcardSpellingsAreOne) {
  auto plan = planHostPorts({mapping("uid-a", "TCP", 8080, "0.0.0.0", "10.244.1.5", 80),
                             mapping("uid-a", "TCP", 8080, "", "10.244.1.5", 80)});
  ASSERT_EQ(plan.accepted.size(), 1u);
  EXPECT_EQ(plan.accepted[0].hostIp, "");
  EXPECT_TRUE(plan.rejected.empty());
}

TEST(PlanHostPorts, InvalidMappingsAreRejectedWithAReason) {
  struct Case {
    HostPortMapping mapping;
    const char* reason;
  };
  for (const auto& c : {
           Case{mapping("u", "ICMP", 8080, "", "10.244.1.5", 80), "protocol \"ICMP\" is not TCP, UDP or SCTP"},
           Case{mapping("u", "tcp", 8080, "", "10.244.1.5", 80), "protocol \"tcp\" is not TCP, UDP or SCTP"},
           Case{mapping("u", "TCP", 0, "", "10.244.1.5", 80), "hostPort 0"},
           Case{mapping("u", "TCP", 8080, "", "10.244.1.5", 0), "containerPort 0"},
           Case{mapping("u", "TCP", 8080, "", "0.0.0.0", 80), "no pod IP"},
           Case{mapping("u", "TCP", 8080, "::1", "10.244.1.5", 80), "hostIP \"::1\" is not an IPv4 address"},
           Case{mapping("u", "TCP", 8080, "1.2.3", "10.244.1.5", 80), "hostIP \"1.2.3\" is not an IPv4 address"},
       }) {
    auto plan = planHostPorts({c.mapping});
    EXPECT_TRUE(plan.accepted.empty()) << c.reason;
    ASSERT_EQ(plan.rejected.size(), 1u) << c.reason;
    EXPECT_EQ(plan.rejected[0].reason, c.reason);
    EXPECT_EQ(renderHostPorts({c.mapping}), "") << c.reason;
  }
}

TEST(PlanHostPorts, ConflictsKeepTheFirstInOrder) {
  struct Case {
    const char* name;
    HostPortMapping a, b;  // a sorts first (by podUid)
    bool conflict;
  };
  for (const auto& c : {
           Case{"same port, both wildcard", mapping("uid-a", "TCP", 8080, "", "10.244.1.5", 80),
                mapping("uid-b", "TCP", 8080, "", "10.244.1.6", 80), true},
           Case{"same port, same hostIP", mapping("uid-a", "TCP", 8080, "192.168.251.2", "10.244.1.5", 80),
                mapping("uid-b", "TCP", 8080, "192.168.251.2", "10.244.1.6", 80), true},
           Case{"wildcard against a hostIP", mapping("uid-a", "TCP", 8080, "", "10.244.1.5", 80),
                mapping("uid-b", "TCP", 8080, "192.168.251.2", "10.244.1.6", 80), true},
           Case{"different hostIPs", mapping("uid-a", "TCP", 8080, "192.168.251.2", "10.244.1.5", 80),
                mapping("uid-b", "TCP", 8080, "192.168.251.3", "10.244.1.6", 80), false},
           Case{"different protocols", mapping("uid-a", "TCP", 8080, "", "10.244.1.5", 80),
                mapping("uid-b", "UDP", 8080, "", "10.244.1.6", 80), false},
           Case{"different ports", mapping("uid-a", "TCP", 8080, "", "10.244.1.5", 80),
                mapping("uid-b", "TCP", 8081, "", "10.244.1.6", 80), false},
       }) {
    for (const auto& input : {std::vector{c.a, c.b}, std::vector{c.b, c.a}}) {
      auto plan = planHostPorts(input);
      if (c.conflict) {
        ASSERT_EQ(plan.accepted.size(), 1u) << c.name;
        ASSERT_EQ(plan.rejected.size(), 1u) << c.name;
        EXPECT_EQ(plan.rejected[0].mapping.podUid, "uid-b") << c.name;
        EXPECT_NE(plan.rejected[0].reason.find("is taken by pod uid-a"), std::string::npos) << c.name;
      } else {
        EXPECT_EQ(plan.accepted.size(), 2u) << c.name;
        EXPECT_TRUE(plan.rejected.empty()) << c.name;
      }
    }
  }
}

}  // namespace
}  // namespace nanokube::net
