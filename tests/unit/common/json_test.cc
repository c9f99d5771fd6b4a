#include "common/json.h"

#include <gtest/gtest.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

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
  EXPECT_EQ(parseJson("[1.7976931348623157e308, 1e999]", d).type(), ErrorType::kBadRequestData);
  for (char c = 1; c < 0x20; ++c) {  // raw control characters in a string, wherever it lies
    std::string text = "[\"" + std::string(static_cast<size_t>(c % 17), 'x') + c + "\"]";
    EXPECT_EQ(parseJson(text, d).type(), ErrorType::kBadRequestData) << int(c);
  }
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

TEST(JsonTest, SerialisesStringsNumbersAndLiteralsAsRapidJsonReadsThem) {
  const char* corpus[] = {
      R"({"s":"quote \" backslash \\ slash / tab \t nl \n cr \r bs \b ff \f ctl \u0001 \u001f","u":"Straße 🌧"})",
      R"([0,-1,9223372036854775807,18446744073709551615,-9223372036854775808,1.5,21.0,-0.0,1e21,1.25e-7,0.1,123456.789])",
      R"({"t":true,"f":false,"n":null,"e":{},"a":[],"nested":[{"x":[[]]}]})",
  };
  for (const char* text : corpus) {
    JsonDocument d;
    ASSERT_TRUE(parseJson(text, d).isOk()) << text;
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    d.Accept(w);
    JsonDocument mine, theirs;
    ASSERT_TRUE(parseJson(toJsonString(d), mine).isOk()) << toJsonString(d);
    ASSERT_TRUE(parseJson(buf.GetString(), theirs).isOk());
    EXPECT_TRUE(mine == theirs) << toJsonString(d) << " vs " << buf.GetString();
  }
  JsonDocument d;
  ASSERT_TRUE(parseJson(R"(["a\"b\\c\u0001\t",-12,18446744073709551615])", d).isOk());
  EXPECT_EQ(toJsonString(d), R"(["a\"b\\c\u0001\t",-12,18446744073709551615])");
  // Integral doubles stay doubles.
  ASSERT_TRUE(parseJson("[21.0]", d).isOk());
  EXPECT_EQ(toJsonString(d), "[21.0]");
}

// RFC 8259 7, the plain way. (RapidJSON's SSE2 writer is no reference: it leaves some control
// characters unescaped.)
std::string escapedPlainly(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

TEST(JsonTest, StringsOfEveryShapeAreEscaped) {
  std::mt19937 rng(11);
  const std::string alphabet = std::string("abc\"\\\n\x01\x1f \x7f") + "\xc3\x9f";
  for (int i = 0; i < 2000; ++i) {
    std::string text;
    for (size_t k = rng() % 40; k > 0; --k) text += alphabet[rng() % alphabet.size()];
    Json v(rapidjson::StringRef(text.data(), text.size()));
    ASSERT_EQ(toJsonString(v), escapedPlainly(text));
  }
}

// The text written for a double reads back to the same bits, with a correctly rounding reader
// and with our own parse (RapidJSON's default may be one unit in the last place off on 17-digit
// input, so a stored value changed when it was read back).
TEST(JsonTest, DoublesReadBackBitForBit) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    uint64_t bits = rng();
    double x;
    std::memcpy(&x, &bits, sizeof x);
    if (!std::isfinite(x)) continue;
    std::string text = toJsonString(Json(x));
    double y = std::strtod(text.c_str(), nullptr);
    EXPECT_EQ(std::memcmp(&x, &y, sizeof x), 0) << text;
    JsonDocument doc;
    ASSERT_TRUE(parseJson("[" + text + "]", doc).isOk()) << text;
    double z = doc[0].GetDouble();
    EXPECT_EQ(std::memcmp(&x, &z, sizeof x), 0) << text;
  }
}

// Numbers at the edges: the kinds RapidJSON gives integers, doubles at both ends of the range,
// zeros with large exponents (undefined behaviour in Debian 12's RapidJSON full-precision path).
TEST(JsonTest, NumbersAtTheEdgesKeepTheirKindAndValue) {
  JsonDocument d;
  ASSERT_TRUE(parseJson("[0, -0, 7, -7, 4294967296, -9223372036854775808, 18446744073709551615, "
                        "18446744073709551616, -9223372036854775809, -0.0, 0e211, 0.000e-999, "
                        "1.7976931348623157e308, 4.9e-324, 1e-400, 0.1]",
                        d)
                  .isOk());
  EXPECT_TRUE(d[0].IsInt() && d[0].GetInt() == 0);
  EXPECT_TRUE(d[1].IsInt() && d[1].GetInt() == 0);
  EXPECT_TRUE(d[2].IsUint() && d[2].IsInt() && d[2].GetInt() == 7);
  EXPECT_TRUE(d[3].IsInt() && d[3].GetInt() == -7);
  EXPECT_TRUE(d[4].IsInt64() && !d[4].IsUint() && d[4].GetInt64() == 4294967296);
  EXPECT_TRUE(d[5].IsInt64() && d[5].GetInt64() == INT64_MIN);
  EXPECT_TRUE(d[6].IsUint64() && !d[6].IsInt64() && d[6].GetUint64() == UINT64_MAX);
  EXPECT_TRUE(d[7].IsDouble() && d[7].GetDouble() == 18446744073709551616.0);
  EXPECT_TRUE(d[8].IsDouble() && d[8].GetDouble() == -9223372036854775808.0);
  EXPECT_TRUE(d[9].IsDouble() && d[9].GetDouble() == 0 && std::signbit(d[9].GetDouble()));
  EXPECT_TRUE(d[10].IsDouble() && d[10].GetDouble() == 0);
  EXPECT_TRUE(d[11].IsDouble() && d[11].GetDouble() == 0);
  EXPECT_EQ(d[12].GetDouble(), 1.7976931348623157e308);
  EXPECT_EQ(d[13].GetDouble(), 4.9e-324);
  EXPECT_EQ(d[14].GetDouble(), 0.0);
  EXPECT_EQ(d[15].GetDouble(), 0.1);
  for (const char* tooBig : {"[1e309]", "[-1.8e308]", "{\"a\":[99e999999]}"}) {
    Status s = parseJson(tooBig, d);
    EXPECT_EQ(s.type(), ErrorType::kBadRequestData) << tooBig;
    EXPECT_NE(s.detail().find("Number too big"), std::string::npos) << s.detail();
  }
  EXPECT_TRUE(parseJsonText("{\"a\":", d).IsError());
  EXPECT_TRUE(d.IsNull());
}

}  // namespace
}  // namespace allmende
