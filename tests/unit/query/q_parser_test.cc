#include <gtest/gtest.h>

#include "query/q.h"

namespace allmende::query {
namespace {

const char* kDefault = "https://uri.etsi.org/ngsi-ld/default-context/";

std::string expandTerm(std::string_view term) { return kDefault + std::string(term); }

QueryExpr parseOk(std::string_view text) {
  auto r = parseQ(text, expandTerm);
  EXPECT_TRUE(r.isOk()) << text << ": " << (r.isOk() ? "" : r.status().toString());
  return r.isOk() ? std::move(r).value() : QueryExpr{};
}

ErrorType parseError(std::string_view text, const QueryLimits& limits = {}) {
  auto r = parseQ(text, expandTerm, limits);
  EXPECT_FALSE(r.isOk()) << text << " should not parse";
  return r.isOk() ? ErrorType::kInternalError : r.status().type();
}

TEST(QParserTest, ExistenceTermExpandsTheName) {
  QueryExpr q = parseOk("temperature");
  ASSERT_EQ(q.kind, QueryExpr::Kind::kTerm);
  EXPECT_EQ(q.term.op, Operator::kExists);
  ASSERT_EQ(q.term.path.names.size(), 1u);
  EXPECT_EQ(q.term.path.names[0], std::string(kDefault) + "temperature");
}

TEST(QParserTest, NonExistence) {
  QueryExpr q = parseOk("!temperature");
  EXPECT_EQ(q.term.op, Operator::kNotExists);
  EXPECT_EQ(parseError("!temperature==1"), ErrorType::kBadRequestData);
}

TEST(QParserTest, EveryOperator) {
  struct Case {
    const char* text;
    Operator op;
  } cases[] = {{"a==1", Operator::kEqual},     {"a!=1", Operator::kUnequal},    {"a>1", Operator::kGreater},
               {"a>=1", Operator::kGreaterEq}, {"a<1", Operator::kLess},        {"a<=1", Operator::kLessEq},
               {"a~=x", Operator::kPattern},   {"a!~=x", Operator::kNotPattern}};
  for (const auto& c : cases) {
    QueryExpr q = parseOk(c.text);
    EXPECT_EQ(q.term.op, c.op) << c.text;
  }
}

TEST(QParserTest, ValueKinds) {
  struct Case {
    const char* text;
    ValueKind kind;
  } cases[] = {{"a==-1.5e3", ValueKind::kNumber},
               {"a==\"x\\\"y\"", ValueKind::kString},
               {"a==true", ValueKind::kBoolean},
               {"a==2017-12-24T12:00:00Z", ValueKind::kDateTime},
               {"a==2017-12-24", ValueKind::kDate},
               {"a==12:00:00Z", ValueKind::kTime},
               {"a==urn:ngsi-ld:Car:1", ValueKind::kUri},
               {"a==https://example.org/x", ValueKind::kUri},
               {"a==Male", ValueKind::kString}};
  for (const auto& c : cases) {
    QueryExpr q = parseOk(c.text);
    ASSERT_EQ(q.term.values.size(), 1u) << c.text;
    EXPECT_EQ(q.term.values[0].kind, c.kind) << c.text;
  }
  QueryExpr q = parseOk("a==-1.5e3");
  EXPECT_DOUBLE_EQ(q.term.values[0].number, -1500);
  q = parseOk("a==\"x\\\"y\\u00e9\"");
  EXPECT_EQ(q.term.values[0].text, "x\"y\xc3\xa9");
  q = parseOk("a==Male");
  EXPECT_TRUE(q.term.values[0].unquoted);
  EXPECT_EQ(q.term.values[0].expanded, std::string(kDefault) + "Male");
  q = parseOk("a==1970-01-02");
  EXPECT_EQ(q.term.values[0].time, 86400LL * 1000000);
}

TEST(QParserTest, RangesAndLists) {
  QueryExpr q = parseOk("a==10..20");
  EXPECT_TRUE(q.term.range);
  ASSERT_EQ(q.term.values.size(), 2u);
  EXPECT_EQ(q.term.values[1].number, 20);
  q = parseOk("a==\"b\"..\"d\"");
  EXPECT_TRUE(q.term.range);
  q = parseOk("a==2017-01-01T00:00:00Z..2018-01-01T00:00:00Z");
  EXPECT_EQ(q.term.values[0].kind, ValueKind::kDateTime);
  q = parseOk("a!=\"x\",\"y\",3,true");
  EXPECT_FALSE(q.term.range);
  EXPECT_EQ(q.term.values.size(), 4u);
}

TEST(QParserTest, ValueOperatorMismatchesAreRejected) {
  EXPECT_EQ(parseError("a>1..2"), ErrorType::kBadRequestData);
  EXPECT_EQ(parseError("a<1,2"), ErrorType::kBadRequestData);
  EXPECT_EQ(parseError("a>true"), ErrorType::kBadRequestData);
  EXPECT_EQ(parseError("a==true..false"), ErrorType::kBadRequestData);
}

TEST(QParserTest, SubAttributeAndCoreMemberPaths) {
  QueryExpr q = parseOk("temperature.quality.observedAt>=2017-12-24T12:00:00Z");
  ASSERT_EQ(q.term.path.names.size(), 2u);
  EXPECT_EQ(q.term.path.names[1], std::string(kDefault) + "quality");
  EXPECT_EQ(q.term.path.member, "observedAt");  // core members are not expanded
  q = parseOk("a.unitCode==\"CEL\"");
  EXPECT_EQ(q.term.path.names.size(), 1u);
  EXPECT_EQ(q.term.path.member, "unitCode");
}

TEST(QParserTest, CompoundKeysAreNotExpanded) {
  QueryExpr q = parseOk("sensor.rawdata[airquality.particulate]==40");
  EXPECT_EQ(q.term.path.names.size(), 2u);
  EXPECT_EQ(q.term.path.keys, (std::vector<std::string>{"airquality", "particulate"}));
  q = parseOk("address[city][zip-code]");
  EXPECT_EQ(q.term.path.keys, (std::vector<std::string>{"city", "zip-code"}));
  q = parseOk("name[*]==\"x\"");
  EXPECT_EQ(q.term.path.keys, (std::vector<std::string>{"*"}));
  EXPECT_EQ(parseError("a[]==1"), ErrorType::kBadRequestData);
  EXPECT_EQ(parseError("a[b==1"), ErrorType::kBadRequestData);
}

TEST(QParserTest, LinkedEntityPaths) {
  QueryExpr q = parseOk("sensor{Device,Sensor:humidity.quality[x]}==40");
  const AttrPath& p = q.term.path;
  ASSERT_TRUE(p.linked);
  EXPECT_EQ(p.names, (std::vector<std::string>{std::string(kDefault) + "sensor"}));
  EXPECT_EQ(p.linkedTypes.size(), 2u);
  EXPECT_EQ(p.linkedTypes[0], std::string(kDefault) + "Device");
  EXPECT_EQ(p.linked->names.size(), 2u);
  EXPECT_EQ(p.linked->keys, (std::vector<std::string>{"x"}));
  q = parseOk("a{b{c}}");
  ASSERT_TRUE(q.term.path.linked && q.term.path.linked->linked);
  EXPECT_TRUE(q.term.path.linkedTypes.empty());
  EXPECT_EQ(parseError("a{b"), ErrorType::kBadRequestData);
}

TEST(QParserTest, AndBindsTighterThanOr) {
  QueryExpr q = parseOk("a|b;c");
  ASSERT_EQ(q.kind, QueryExpr::Kind::kOr);
  ASSERT_EQ(q.children.size(), 2u);
  EXPECT_EQ(q.children[0].kind, QueryExpr::Kind::kTerm);
  EXPECT_EQ(q.children[1].kind, QueryExpr::Kind::kAnd);
  q = parseOk("(a|b);c");
  ASSERT_EQ(q.kind, QueryExpr::Kind::kAnd);
  EXPECT_EQ(q.children[0].kind, QueryExpr::Kind::kOr);
  q = parseOk("((speed>50|rpm>3000);brandName==\"Mercedes\")");
  EXPECT_EQ(q.kind, QueryExpr::Kind::kAnd);
  q = parseOk("a;b;c");
  EXPECT_EQ(q.children.size(), 3u);
}

TEST(QParserTest, DelimitersInsideQuotedStringsAndPatterns) {
  QueryExpr q = parseOk("a==\"x;y|z)\";b~=\"^(a|b)$\"");
  ASSERT_EQ(q.kind, QueryExpr::Kind::kAnd);
  EXPECT_EQ(q.children[0].term.values[0].text, "x;y|z)");
  EXPECT_EQ(q.children[1].term.pattern, "^(a|b)$");
  q = parseOk("a~=^Merc.*");
  EXPECT_EQ(q.term.pattern, "^Merc.*");
}

TEST(QParserTest, SyntaxErrorsAreBadRequestData) {
  for (const char* bad : {"", "a==", "==1", "(a", "a)", "a;", "|a", "a===1", "a==1 ", " a", "1a==1",
                          "a==\"unterminated", "a==\"bad\\q\"", "a.==1", "a..b==1", "a==1..", "a==1,,2",
                          "a~=\"(\"", "a=1", "a==[1]", "a==\"\\ud800\""}) {
    EXPECT_EQ(parseError(bad), ErrorType::kBadRequestData) << bad;
  }
}

TEST(QParserTest, ErrorsNameThePosition) {
  auto r = parseQ("a==1;b=2", expandTerm);
  ASSERT_FALSE(r.isOk());
  EXPECT_NE(r.status().detail().find("position 6"), std::string::npos) << r.status().detail();
}

TEST(QParserTest, LimitsAreTooComplexQuery) {
  std::string longQ = "a==\"" + std::string(9000, 'x') + "\"";
  EXPECT_EQ(parseError(longQ), ErrorType::kTooComplexQuery);
  std::string deep = std::string(33, '(') + "a" + std::string(33, ')');
  EXPECT_EQ(parseError(deep), ErrorType::kTooComplexQuery);
  std::string ok = std::string(32, '(') + "a" + std::string(32, ')');
  EXPECT_TRUE(parseQ(ok, expandTerm).isOk());
  std::string many = "a";
  for (int i = 0; i < 256; ++i) many += ";a";
  EXPECT_EQ(parseError(many), ErrorType::kTooComplexQuery);
  EXPECT_EQ(parseError("a~=\"" + std::string(300, 'x') + "\""), ErrorType::kTooComplexQuery);
  std::string deepLink = "a";
  for (int i = 0; i < 40; ++i) deepLink += "{a";
  deepLink += std::string(40, '}');
  EXPECT_EQ(parseError(deepLink), ErrorType::kTooComplexQuery);
  // A hostile nesting far beyond the limit fails cleanly without recursing.
  EXPECT_EQ(parseError(std::string(8000, '(')), ErrorType::kTooComplexQuery);
}

TEST(QParserTest, CustomLimits) {
  QueryLimits limits;
  limits.maxTerms = 2;
  EXPECT_EQ(parseError("a;b;c", limits), ErrorType::kTooComplexQuery);
}

TEST(QParserTest, EmptyExpandIsIdentityAndPrefixedNamesAreAccepted) {
  auto r = parseQ("ex:temp.sub>1", nullptr);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->term.path.names, (std::vector<std::string>{"ex:temp", "sub"}));
}

TEST(QParserTest, ReferencedAttributes) {
  QueryExpr q = parseOk("(a>1|b.c==2);a<5;!d;e{f}");
  std::vector<std::string> want;
  for (const char* n : {"a", "b", "d", "e"}) want.push_back(kDefault + std::string(n));
  EXPECT_EQ(referencedAttributes(q), want);
}

}  // namespace
}  // namespace allmende::query
