#include "ingest/mapping.h"

#include <gtest/gtest.h>

namespace allmende::ingest {
namespace {

DeviceMapping mapping(std::string_view json) {
  JsonDocument d;
  EXPECT_TRUE(parseJson(json, d).isOk());
  auto m = parseMapping(d);
  EXPECT_TRUE(m.isOk()) << (m ? "" : m.status().detail());
  return m ? *m : DeviceMapping{};
}

Result<std::string> map(const DeviceMapping& m, std::string_view payload) {
  JsonDocument d;
  Status st = parseJson(payload, d);
  if (!st.isOk()) return st;
  auto out = mapPayload(m, d);
  if (!out) return out.status();
  return toJsonString(*out);
}

TEST(Mapping, FlatWithoutFieldsMapsEveryScalar) {
  auto out = map(mapping(R"({})"), R"({"t": 1.5, "on": true, "s": "x", "nested": {"a": 1}, "list": [1]})");
  ASSERT_TRUE(out.isOk());
  EXPECT_EQ(*out,
            R"({"t":{"type":"Property","value":1.5},"on":{"type":"Property","value":true},)"
            R"("s":{"type":"Property","value":"x"}})");
}

TEST(Mapping, FieldsWithPointerUnitScaleOffsetAndTimestamp) {
  auto m = mapping(R"({"timestamp": "/meta/ts", "fields": [
      {"source": "/m/raw", "attribute": "temperature", "unitCode": "CEL", "scale": 0.1, "offset": -40}]})");
  auto out = map(m, R"({"meta": {"ts": "2026-01-02T03:04:05Z"}, "m": {"raw": 615}})");
  ASSERT_TRUE(out.isOk()) << out.status().detail();
  EXPECT_EQ(*out, R"({"temperature":{"type":"Property","value":21.5,"unitCode":"CEL",)"
                  R"("observedAt":"2026-01-02T03:04:05.000Z"}})");
}

TEST(Mapping, Conversions) {
  auto m = mapping(R"({"fields": [{"source": "a", "type": "integer"}, {"source": "b", "type": "boolean"},
                                  {"source": "c", "type": "string"}, {"source": "d", "type": "number"}]})");
  auto out = map(m, R"({"a": "41.6", "b": 0, "c": 12, "d": "2.5"})");
  ASSERT_TRUE(out.isOk()) << out.status().detail();
  EXPECT_EQ(*out, R"({"a":{"type":"Property","value":42},"b":{"type":"Property","value":false},)"
                  R"("c":{"type":"Property","value":"12"},"d":{"type":"Property","value":2.5}})");
  auto bad = map(m, R"({"a": "x"})");
  ASSERT_FALSE(bad.isOk());
  EXPECT_EQ(bad.status().detail(), "a is not a number: 'x'");
  EXPECT_FALSE(map(m, R"({"b": "maybe"})").isOk());
  EXPECT_FALSE(map(m, R"({"a": {"x": 1}})").isOk());
}

TEST(Mapping, EpochTimestampsInSecondsAndMilliseconds) {
  auto m = mapping(R"({"timestamp": "ts"})");
  EXPECT_EQ(*map(m, R"({"v": 1, "ts": 1700000000})"),
            R"({"v":{"type":"Property","value":1,"observedAt":"2023-11-14T22:13:20.000Z"}})");
  EXPECT_EQ(*map(m, R"({"v": 1, "ts": 1700000000500})"),
            R"({"v":{"type":"Property","value":1,"observedAt":"2023-11-14T22:13:20.500Z"}})");
  EXPECT_FALSE(map(m, R"({"v": 1, "ts": "yesterday"})").isOk());
  EXPECT_FALSE(map(m, R"({"v": 1, "ts": -5})").isOk());
  EXPECT_FALSE(map(m, R"({"v": 1})").isOk());  // the timestamp field is required once named
}

TEST(Mapping, MeasurementArrays) {
  auto all = mapping(R"({"format": "measurements"})");
  EXPECT_EQ(*map(all, R"([{"n": "t", "v": 3, "u": "CEL"}])"), R"({"t":{"type":"Property","value":3,"unitCode":"CEL"}})");
  EXPECT_EQ(*map(all, R"({"measurements": [{"name": "t", "value": 3, "time": "2026-01-01T00:00:00Z"}]})"),
            R"({"t":{"type":"Property","value":3,"observedAt":"2026-01-01T00:00:00.000Z"}})");
  EXPECT_FALSE(map(all, R"([{"n": "t", "v": 3}, {"n": "t", "v": 4}])").isOk());  // one attribute twice
  EXPECT_FALSE(map(all, R"([1])").isOk());
  EXPECT_FALSE(map(all, R"({"x": 1})").isOk());
  EXPECT_FALSE(map(all, R"([])").isOk());
}

TEST(Mapping, TtnAndChirpStackUplinks) {
  auto ttn = mapping(R"({"format": "ttn"})");
  EXPECT_EQ(*map(ttn, R"({"received_at": "2026-01-01T00:00:00Z", "uplink_message": {"decoded_payload": {"x": 1}}})"),
            R"({"x":{"type":"Property","value":1,"observedAt":"2026-01-01T00:00:00.000Z"}})");
  EXPECT_FALSE(map(ttn, R"({"uplink_message": {}})").isOk());
  EXPECT_FALSE(map(ttn, R"([])").isOk());
  auto cs = mapping(R"({"format": "chirpstack"})");
  EXPECT_EQ(*map(cs, R"({"rxInfo": [{"time": "2026-01-01T00:00:00Z"}], "object": {"x": 2}})"),
            R"({"x":{"type":"Property","value":2,"observedAt":"2026-01-01T00:00:00.000Z"}})");
  EXPECT_FALSE(map(cs, R"({"data": "AQ=="})").isOk());
}

TEST(Mapping, InvalidMappingsAreRefused) {
  for (const char* bad : {R"([])", R"({"format": "csv"})", R"({"fields": {}})", R"({"fields": [{"attribute": "a"}]})",
                          R"({"fields": [{"source": "a", "type": "date"}]})", R"({"fields": [{"source": "a", "scale": "2"}]})",
                          R"({"static": []})", R"({"timestamp": "/~x"})"}) {
    JsonDocument d;
    ASSERT_TRUE(parseJson(bad, d).isOk());
    EXPECT_FALSE(parseMapping(d).isOk()) << bad;
  }
}

TEST(Mapping, RoundTripsThroughItsJsonForm) {
  auto m = mapping(R"({"format": "ttn", "timestamp": "ts", "fields": [{"source": "a", "attribute": "b",
                     "unitCode": "CEL", "scale": 2, "offset": 1, "type": "integer"}], "static": {"name": {"type": "Property", "value": "n"}}})");
  JsonBuffer buf;
  JsonWriter w(buf);
  writeMapping(m, w);
  auto again = mapping(std::string_view(buf.GetString(), buf.GetSize()));
  EXPECT_EQ(again.format, PayloadFormat::kTtn);
  ASSERT_EQ(again.fields.size(), 1u);
  EXPECT_EQ(again.fields[0].attribute, "b");
  EXPECT_EQ(again.fields[0].scale, 2.0);
  EXPECT_EQ(again.fields[0].convert, Conversion::kInteger);
  EXPECT_EQ(again.staticAttributes, m.staticAttributes);
}

}  // namespace
}  // namespace allmende::ingest
