// Differential test: Allmende's expansion/compaction against jsonld.js (tests/tools), the JSON-LD
// reference processor, on a corpus of NGSI-LD-style contexts. Each case is processed by jsonld.js
// as [context..., core context URL], the NGSI-LD order.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "common/json.h"
#include "ld/context_processor.h"
#include "ld/core_context.h"

namespace allmende::ld {
namespace {

struct Case {
  std::string name;
  std::string context;  // JSON text of the @context value
};

const std::map<std::string, std::string> kDocuments = {
    {"https://ctx.example.org/sdm-environment.jsonld",
     R"({"@context": {"sdm": "https://smartdatamodels.org/", "env": "https://smartdatamodels.org/dataModel.Environment/",
         "WaterObserved": "env:WaterObserved", "waterLevel": "env:waterLevel", "name": "https://smartdatamodels.org/name"}})"},
    {"https://ctx.example.org/nested.jsonld",
     R"({"@context": ["https://ctx.example.org/sdm-environment.jsonld", {"schema": "https://schema.org/", "address": "schema:address"}]})"},
    {"https://ctx.example.org/vocab.jsonld", R"({"@context": {"@vocab": "https://example.org/vocab#"}})"},
};

std::vector<Case> corpus() {
  return {
      {"empty-object", R"({})"},
      {"null", R"(null)"},
      {"sdm-prefix", R"({"sdm": "https://smartdatamodels.org/"})"},
      {"schema-prefix", R"({"schema": "https://schema.org/"})"},
      {"sdm-terms", R"({"sdm": "https://smartdatamodels.org/", "name": "sdm:name", "temperature": "sdm:temperature"})"},
      {"schema-terms", R"({"schema": "https://schema.org/", "name": "schema:name", "address": "schema:address"})"},
      {"water-observed", R"({"WaterObserved": "https://smartdatamodels.org/dataModel.Environment/WaterObserved",
                             "waterLevel": "https://smartdatamodels.org/dataModel.Environment/waterLevel"})"},
      {"object-defs", R"({"sdm": "https://smartdatamodels.org/", "waterLevel": {"@id": "sdm:dataModel.Environment/waterLevel"},
                          "refDevice": {"@id": "sdm:refDevice", "@type": "@id"}})"},
      {"vocab-typed", R"({"sdm": "https://smartdatamodels.org/", "category": {"@id": "sdm:category", "@type": "@vocab"}})"},
      {"user-vocab", R"({"@vocab": "https://smartdatamodels.org/"})"},
      {"user-vocab-and-terms", R"({"@vocab": "https://schema.org/", "temperature": "https://smartdatamodels.org/temperature"})"},
      {"redefine-core-location", R"({"location": "https://schema.org/location"})"},
      {"redefine-core-value", R"({"value": "https://schema.org/value", "name": "https://schema.org/name"})"},
      {"same-as-core", R"({"ngsi-ld": "https://uri.etsi.org/ngsi-ld/", "id": "@id", "type": "@type", "location": "ngsi-ld:location"})"},
      {"two-terms-one-iri", R"({"nm": "https://schema.org/name", "name": "https://schema.org/name", "aName": "https://schema.org/name"})"},
      {"set-container-preferred", R"({"names": {"@id": "https://schema.org/name", "@container": "@set"}, "n": "https://schema.org/name"})"},
      {"list-container-not-selected", R"({"n": {"@id": "https://schema.org/name", "@container": "@list"}, "schema": "https://schema.org/"})"},
      {"typed-literal-not-selected", R"({"dateObserved": {"@id": "https://smartdatamodels.org/dateObserved", "@type": "https://uri.etsi.org/ngsi-ld/DateTime"}})"},
      {"id-typed-preferred", R"({"a": "https://smartdatamodels.org/ref", "refB": {"@id": "https://smartdatamodels.org/ref", "@type": "@id"}})"},
      {"object-id-not-prefix", R"({"ex": {"@id": "http://example.org/"}, "sdm": "https://smartdatamodels.org/"})"},
      {"explicit-prefix", R"({"ex": {"@id": "http://example.org/", "@prefix": true}})"},
      {"hash-prefix", R"({"fiware": "https://uri.fiware.org/ns/dataModels#", "Building": "fiware:Building"})"},
      {"array-later-wins", R"([{"name": "https://schema.org/name"}, {"name": "https://smartdatamodels.org/name"}])"},
      {"array-with-null", R"([{"name": "https://schema.org/name"}, null, {"schema": "https://schema.org/"}])"},
      {"array-with-core-url", R"([{"sdm": "https://smartdatamodels.org/"}, "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"])"},
      {"null-term", R"({"temperature": null, "sdm": "https://smartdatamodels.org/"})"},
      {"remote-sdm", R"("https://ctx.example.org/sdm-environment.jsonld")"},
      {"remote-nested", R"("https://ctx.example.org/nested.jsonld")"},
      {"remote-plus-inline", R"(["https://ctx.example.org/sdm-environment.jsonld", {"Device": "https://smartdatamodels.org/dataModel.Device/Device"}])"},
      {"remote-vocab", R"("https://ctx.example.org/vocab.jsonld")"},
      // (@import is supported by Allmende and unit-tested in context_test.cc; jsonld.js 8 rejects
      // this form with "a term definition must not contain mappings", so it is not compared here.)
      {"remote-then-override", R"(["https://ctx.example.org/sdm-environment.jsonld", {"name": "https://schema.org/name"}])"},
      {"compact-iri-term", R"({"sdm": "https://smartdatamodels.org/", "sdm:temperature": {"@type": "@id"}})"},
      {"term-is-absolute-iri", R"({"https://smartdatamodels.org/x": {"@type": "@vocab"}})"},
      {"protected-user", R"({"@protected": true, "sdm": "https://smartdatamodels.org/", "name": "sdm:name"})"},
      {"version-and-extras", R"({"@version": 1.1, "@language": "en", "@propagate": true, "sdm": "https://smartdatamodels.org/",
                                 "controlledAsset": {"@id": "https://uri.fiware.org/ns/dataModels#controlledAsset", "@type": "@id"}})"},
      {"scoped-context", R"({"address": {"@id": "https://schema.org/address", "@context": {"street": "https://schema.org/streetAddress"}}})"},
      {"prefix-longest-match", R"({"sdm": "https://smartdatamodels.org/", "env": "https://smartdatamodels.org/dataModel.Environment/"})"},
      {"vocab-suffix-is-term", R"({"temperature": "https://smartdatamodels.org/temperature"})"},
  };
}

const std::vector<std::string> kTerms = {
    "temperature", "location", "name", "address", "sdm:foo", "schema:name", "ex:thing", "env:x", "fiware:Building",
    "type", "id", "createdAt", "observedAt", "unitCode", "value", "vocab", "description", "WaterObserved",
    "waterLevel", "refDevice", "category", "dateObserved", "Device", "controlledAsset", "Building",
    "https://example.org/abs", "urn:ngsi-ld:Thing:1", "sdm:temperature", "ngsi-ld:custom", "names", "n"};

const std::vector<std::string> kIris = {
    "https://smartdatamodels.org/name", "https://schema.org/name", "https://schema.org/address",
    "https://uri.etsi.org/ngsi-ld/default-context/temperature", "https://uri.etsi.org/ngsi-ld/default-context/name",
    "https://uri.etsi.org/ngsi-ld/location", "https://uri.etsi.org/ngsi-ld/createdAt",
    "https://uri.etsi.org/ngsi-ld/hasValue", "https://uri.etsi.org/ngsi-ld/hasObject",
    "https://smartdatamodels.org/dataModel.Environment/waterLevel", "https://smartdatamodels.org/temperature",
    "https://smartdatamodels.org/ref", "https://uri.fiware.org/ns/dataModels#Building", "http://example.org/other",
    "https://smartdatamodels.org/dataModel.Device/Device", "https://example.org/vocab#thing", "urn:x:y",
    "https://smartdatamodels.org/dateObserved", "@type", "https://smartdatamodels.org/x"};

std::string quoted(const std::string& s) {
  JsonDocument d;
  return toJsonString(jsonString(s, d.GetAllocator()));
}

std::string casesJson(const std::vector<Case>& cases) {
  std::string out = "{\"coreUrl\": " + quoted(std::string(kCoreContextUrl)) + ", \"documents\": {";
  bool first = true;
  for (const auto& [url, doc] : kDocuments) {
    out += (first ? "" : ",") + quoted(url) + ": " + doc;
    first = false;
  }
  auto list = [](const std::vector<std::string>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + quoted(v[i]);
    return s + "]";
  };
  out += "}, \"cases\": [";
  for (size_t i = 0; i < cases.size(); ++i) {
    out += std::string(i ? "," : "") + "{\"name\": " + quoted(cases[i].name) + ", \"context\": " + cases[i].context +
           ", \"terms\": " + list(kTerms) + ", \"iris\": " + list(kIris) + "}";
  }
  return out + "]}";
}

std::string runCommand(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[8192];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

TEST(JsonLdDifferentialTest, MatchesJsonLdJs) {
  const std::filesystem::path tools = ALLMENDE_TOOLS_DIR;
  if (std::system("node --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "node is not installed";
  if (!std::filesystem::exists(tools / "node_modules" / "jsonld")) {
    GTEST_SKIP() << "jsonld.js is not installed: run `npm install` in " << tools;
  }
  const std::vector<Case> cases = corpus();
  ASSERT_GE(cases.size(), 30u);
  const auto input = std::filesystem::temp_directory_path() / ("ld_diff_" + std::to_string(::getpid()) + ".json");
  std::ofstream(input) << casesJson(cases);
  std::string output = runCommand("node " + (tools / "jsonld_reference.js").string() + " " + input.string() + " " +
                                  ALLMENDE_CORE_CONTEXT_FILE);
  std::filesystem::remove(input);
  JsonDocument reference;
  ASSERT_TRUE(parseJson(output, reference).isOk() && reference.IsArray()) << "node output: " << output;
  ASSERT_EQ(reference.Size(), cases.size());

  DocumentSource fetch = [](const std::string& url) -> Result<std::string> {
    auto it = kDocuments.find(url);
    if (it == kDocuments.end()) return Status(ErrorType::kLdContextNotAvailable, url);
    return it->second;
  };
  int compared = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    const Json& ref = reference[static_cast<rapidjson::SizeType>(i)];
    JsonDocument value;
    ASSERT_TRUE(parseJson(c.context, value).isOk()) << c.name;
    auto ctx = processContext(value, fetch);
    if (const Json* err = findMember(ref, "error")) {
      EXPECT_FALSE(ctx.isOk()) << "case " << c.name << ": jsonld.js fails (" << asView(*err)
                               << ") but Allmende accepts @context " << c.context;
      continue;
    }
    ASSERT_TRUE(ctx.isOk()) << "case " << c.name << ": " << ctx.status().toString() << "\n@context " << c.context;
    for (const auto& m : findMember(ref, "expanded")->GetObject()) {
      std::string term(asView(m.name));
      std::string expected = m.value.IsNull() ? "" : std::string(asView(m.value));
      std::string actual = (*ctx)->expandTerm(term);
      EXPECT_EQ(actual, expected) << "case " << c.name << " expandTerm(" << term << ")\n@context " << c.context;
      ++compared;
    }
    for (const auto& m : findMember(ref, "compacted")->GetObject()) {
      std::string iri(asView(m.name));
      std::string actual = (*ctx)->compactIri(iri);
      EXPECT_EQ(actual, asView(m.value)) << "case " << c.name << " compactIri(" << iri << ")\n@context " << c.context;
      ++compared;
    }
  }
  std::printf("compared %d answers over %zu cases with jsonld.js\n", compared, cases.size());
}

}  // namespace
}  // namespace allmende::ld
