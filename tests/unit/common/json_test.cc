#include "common/json.h"

#include <gtest/gtest.h>

namespace allmende {
namespace {

TEST(JsonTest, ParsesAndSerialises) {
  JsonDocument d;
  ASSERT_TRUE(parseJson(R"({"a":[1,2,{"b":"c"}]})", d).isOk());
  EXPECT_EQ(toJsonString(d), R"({"a":[1,2,{"b":"c"}]})");
  ASSERT_NE(findMember(d, "a"), nullptr);
  EXPECT_EQ(findMember(d, "z"), nullptr);
}

TEST(JsonTest, RejectsSyntaxErrorsAndTrailingData) {
  JsonDocument d;
  EXPECT_EQ(parseJson("{\"a\":", d).type(), ErrorType::kBadRequestData);
  EXPECT_EQ(parseJson("{} {}", d).type(), ErrorType::kBadRequestData);
  EXPECT_EQ(parseJson("", d).type(), ErrorType::kBadRequestData);
}

TEST(JsonTest, LimitsNestingWithoutExhaustingTheStack) {
  std::string deep(100000, '[');
  deep += std::string(100000, ']');
  JsonDocument d;
  Status s = parseJson(deep, d, JsonLimits{64});
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.detail().find("nesting"), std::string::npos);
  std::string ok(64, '[');
  ok += std::string(64, ']');
  EXPECT_TRUE(parseJson(ok, d, JsonLimits{64}).isOk());
}

}  // namespace
}  // namespace allmende
