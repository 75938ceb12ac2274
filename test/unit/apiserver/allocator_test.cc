#include "apiserver/allocator.h"

#include <gtest/gtest.h>

#include <set>

namespace nanokube::apiserver {
namespace {

TEST(IpAllocator, AllocatesEveryHostAddressOnceThenReportsFull) {
  auto cidr = parseCidr("10.96.0.0/29");
  ASSERT_TRUE(cidr);
  IpAllocator a(*cidr, 1);
  std::set<std::string> seen;
  for (int i = 0; i < 6; ++i) {
    auto ip = a.allocateNext();
    ASSERT_TRUE(ip) << i;
    EXPECT_TRUE(seen.insert(*ip).second) << *ip;
    EXPECT_NE(*ip, "10.96.0.0");
    EXPECT_NE(*ip, "10.96.0.7");
  }
  EXPECT_FALSE(a.allocateNext());
  a.release("10.96.0.3");
  auto again = a.allocateNext();
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, "10.96.0.3");
}

TEST(IpAllocator, SpecificAddressErrorsMatchKubernetes) {
  IpAllocator a(*parseCidr("10.96.0.0/12"), 1);
  ASSERT_TRUE(a.allocate("10.96.0.10"));
  auto taken = a.allocate("10.96.0.10");
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().message, "failed to allocate IP 10.96.0.10: provided IP is already allocated");
  auto outside = a.allocate("10.0.0.1");
  ASSERT_FALSE(outside);
  EXPECT_EQ(outside.error().message,
            "failed to allocate IP 10.0.0.1: the provided IP (10.0.0.1) is not in the valid range. The range of "
            "valid IPs is 10.96.0.0/12");
  EXPECT_TRUE(a.isAllocated("10.96.0.10"));
  a.release("10.96.0.10");
  EXPECT_FALSE(a.isAllocated("10.96.0.10"));
}

TEST(PortAllocator, RangeAndDoubleAllocation) {
  PortAllocator p(30000, 32767, 7);
  ASSERT_TRUE(p.allocate(30080));
  auto taken = p.allocate(30080);
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().message, "provided port is already allocated");
  auto low = p.allocate(80);
  ASSERT_FALSE(low);
  EXPECT_EQ(low.error().message, "provided port is not in the valid range. The range of valid ports is 30000-32767");
  for (int i = 0; i < 100; ++i) {
    auto n = p.allocateNext();
    ASSERT_TRUE(n);
    EXPECT_GE(*n, 30000);
    EXPECT_LE(*n, 32767);
    EXPECT_NE(*n, 30080);
  }
}

}  // namespace
}  // namespace nanokube::apiserver
