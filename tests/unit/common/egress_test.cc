#include "common/egress.h"

#include <gtest/gtest.h>

namespace allmende {
namespace {

std::shared_ptr<const EgressPolicy> policy(EgressOptions o) {
  auto p = EgressPolicy::make(o);
  EXPECT_TRUE(p) << p.status().toString();
  return *p;
}

TEST(EgressPolicyTest, DefaultAllowsEverything) {
  auto p = policy({});
  EXPECT_TRUE(p->check("localhost", "127.0.0.1").isOk());
  EXPECT_TRUE(p->check("x", "10.1.2.3").isOk());
  EXPECT_TRUE(p->checkHost("localhost").isOk());
}

TEST(EgressPolicyTest, ProductionDeniesPrivateRanges) {
  auto p = policy({.denyPrivate = true});
  for (const char* a : {"127.0.0.1",
                        "127.8.9.1",
                        "10.0.0.1",
                        "172.16.5.4",
                        "172.31.255.255",
                        "192.168.1.1",
                        "169.254.169.254",
                        "100.64.0.1",
                        "0.0.0.0",
                        "224.0.0.1",
                        "255.255.255.255",
                        "::1",
                        "::",
                        "fd12::1",
                        "fe80::1",
                        "fe80::1%eth0",
                        "::ffff:127.0.0.1",
                        "::ffff:10.0.0.1",
                        "64:ff9b::a00:1",
                        "2002:7f00:1::",
                        "::127.0.0.1"}) {
    Status st = p->check("h.example.org", a);
    EXPECT_EQ(st.type(), ErrorType::kBadRequestData) << a;
  }
  for (const char* a : {"93.184.216.34", "172.32.0.1", "8.8.8.8", "2a00:1450:4001::1", "::ffff:8.8.8.8"}) {
    EXPECT_TRUE(p->check("h.example.org", a).isOk()) << a;
  }
  EXPECT_FALSE(p->checkHost("localhost").isOk());
  EXPECT_FALSE(p->checkHost("LOCALHOST.").isOk());
  EXPECT_FALSE(p->checkHost("127.0.0.1").isOk());
  EXPECT_FALSE(p->checkHost("[::1]").isOk());
  EXPECT_TRUE(p->checkHost("example.org").isOk());  // decided at the connect
  EXPECT_NE(p->check("evil.example", "127.0.0.1").detail().find("127.0.0.1"), std::string::npos);
}

TEST(EgressPolicyTest, AllowWinsOverDenyAndPrivate) {
  auto p = policy({.allow = {"10.20.0.0/16", "receiver.internal", "*.city.example"},
                   .deny = {"0.0.0.0/0", "::/0"},
                   .denyPrivate = true});
  EXPECT_TRUE(p->check("x", "10.20.3.4").isOk());
  EXPECT_FALSE(p->check("x", "10.21.0.1").isOk());
  EXPECT_FALSE(p->check("x", "8.8.8.8").isOk());
  EXPECT_TRUE(p->check("RECEIVER.internal", "192.168.0.9").isOk());
  EXPECT_TRUE(p->check("a.b.city.example", "8.8.8.8").isOk());
  EXPECT_FALSE(p->check("city.example.evil", "8.8.8.8").isOk());
  EXPECT_FALSE(p->check("x", "2a00::1").isOk());
}

TEST(EgressPolicyTest, DenyNamesAndBlocks) {
  auto p = policy({.deny = {"metadata.google.internal", ".corp.example", "192.0.2.0/24", "2001:db8::/32"}});
  EXPECT_FALSE(p->checkHost("metadata.google.internal").isOk());
  EXPECT_FALSE(p->checkHost("x.corp.example").isOk());
  EXPECT_TRUE(p->checkHost("corp.example").isOk());
  EXPECT_FALSE(p->check("a", "192.0.2.200").isOk());
  EXPECT_TRUE(p->check("a", "192.0.3.1").isOk());
  EXPECT_FALSE(p->check("a", "2001:db8:1::5").isOk());
  EXPECT_TRUE(p->check("a", "127.0.0.1").isOk());  // not production
}

TEST(EgressPolicyTest, MalformedRulesAreRefused) {
  for (const char* bad : {"10.0.0.0/33", "10.0.0.0/", "::/129", "a b", "", "http://x"}) {
    EXPECT_FALSE(EgressPolicy::make({.deny = {bad}})) << bad;
  }
}

}  // namespace
}  // namespace allmende
