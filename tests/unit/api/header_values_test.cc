// The request header values the API parses itself (api/header_values.h); fuzzed by
// tests/fuzz/header_fuzz.cc, whose kept inputs are checked here by their meaning.
#include "api/header_values.h"

#include <gtest/gtest.h>

#include "api/open_http.h"

namespace allmende::api {
namespace {

std::optional<int> jsonOrLd(std::string_view type) {
  if (type == "application/json" || type == "*/*") return 0;
  if (type == "application/ld+json") return 1;
  return std::nullopt;
}

TEST(HeaderValues, AcceptPicksTheHighestQualityFirstListedOnATie) {
  EXPECT_EQ(preferredMediaType("application/json, application/ld+json", jsonOrLd), 0);
  EXPECT_EQ(preferredMediaType("application/json;q=0.5, Application/LD+JSON", jsonOrLd), 1);
  EXPECT_EQ(preferredMediaType("text/html, application/json;q=0", jsonOrLd), std::nullopt);
  EXPECT_EQ(preferredMediaType("", jsonOrLd), std::nullopt);
}

TEST(HeaderValues, MalformedQualitiesNeitherWinNorExceedOne) {
  EXPECT_EQ(acceptQuality("a/b;q=nan"), 0);
  EXPECT_EQ(acceptQuality("a/b; q=1e999"), 1);
  EXPECT_EQ(acceptQuality("a/b;q=-1"), 0);
  EXPECT_EQ(acceptQuality("a/b;aq=0.1"), 1);
  EXPECT_EQ(preferredMediaType("application/ld+json;q=nan, application/json;q=0.1", jsonOrLd), 0);
}

TEST(HeaderValues, ContextLinkTakesTheFirstContextRelation) {
  std::string url;
  EXPECT_TRUE(contextLinkUrl(
      "<http://a/x>; rel=\"alternate\", <http://c/ctx.jsonld>; rel=\"http://www.w3.org/ns/json-ld#context\"", url));
  EXPECT_EQ(url, "http://c/ctx.jsonld");
  EXPECT_TRUE(contextLinkUrl("", url));
  EXPECT_EQ(url, "");
  EXPECT_TRUE(contextLinkUrl(" \t ", url));  // once read one byte past its end
  EXPECT_EQ(url, "");
  EXPECT_TRUE(contextLinkUrl("<http://a/x>; rel=a, ", url));
  EXPECT_EQ(url, "");
  EXPECT_FALSE(contextLinkUrl("http://c/ctx.jsonld", url));
  EXPECT_FALSE(contextLinkUrl("<http://c/ctx.jsonld", url));
  EXPECT_FALSE(contextLinkUrl("<>; rel=\"http://www.w3.org/ns/json-ld#context\"", url));
}

TEST(HeaderValues, TenantNames) {
  EXPECT_TRUE(isValidTenantName("city.Berlin_1:x-y"));
  EXPECT_FALSE(isValidTenantName(""));
  EXPECT_FALSE(isValidTenantName("a/b"));
  EXPECT_FALSE(isValidTenantName(std::string(65, 'a')));
}

TEST(HeaderValues, BearerToken) {
  EXPECT_EQ(bearerToken("Bearer abc"), "abc");
  EXPECT_EQ(bearerToken("  bEaReR   abc  "), "abc");
  EXPECT_EQ(bearerToken("Bearer "), std::nullopt);
  EXPECT_EQ(bearerToken("Bearer    "), std::nullopt);
  EXPECT_EQ(bearerToken("Basic dXNlcjpwYXNz"), std::nullopt);
  EXPECT_EQ(bearerToken("Bearerabc"), std::nullopt);
}

TEST(HeaderValues, HttpDateIsTheWholeValue) {
  using namespace std::string_literals;
  EXPECT_TRUE(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT").has_value());
  EXPECT_FALSE(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT\0junk"s).has_value());
  EXPECT_FALSE(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT junk").has_value());
}

}  // namespace
}  // namespace allmende::api
