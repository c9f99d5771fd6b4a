#include "http/message.h"

#include <gtest/gtest.h>

namespace allmende::http {
namespace {

TEST(MessageTest, PercentDecoding) {
  std::string out;
  ASSERT_TRUE(percentDecode("a%20b%2Fc", out));
  EXPECT_EQ(out, "a b/c");
  ASSERT_TRUE(percentDecode("/a+b", out));
  EXPECT_EQ(out, "/a+b");  // '+' stays: scopeQ uses it
  EXPECT_FALSE(percentDecode("%2", out));
  EXPECT_FALSE(percentDecode("%zz", out));
  EXPECT_FALSE(percentDecode("abc%", out));
}

TEST(MessageTest, PercentEncodingRoundTrips) {
  std::string id = "urn:ngsi-ld:T:a/b c?d#e%f";
  std::string encoded = percentEncode(id, ":");
  EXPECT_EQ(encoded, "urn:ngsi-ld:T:a%2Fb%20c%3Fd%23e%25f");
  std::string back;
  ASSERT_TRUE(percentDecode(encoded, back));
  EXPECT_EQ(back, id);
}

TEST(MessageTest, QueryString) {
  std::vector<std::pair<std::string, std::string>> q;
  ASSERT_TRUE(parseQueryString("type=A&q=x%3D%3D1&&flag&scopeQ=/a/+", q));
  ASSERT_EQ(q.size(), 4u);
  EXPECT_EQ(q[0], (std::pair<std::string, std::string>{"type", "A"}));
  EXPECT_EQ(q[1].second, "x==1");
  EXPECT_EQ(q[2], (std::pair<std::string, std::string>{"flag", ""}));
  EXPECT_EQ(q[3].second, "/a/+");
  std::vector<std::pair<std::string, std::string>> bad;
  EXPECT_FALSE(parseQueryString("a=%G0", bad));
}

TEST(MessageTest, HeaderAndParamLookup) {
  Request r;
  r.headers = {{"content-type", "application/json"}, {"link", "<x>"}};
  r.query = {{"limit", "5"}};
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.header("accept"), "");
  EXPECT_TRUE(r.hasHeader("link"));
  ASSERT_NE(r.param("limit"), nullptr);
  EXPECT_EQ(*r.param("limit"), "5");
  EXPECT_EQ(r.param("offset"), nullptr);
}

}  // namespace
}  // namespace allmende::http

namespace allmende::http {
namespace {

TEST(MessageTest, ResponseOnTheWire) {
  Response r;
  r.status = 201;
  r.setHeader("Location", "/ngsi-ld/v1/entities/urn:x:1");
  r.body = "{}";
  EXPECT_EQ(serializeResponse(r, 11, true, false),
            "HTTP/1.1 201 Created\r\nServer: Allmende\r\nLocation: /ngsi-ld/v1/entities/urn:x:1\r\n"
            "Content-Length: 2\r\n\r\n{}");
  // HEAD: the length of the body that GET would send, but no body.
  EXPECT_EQ(serializeResponse(r, 11, false, true),
            "HTTP/1.1 201 Created\r\nServer: Allmende\r\nLocation: /ngsi-ld/v1/entities/urn:x:1\r\n"
            "Content-Length: 2\r\nConnection: close\r\n\r\n");
  Response empty;
  empty.status = 204;
  EXPECT_EQ(serializeResponse(empty, 10, true, false),
            "HTTP/1.0 204 No Content\r\nServer: Allmende\r\nConnection: keep-alive\r\n\r\n");
}

}  // namespace
}  // namespace allmende::http
