// Pieces of open data (issue 11): RDF serialization and escaping, dataset definitions, HTTP dates
// and conditional answers. The syntax of whole catalogues is checked with rapper in
// tests/api/open_data_test.cc.
#include <gtest/gtest.h>
#include <zlib.h>

#include "api/open_catalog.h"
#include "api/open_dataset.h"
#include "api/open_http.h"
#include "api/rdf_graph.h"

namespace allmende::api {
namespace {

rdf::Prefixes prefixes() { return {{"ex", "http://example.org/"}}; }

TEST(RdfGraph, TurtleEscapesLiteralsAndAbbreviatesIris) {
  rdf::Graph g;
  g.add("http://example.org/s", rdf::kRdfType, rdf::iri("http://example.org/T"));
  g.add("http://example.org/s", "http://example.org/p", rdf::literal("a \"b\"\n\\c\x01", "de"));
  g.add("http://example.org/s", "http://example.org/q", rdf::iri("http://other.org/x y>"));
  g.add("http://example.org/s", "http://example.org/d", rdf::typed("1", "http://example.org/int"));
  EXPECT_EQ(rdf::toTurtle(g, prefixes()),
            "@prefix ex: <http://example.org/> .\n\n<http://example.org/s>\n    a ex:T ;\n"
            "    ex:p \"a \\\"b\\\"\\n\\\\c\\u0001\"@de ;\n    ex:q <http://other.org/x%20y%3E> ;\n"
            "    ex:d \"1\"^^ex:int .\n");
}

TEST(RdfGraph, RdfXmlEscapesMarkupAndDropsControlCharacters) {
  rdf::Graph g;
  g.add("http://example.org/s?a=1&b=2", "http://example.org/p", rdf::literal("<x> & \"y\"\x02", "en"));
  g.add("http://example.org/s?a=1&b=2", "http://example.org/r", rdf::iri("http://example.org/o"));
  g.add("http://example.org/s?a=1&b=2", "http://unknown.org/p", rdf::literal("skipped"));
  std::string xml = rdf::toRdfXml(g, prefixes());
  EXPECT_NE(xml.find("rdf:about=\"http://example.org/s?a=1&amp;b=2\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("<ex:p xml:lang=\"en\">&lt;x&gt; &amp; &quot;y&quot;</ex:p>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<ex:r rdf:resource=\"http://example.org/o\"/>"), std::string::npos) << xml;
  EXPECT_EQ(xml.find("skipped"), std::string::npos);
}

TEST(RdfGraph, JsonLdGroupsValuesByPredicate) {
  rdf::Graph g;
  g.add("http://example.org/s", rdf::kRdfType, rdf::iri("http://example.org/T"));
  g.add("http://example.org/s", "http://example.org/p", rdf::literal("x", "de"));
  g.add("http://example.org/s", "http://example.org/p", rdf::iri("http://example.org/o"));
  EXPECT_EQ(rdf::toJsonLd(g, prefixes()),
            R"({"@context":{"ex":"http://example.org/"},"@graph":[{"@id":"http://example.org/s","@type":["ex:T"],)"
            R"("ex:p":[{"@value":"x","@language":"de"},{"@id":"http://example.org/o"}]}]})");
}

Result<Dataset> parse(const std::string& id, const std::string& text) {
  JsonDocument doc;
  EXPECT_TRUE(parseJson(text, doc).isOk());
  return parseDataset(id, doc);
}

TEST(OpenDataset, ParsesAndWritesBackCanonically) {
  auto d = parse("p-1", R"({"title": {"de": "T"}, "description": {"de": "D", "en": "E"}, "types": ["ParkingSpot"],
                           "license": "cc-zero", "themes": ["TRAN"], "contactPoint": {"email": "a@b.de"}})");
  ASSERT_TRUE(d.isOk()) << d.status().toString();
  EXPECT_EQ(d->frequency, "UNKNOWN");
  EXPECT_STREQ(licenseIri(d->license), "http://dcat-ap.de/def/licenses/cc-zero");
  EXPECT_EQ(
      datasetJson(*d),
      R"({"title":{"de":"T"},"description":{"de":"D","en":"E"},"types":["ParkingSpot"],"keywords":[],)"
      R"("themes":["TRAN"],"license":"cc-zero","accrualPeriodicity":"UNKNOWN","contactPoint":{"email":"a@b.de"}})");
}

TEST(OpenDataset, RefusesBadDefinitions) {
  const std::string base = R"("description": {"de": "D"}, "types": ["T"], "license": "cc-zero")";
  EXPECT_FALSE(parse("x", "{" + base + "}").isOk());                                      // no title
  EXPECT_FALSE(parse("x", R"({"title": {"en": "T"}, )" + base + "}").isOk());             // no German title
  EXPECT_FALSE(parse("x", R"({"title": {"fr": "T", "de": "T"}, )" + base + "}").isOk());  // unknown language
  EXPECT_FALSE(
      parse("x", R"({"title": {"de": "T"}, "types": [], "description": {"de": "D"}, "license": "cc-zero"})").isOk());
  EXPECT_FALSE(
      parse("x", R"({"title": {"de": "T"}, "types": ["a b"], "description": {"de": "D"}, "license": "cc-zero"})")
          .isOk());
  EXPECT_FALSE(
      parse("x", R"({"title": {"de": "T"}, "area": {"type": "Point", "coordinates": [1, 2]}, )" + base + "}").isOk());
  EXPECT_FALSE(parse("x", R"({"title": {"de": "T"}, "publisher": {"url": "ftp://x"}, )" + base + "}").isOk());
  EXPECT_FALSE(parse("a/b", R"({"title": {"de": "T"}, )" + base + "}").isOk());
  EXPECT_TRUE(parse("ok_id-2", R"({"title": {"de": "T"}, )" + base + "}").isOk());
}

TEST(OpenHttp, HttpDatesRoundTrip) {
  Micros t = 784111777LL * 1000000;  // RFC 9110's example date
  EXPECT_EQ(formatHttpDate(t), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), t);
  EXPECT_FALSE(parseHttpDate("yesterday").has_value());
}

TEST(OpenHttp, ConditionalAnswers) {
  http::Request req;
  http::Response r = conditionalResponse(req, "body", "text/plain", 784111777LL * 1000000);
  EXPECT_EQ(r.status, 200);
  std::string tag;
  for (const auto& [k, v] : r.headers) {
    if (k == "ETag") tag = v;
  }
  ASSERT_EQ(tag, entityTag("body", "text/plain"));
  EXPECT_NE(entityTag("body", "text/csv"), tag);
  req.headers.emplace_back("if-none-match", tag);
  EXPECT_EQ(conditionalResponse(req, "body", "text/plain", 0).status, 304);
  EXPECT_EQ(conditionalResponse(req, "other", "text/plain", 0).status, 200);
  http::Request since;
  since.headers.emplace_back("if-modified-since", "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(conditionalResponse(since, "b", "text/plain", 784111777LL * 1000000 + 500000).status, 304);
  EXPECT_EQ(conditionalResponse(since, "b", "text/plain", 784111778LL * 1000000).status, 200);
}

// Pieces of text, some empty, then the end.
class Pieces : public http::BodySource {
 public:
  explicit Pieces(std::vector<std::string> pieces) : pieces_(std::move(pieces)) {}
  Step next(std::string& out) override {
    if (i_ == pieces_.size()) return Step::kEnd;
    out += pieces_[i_++];
    return Step::kMore;
  }

 private:
  std::vector<std::string> pieces_;
  size_t i_ = 0;
};

TEST(OpenHttp, GzipStreamIsTheGzipOfItsPieces) {
  std::vector<std::string> pieces;
  std::string plain;
  for (int i = 0; i < 3000; ++i) {
    pieces.push_back(i % 7 == 0 ? "" : "row " + std::to_string(i * 7919 % 1000) + ",x\r\n");
    plain += pieces.back();
  }
  auto z = gzipStream(std::make_shared<Pieces>(pieces));
  std::string compressed;
  http::BodySource::Step step;
  while ((step = z->next(compressed)) == http::BodySource::Step::kMore) {
  }
  ASSERT_EQ(step, http::BodySource::Step::kEnd);
  z_stream in{};
  ASSERT_EQ(inflateInit2(&in, 15 + 16), Z_OK);
  std::string out(plain.size() + 16, '\0');
  in.next_in = reinterpret_cast<Bytef*>(compressed.data());
  in.avail_in = static_cast<uInt>(compressed.size());
  in.next_out = reinterpret_cast<Bytef*>(out.data());
  in.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&in, Z_FINISH), Z_STREAM_END);
  out.resize(in.total_out);
  inflateEnd(&in);
  EXPECT_EQ(out, plain);
  // An empty stream is a valid empty gzip.
  std::string empty;
  EXPECT_EQ(gzipStream(std::make_shared<Pieces>(std::vector<std::string>{}))->next(empty),
            http::BodySource::Step::kEnd);
  EXPECT_EQ(gzip(""), empty);
}

TEST(OpenHttp, StreamedAnswersValidateBeforeTheBody) {
  http::Request req;
  auto body = std::make_shared<Pieces>(std::vector<std::string>{"a"});
  http::Response r = streamedResponse(req, body, "text/csv", "\"t1\"", 784111777LL * 1000000);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.stream, body);
  EXPECT_TRUE(r.body.empty());
  req.headers = {{"if-none-match", "\"t1\""}};
  r = streamedResponse(req, body, "text/csv", "\"t1\"", 0);
  EXPECT_EQ(r.status, 304);
  EXPECT_EQ(r.stream, nullptr);
  req.headers = {{"accept-encoding", "gzip"}, {"if-none-match", "\"t1\""}};
  EXPECT_EQ(streamedResponse(req, body, "text/csv", "\"t1\"", 0).status, 304);
  req.headers = {{"accept-encoding", "gzip"}};
  r = streamedResponse(req, body, "text/csv", "\"t1\"", 0);
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.stream, body);  // wrapped
  bool gz = false, tag = false;
  for (const auto& [k, v] : r.headers) {
    gz = gz || (k == "Content-Encoding" && v == "gzip");
    tag = tag || (k == "ETag" && v == "\"t1-gz\"");
  }
  EXPECT_TRUE(gz);
  EXPECT_TRUE(tag);
  EXPECT_NE(entityTag(uint64_t{1}, "text/csv"), entityTag(uint64_t{2}, "text/csv"));
  EXPECT_NE(entityTag(uint64_t{1}, "text/csv"), entityTag(uint64_t{1}, "application/json"));
}

TEST(OpenCatalog, HistoryMonthsListedFromRegistrationAtMostTwelve) {
  const Micros jan2026 = 1767225600LL * 1000000;            // 2026-01-01T00:00:00Z
  const Micros mar2026 = jan2026 + 59LL * 86400 * 1000000;  // 2026-03-01
  EXPECT_EQ(historyMonths(jan2026, mar2026), (std::vector<std::string>{"2026-03", "2026-02", "2026-01"}));
  EXPECT_EQ(historyMonths(mar2026, mar2026), (std::vector<std::string>{"2026-03"}));
  auto longAgo = historyMonths(0, mar2026);
  ASSERT_EQ(longAgo.size(), 12u);
  EXPECT_EQ(longAgo.back(), "2025-04");
}

}  // namespace
}  // namespace allmende::api
