#include "net/ip.h"

#include <gtest/gtest.h>

namespace nanokube::net {
namespace {

TEST(Ipv4, ParsesAndPrints) {
  struct Case {
    const char* text;
    bool ok;
  };
  for (auto [text, ok] : {Case{"10.244.1.2", true}, Case{"0.0.0.0", true}, Case{"255.255.255.255", true},
                          Case{"256.1.1.1", false}, Case{"10.244.1", false}, Case{"10.244.1.2.3", false},
                          Case{"10.244.01.2", false}, Case{"", false}, Case{"a.b.c.d", false}, Case{"10.244.1.2 ", false}}) {
    auto ip = Ipv4::parse(text);
    EXPECT_EQ(ip.has_value(), ok) << text;
    if (ip) EXPECT_EQ(ip->toString(), text);
  }
  EXPECT_EQ(Ipv4::parse("10.244.1.2")->value, 0x0af40102u);
}

TEST(Ipv4Cidr, NetworkBroadcastContains) {
  auto cidr = *Ipv4Cidr::parse("10.244.1.5/24");
  EXPECT_EQ(cidr.network().toString(), "10.244.1.0");
  EXPECT_EQ(cidr.broadcast().toString(), "10.244.1.255");
  EXPECT_TRUE(cidr.contains(*Ipv4::parse("10.244.1.254")));
  EXPECT_FALSE(cidr.contains(*Ipv4::parse("10.244.2.1")));
  EXPECT_EQ(cidr.toString(), "10.244.1.5/24");
  EXPECT_EQ(Ipv4Cidr::parse("0.0.0.0/0")->mask(), 0u);
  EXPECT_FALSE(Ipv4Cidr::parse("10.0.0.0/33"));
  EXPECT_FALSE(Ipv4Cidr::parse("10.0.0.0"));
}

}  // namespace
}  // namespace nanokube::net
