// The client address behind trusted proxies (http/forwarded.h).
#include "http/forwarded.h"

#include <gtest/gtest.h>

namespace allmende::http {
namespace {

TrustedProxies proxies(const std::vector<std::string>& rules) {
  auto t = TrustedProxies::parse(rules);
  EXPECT_TRUE(t.isOk()) << t.status().detail();
  return t ? std::move(t).value() : TrustedProxies{};
}

TEST(TrustedProxies, ParsesAddressesAndBlocks) {
  EXPECT_TRUE(TrustedProxies::parse({"10.0.0.0/8", "192.0.2.7", "fd00::/8", "::1"}).isOk());
  EXPECT_FALSE(TrustedProxies::parse({"10.0.0.0/33"}).isOk());
  EXPECT_FALSE(TrustedProxies::parse({"10.0.0.0/"}).isOk());
  EXPECT_FALSE(TrustedProxies::parse({"lb.example.org"}).isOk());
  EXPECT_FALSE(TrustedProxies::parse({"fd00::/129"}).isOk());
}

TEST(TrustedProxies, TrustsAddressesInTheBlocks) {
  TrustedProxies t = proxies({"10.1.0.0/16", "fd00::/8"});
  EXPECT_TRUE(t.trusts("10.1.200.3"));
  EXPECT_FALSE(t.trusts("10.2.0.1"));
  EXPECT_TRUE(t.trusts("::ffff:10.1.0.9"));  // IPv4-mapped, as a dual-stack socket reports it
  EXPECT_TRUE(t.trusts("fd12::1"));
  EXPECT_FALSE(t.trusts("fe80::1"));
  EXPECT_FALSE(t.trusts("not an address"));
}

TEST(TrustedProxies, TheClientIsTheFirstUntrustedAddressFromTheRight) {
  TrustedProxies t = proxies({"10.0.0.0/8"});
  // The balancer (10.0.0.2) appended the address it saw.
  EXPECT_EQ(t.clientOf("10.0.0.2", {"203.0.113.9"}), "203.0.113.9");
  // Two proxies of ours; what the client wrote itself (left of its own address) is ignored.
  EXPECT_EQ(t.clientOf("10.0.0.2", {"198.51.100.1, 203.0.113.9, 10.0.0.5"}), "203.0.113.9");
  // Several header lines form one list.
  EXPECT_EQ(t.clientOf("10.0.0.2", {"198.51.100.1", "203.0.113.9"}), "203.0.113.9");
  // Ports and brackets as some proxies write them.
  EXPECT_EQ(t.clientOf("10.0.0.2", {"203.0.113.9:5123"}), "203.0.113.9");
  EXPECT_EQ(t.clientOf("10.0.0.2", {"[2001:db8::7]:443"}), "2001:db8::7");
  // Every hop trusted: the leftmost.
  EXPECT_EQ(t.clientOf("10.0.0.2", {"10.9.9.9, 10.0.0.5"}), "10.9.9.9");
  // Garbage ends the walk at the last trusted hop.
  EXPECT_EQ(t.clientOf("10.0.0.2", {"unknown, 10.0.0.5"}), "10.0.0.5");
}

TEST(TrustedProxies, AnUntrustedPeerIsTheClientWhateverItForwards) {
  TrustedProxies t = proxies({"10.0.0.0/8"});
  EXPECT_EQ(t.clientOf("198.51.100.1", {"203.0.113.9"}), "198.51.100.1");
  EXPECT_EQ(t.clientOf("10.0.0.2", {}), "10.0.0.2");
  EXPECT_EQ(proxies({}).clientOf("10.0.0.2", {"203.0.113.9"}), "10.0.0.2");
}

}  // namespace
}  // namespace allmende::http
