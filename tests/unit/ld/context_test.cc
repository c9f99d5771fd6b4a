#include <gtest/gtest.h>

#include "common/json.h"
#include "fake_loader.h"
#include "ld/context.h"
#include "ld/context_processor.h"
#include "ld/core_context.h"

namespace allmende::ld {
namespace {

using testing::FakeLoader;

constexpr const char* kNgsi = "https://uri.etsi.org/ngsi-ld/";
constexpr const char* kDefault = "https://uri.etsi.org/ngsi-ld/default-context/";

class ContextTest : public ::testing::Test {
 protected:
  Result<std::shared_ptr<const Context>> process(const std::string& json) {
    JsonDocument doc;
    Status st = parseJson(json, doc);
    EXPECT_TRUE(st.isOk()) << json;
    DocumentSource fetch = [this](const std::string& url) { return loader.load(url); };
    return processContext(doc, fetch);
  }
  std::shared_ptr<const Context> ok(const std::string& json) {
    auto r = process(json);
    EXPECT_TRUE(r.isOk()) << json << " -> " << (r ? "" : r.status().toString());
    return r ? *r : coreContext();
  }
  FakeLoader loader;
};

TEST_F(ContextTest, CoreContextOnly) {
  auto core = coreContext();
  EXPECT_GT(core->termCount(), 150u);
  EXPECT_EQ(core->expandTerm("location"), std::string(kNgsi) + "location");
  EXPECT_EQ(core->expandTerm("value"), std::string(kNgsi) + "hasValue");
  EXPECT_EQ(core->expandTerm("id"), "@id");
  EXPECT_EQ(core->expandTerm("type"), "@type");
  EXPECT_EQ(core->expandTerm("description"), "http://purl.org/dc/terms/description");
  EXPECT_EQ(core->expandTerm("temperature"), std::string(kDefault) + "temperature");
  EXPECT_EQ(core->expandTerm("attributeCount"), std::string(kDefault) + "attributeCount");
  EXPECT_EQ(core->expandTerm("ngsi-ld:foo"), std::string(kNgsi) + "foo");
  EXPECT_EQ(core->expandTerm("https://example.org/x"), "https://example.org/x");
  EXPECT_EQ(core->expandTerm("urn:ngsi-ld:x"), "urn:ngsi-ld:x");
  EXPECT_EQ(core->compactIri(std::string(kNgsi) + "location"), "location");
  EXPECT_EQ(core->compactIri(std::string(kDefault) + "temperature"), "temperature");
  EXPECT_EQ(core->compactIri(std::string(kNgsi) + "unknownThing"), "ngsi-ld:unknownThing");
  EXPECT_EQ(core->compactIri("https://example.org/x"), "https://example.org/x");
  // createdAt is DateTime-typed: JSON-LD's term selection for a node value does not pick it.
  EXPECT_EQ(core->compactIri(std::string(kNgsi) + "createdAt"), "ngsi-ld:createdAt");
  EXPECT_EQ(core->compactIri("@type"), "type");
  EXPECT_TRUE(core->isVocabTyped("vocab"));
  EXPECT_TRUE(core->isVocabTypedStrict("objectType"));
  EXPECT_FALSE(core->isVocabTyped("value"));
  EXPECT_EQ(core->vocab().value_or(""), kDefault);
}

TEST_F(ContextTest, UserTermsAndPrefixes) {
  auto c = ok(R"({"sdm": "https://smartdatamodels.org/", "schema": "https://schema.org/",
                  "WaterObserved": "sdm:dataModel.Environment/WaterObserved",
                  "waterLevel": {"@id": "sdm:dataModel.Environment/waterLevel"},
                  "name": "schema:name", "category": {"@id": "sdm:category", "@type": "@vocab"}})");
  EXPECT_EQ(c->expandTerm("WaterObserved"), "https://smartdatamodels.org/dataModel.Environment/WaterObserved");
  EXPECT_EQ(c->expandTerm("waterLevel"), "https://smartdatamodels.org/dataModel.Environment/waterLevel");
  EXPECT_EQ(c->expandTerm("schema:address"), "https://schema.org/address");
  EXPECT_EQ(c->expandTerm("location"), std::string(kNgsi) + "location");
  EXPECT_EQ(c->compactIri("https://schema.org/name"), "name");
  EXPECT_EQ(c->compactIri("https://schema.org/address"), "schema:address");
  EXPECT_EQ(c->compactIri("https://smartdatamodels.org/dataModel.Environment/waterLevel"), "waterLevel");
  EXPECT_TRUE(c->isVocabTyped("category"));
  EXPECT_EQ(c->sourceUrl(), std::nullopt);
}

TEST_F(ContextTest, ShortestThenLeastTermWins) {
  auto c = ok(R"({"tempB": "http://x.org/t", "tA": "http://x.org/t", "tB": "http://x.org/t"})");
  EXPECT_EQ(c->compactIri("http://x.org/t"), "tA");
}

TEST_F(ContextTest, ObjectFormIdIsNotAPrefix) {
  // JSON-LD 1.1: only simple (string) definitions ending in a gen-delim become prefixes.
  auto c = ok(R"({"ex": {"@id": "http://ex.org/"}, "ex2": "http://ex2.org/"})");
  EXPECT_EQ(c->expandTerm("ex:a"), "ex:a");
  EXPECT_EQ(c->expandTerm("ex2:a"), "http://ex2.org/a");
  EXPECT_EQ(c->compactIri("http://ex2.org/a"), "ex2:a");
}

TEST_F(ContextTest, CoreTermsAreProtectedAndWin) {
  auto c = ok(R"({"location": "https://schema.org/location", "value": "http://x/v"})");
  EXPECT_EQ(c->expandTerm("location"), std::string(kNgsi) + "location");
  EXPECT_EQ(c->expandTerm("value"), std::string(kNgsi) + "hasValue");
  // Core URL first, then a redefinition: the core term stays (NGSI-LD 4.5), no error.
  auto d = ok(R"(["https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.6.jsonld",
                  {"location": "https://schema.org/location", "temp": "ngsi-ld:temp"}])");
  EXPECT_EQ(d->expandTerm("location"), std::string(kNgsi) + "location");
  EXPECT_EQ(d->expandTerm("temp"), std::string(kNgsi) + "temp");
  EXPECT_EQ(loader.calls, 0);
}

TEST_F(ContextTest, CoreVocabIsAppliedLast) {
  // The core context is applied after the user context, so its @vocab replaces the user's.
  auto c = ok(R"({"@vocab": "https://smartdatamodels.org/"})");
  EXPECT_EQ(c->expandTerm("foo"), std::string(kDefault) + "foo");
}

TEST_F(ContextTest, UserProtectedTermRedefinitionFails) {
  auto r = process(R"([{"@protected": true, "a": "http://a/"}, {"a": "http://b/"}])");
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().type(), ErrorType::kBadRequestData);
  auto same = process(R"([{"@protected": true, "a": "http://a/"}, {"a": "http://a/"}])");
  EXPECT_TRUE(same.isOk());
}

TEST_F(ContextTest, ArraysOfContextsLaterWins) {
  auto c = ok(R"([{"a": "http://one/a", "b": "http://one/b"}, {"a": "http://two/a"}])");
  EXPECT_EQ(c->expandTerm("a"), "http://two/a");
  EXPECT_EQ(c->expandTerm("b"), "http://one/b");
  auto n = ok(R"([{"a": "http://one/a"}, null, {"b": "http://two/b"}])");
  EXPECT_EQ(n->expandTerm("a"), std::string(kDefault) + "a");
}

TEST_F(ContextTest, NullTermAndScopedContextAccepted) {
  auto c = ok(R"({"gone": null, "x": {"@id": "http://x/", "@context": {"y": "http://y/"}},
                  "@version": 1.1, "@propagate": true, "@language": "en", "@base": "http://base/"})");
  EXPECT_EQ(c->expandTerm("gone"), "");
  EXPECT_EQ(c->expandTerm("x"), "http://x/");
  // "gone" is a (null) term, so @vocab is not stripped; the ngsi-ld prefix applies instead.
  EXPECT_EQ(c->compactIri(std::string(kDefault) + "gone"), "ngsi-ld:default-context/gone");
}

TEST_F(ContextTest, MalformedContextsAreBadRequestData) {
  for (const char* bad : {R"(42)", R"({"a": 5})", R"({"@id": "http://x"})", R"({"a": {"@reverse": "http://x"}})",
                          R"({"a": {"@id": "http://x", "@container": "@bogus"}})",
                          R"({"a": {"@id": "http://x", "@type": "notAnIri"}})", R"({"@version": 1.0})",
                          R"({"a": "b", "b": "a"})", R"({"a": {"@id": "http://x", "@foo": 1}})",
                          R"([[{"a": "http://x"}]])", R"({"@propagate": "yes"})"}) {
    auto r = process(bad);
    ASSERT_FALSE(r.isOk()) << bad;
    EXPECT_EQ(r.status().type(), ErrorType::kBadRequestData) << bad << ": " << r.status().toString();
  }
}

TEST_F(ContextTest, RemoteContextsNestedAndRelative) {
  loader.put("http://ctx.example/a.jsonld",
             R"({"@context": ["./b.jsonld", {"sdm": "https://smartdatamodels.org/", "t": "sdm:T"}]})");
  loader.put("http://ctx.example/b.jsonld", R"({"@context": {"b": "http://b.example/b"}})");
  auto c = ok(R"("http://ctx.example/a.jsonld")");
  EXPECT_EQ(c->expandTerm("t"), "https://smartdatamodels.org/T");
  EXPECT_EQ(c->expandTerm("b"), "http://b.example/b");
  EXPECT_EQ(c->sourceUrl().value_or(""), "http://ctx.example/a.jsonld");
  EXPECT_EQ(c->source(), R"("http://ctx.example/a.jsonld")");
}

TEST_F(ContextTest, RemoteImport) {
  loader.put("http://ctx.example/base.jsonld", R"({"@context": {"a": "http://a/", "b": "http://b/"}})");
  auto c = ok(R"({"@import": "http://ctx.example/base.jsonld", "b": "http://b2/"})");
  EXPECT_EQ(c->expandTerm("a"), "http://a/");
  EXPECT_EQ(c->expandTerm("b"), "http://b2/");
}

TEST_F(ContextTest, RemoteCycleAndDepth) {
  loader.put("http://c/1", R"({"@context": "http://c/2"})");
  loader.put("http://c/2", R"({"@context": ["http://c/1"]})");
  auto r = process(R"("http://c/1")");
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().type(), ErrorType::kBadRequestData);
  for (int i = 0; i < 40; ++i) {
    loader.put("http://d/" + std::to_string(i), R"({"@context": "http://d/)" + std::to_string(i + 1) + "\"}");
  }
  auto deep = process(R"("http://d/0")");
  ASSERT_FALSE(deep.isOk());
  EXPECT_EQ(deep.status().type(), ErrorType::kBadRequestData);
}

TEST_F(ContextTest, RemoteFailuresAreLdContextNotAvailable) {
  loader.put("http://c/notjson", "<html>");
  loader.put("http://c/nocontext", R"({"a": 1})");
  for (const char* v : {R"("http://c/missing")", R"("http://c/notjson")", R"("http://c/nocontext")",
                        R"([{"a": "http://a/"}, "http://c/missing"])"}) {
    auto r = process(v);
    ASSERT_FALSE(r.isOk()) << v;
    EXPECT_EQ(r.status().type(), ErrorType::kLdContextNotAvailable) << v;
  }
}

TEST_F(ContextTest, CoreUrlsAreNeverFetched) {
  for (const char* url : {"https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld",
                          "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.3.jsonld",
                          "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.4.jsonld",
                          "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.5.jsonld",
                          "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.6.jsonld",
                          "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.7.jsonld",
                          "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld",
                          "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld",
                          "http://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"}) {
    EXPECT_TRUE(isCoreContextUrl(url)) << url;
    auto c = ok(std::string("\"") + url + "\"");
    EXPECT_EQ(c->expandTerm("location"), std::string(kNgsi) + "location");
  }
  EXPECT_EQ(loader.calls, 0);
  EXPECT_FALSE(isCoreContextUrl("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v2.0.jsonld"));
  EXPECT_FALSE(isCoreContextUrl("https://example.org/ngsi-ld-core-context.jsonld"));
}

}  // namespace
}  // namespace allmende::ld
