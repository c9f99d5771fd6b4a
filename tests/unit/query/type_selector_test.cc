#include <gtest/gtest.h>

#include "query/type_selector.h"

namespace allmende::query {
namespace {

std::string expandTerm(std::string_view term) {
  if (term.find(':') != std::string_view::npos) return std::string(term);
  return "https://ex.org/" + std::string(term);
}

bool matches(std::string_view sel, const char* typesJson) {
  auto s = parseTypeSelector(sel, expandTerm);
  EXPECT_TRUE(s.isOk()) << sel << ": " << (s.isOk() ? "" : s.status().toString());
  if (!s.isOk()) return false;
  JsonDocument d;
  EXPECT_TRUE(parseJson(typesJson, d).isOk());
  return evaluate(*s, d);
}

TEST(TypeSelectorTest, SingleType) {
  EXPECT_TRUE(matches("Building", R"(["https://ex.org/Building"])"));
  EXPECT_TRUE(matches("Building", R"(["https://ex.org/House", "https://ex.org/Building"])"));
  EXPECT_FALSE(matches("Building", R"(["https://ex.org/House"])"));
  EXPECT_FALSE(matches("Building", R"(["Building"])"));  // compared expanded
  EXPECT_TRUE(matches("Building", R"("https://ex.org/Building")"));
  EXPECT_TRUE(matches("https://other.org/T", R"(["https://other.org/T"])"));
}

TEST(TypeSelectorTest, OrAndPrecedence) {
  // 4.17 examples 1 to 3.
  EXPECT_TRUE(matches("Building|House", R"(["https://ex.org/House"])"));
  EXPECT_TRUE(matches("Building,House", R"(["https://ex.org/House"])"));
  EXPECT_FALSE(matches("(Home;Vehicle)", R"(["https://ex.org/Home"])"));
  EXPECT_TRUE(matches("(Home;Vehicle)", R"(["https://ex.org/Vehicle", "https://ex.org/Home"])"));
  EXPECT_TRUE(matches("(Home;Vehicle)|Motorhome", R"(["https://ex.org/Motorhome"])"));
  EXPECT_TRUE(matches("(Home;Vehicle),Motorhome", R"(["https://ex.org/Home", "https://ex.org/Vehicle"])"));
  EXPECT_FALSE(matches("(Home;Vehicle),Motorhome", R"(["https://ex.org/Home"])"));
  EXPECT_TRUE(matches("A|B;C", R"(["https://ex.org/A"])"));
  EXPECT_FALSE(matches("(A|B);C", R"(["https://ex.org/A"])"));
}

TEST(TypeSelectorTest, MentionedTypes) {
  auto s = parseTypeSelector("(Home;Vehicle)|Motorhome,Home", expandTerm);
  ASSERT_TRUE(s.isOk());
  EXPECT_EQ(mentionedTypes(*s), (std::vector<std::string>{"https://ex.org/Home", "https://ex.org/Motorhome",
                                                          "https://ex.org/Vehicle"}));
  ASSERT_EQ(s->kind, TypeSelector::Kind::kOr);
  EXPECT_EQ(s->children[0].kind, TypeSelector::Kind::kAnd);
}

TEST(TypeSelectorTest, Errors) {
  for (const char* bad : {"", "A,", ",A", "(A", "A)", "A;;B", "1A", "A B", "A\"", "()", "A|(B"}) {
    auto r = parseTypeSelector(bad, expandTerm);
    ASSERT_FALSE(r.isOk()) << bad;
    EXPECT_EQ(r.status().type(), ErrorType::kBadRequestData) << bad;
  }
  std::string many = "A";
  for (int i = 0; i < 300; ++i) many += ",A";
  EXPECT_EQ(parseTypeSelector(many, expandTerm).status().type(), ErrorType::kTooComplexQuery);
  std::string deep = std::string(33, '(') + "A" + std::string(33, ')');
  EXPECT_EQ(parseTypeSelector(deep, expandTerm).status().type(), ErrorType::kTooComplexQuery);
}

}  // namespace
}  // namespace allmende::query
