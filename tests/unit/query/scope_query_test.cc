#include <gtest/gtest.h>

#include "query/scope_query.h"

namespace allmende::query {
namespace {

// Evaluates scopeQ `q` against the scopes given as a JSON array text.
bool matches(std::string_view q, const char* scopesJson) {
  auto sq = parseScopeQ(q);
  EXPECT_TRUE(sq.isOk()) << q << ": " << (sq.isOk() ? "" : sq.status().toString());
  if (!sq.isOk()) return false;
  JsonDocument d;
  EXPECT_TRUE(parseJson(scopesJson, d).isOk());
  return evaluate(*sq, d);
}

TEST(ScopeQueryTest, ExactScope) {
  EXPECT_TRUE(matches("/Madrid", R"(["/Madrid"])"));
  EXPECT_FALSE(matches("/Madrid", R"(["/Madrid/Gardens"])"));
  EXPECT_FALSE(matches("/Madrid/Gardens", R"(["/Madrid"])"));
  EXPECT_TRUE(matches("/Madrid/Gardens", R"(["/Paris", "/Madrid/Gardens"])"));
  EXPECT_TRUE(matches("/Madrid", R"("/Madrid")"));
  EXPECT_FALSE(matches("/Madrid", "null"));
  EXPECT_FALSE(matches("/Madrid", "[]"));
}

TEST(ScopeQueryTest, SubtreeWildcard) {
  // 4.19 example 2.
  for (const char* s : {"/Madrid/Gardens", "/Madrid/Gardens/ParqueNorte", "/Madrid/Gardens/ParqueNorte/Parterre1"}) {
    EXPECT_TRUE(matches("/Madrid/Gardens/#", (std::string("[\"") + s + "\"]").c_str())) << s;
  }
  EXPECT_FALSE(matches("/Madrid/Gardens/#", R"(["/Madrid"])"));
  EXPECT_FALSE(matches("/Madrid/Gardens/#", R"(["/Madrid/GardensX"])"));
}

TEST(ScopeQueryTest, AnyNonEmptyScope) {
  EXPECT_TRUE(matches("/#", R"(["/x"])"));
  EXPECT_FALSE(matches("/#", "[]"));
  EXPECT_FALSE(matches("/#", "null"));
}

TEST(ScopeQueryTest, SingleLevelWildcard) {
  // 4.19 example 3.
  EXPECT_TRUE(matches("/Madrid/+/ParqueNorte", R"(["/Madrid/Gardens/ParqueNorte"])"));
  EXPECT_TRUE(matches("/Madrid/+/ParqueNorte", R"(["/Madrid/Sights/ParqueNorte"])"));
  EXPECT_FALSE(matches("/Madrid/+/ParqueNorte", R"(["/Madrid/ParqueNorte"])"));
  EXPECT_FALSE(matches("/Madrid/+/ParqueNorte", R"(["/Madrid/a/b/ParqueNorte"])"));
  EXPECT_TRUE(matches("/+/#", R"(["/a/b/c"])"));
  EXPECT_FALSE(matches("/+", R"(["/a/b"])"));
}

TEST(ScopeQueryTest, AndOrAndPrecedence) {
  // 4.19 examples 4 and 5.
  EXPECT_TRUE(matches("(/Madrid/Districts;/CompanyA)", R"(["/CompanyA", "/Madrid/Districts"])"));
  EXPECT_FALSE(matches("(/Madrid/Districts;/CompanyA)", R"(["/CompanyA"])"));
  EXPECT_TRUE(matches("(/Madrid/Districts;/CompanyA)|/CompanyB", R"(["/CompanyB"])"));
  EXPECT_TRUE(matches("(/Madrid/Districts;/CompanyA),/CompanyB", R"(["/CompanyB"])"));
  EXPECT_FALSE(matches("(/Madrid/Districts;/CompanyA),/CompanyB", R"(["/CompanyA"])"));
  EXPECT_TRUE(matches("/a,/b", R"(["/b"])"));
  EXPECT_TRUE(matches("/a|/b;/c", R"(["/a"])"));  // AND binds tighter than OR
  EXPECT_FALSE(matches("(/a|/b);/c", R"(["/a"])"));
}

TEST(ScopeQueryTest, Ast) {
  auto q = parseScopeQ("/a/+/#");
  ASSERT_TRUE(q.isOk());
  EXPECT_EQ(q->kind, ScopeQuery::Kind::kLeaf);
  EXPECT_EQ(q->pattern.levels, (std::vector<std::string>{"a", "+"}));
  EXPECT_TRUE(q->pattern.subtree);
}

TEST(ScopeQueryTest, Errors) {
  for (const char* bad : {"", "a", "/", "//a", "/a/", "/a/#/b", "(/a", "/a)", "/a;", "/1a", "/a b", "/a/#x"}) {
    auto r = parseScopeQ(bad);
    ASSERT_FALSE(r.isOk()) << bad;
    EXPECT_EQ(r.status().type(), ErrorType::kBadRequestData) << bad;
  }
  std::string deep = std::string(40, '(') + "/a" + std::string(40, ')');
  auto r = parseScopeQ(deep);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().type(), ErrorType::kTooComplexQuery);
  std::string longQ = "/" + std::string(9000, 'a');
  EXPECT_EQ(parseScopeQ(longQ).status().type(), ErrorType::kTooComplexQuery);
  std::string many = "/a";
  for (int i = 0; i < 300; ++i) many += ",/a";
  EXPECT_EQ(parseScopeQ(many).status().type(), ErrorType::kTooComplexQuery);
}

}  // namespace
}  // namespace allmende::query
