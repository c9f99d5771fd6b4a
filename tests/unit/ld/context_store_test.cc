#include "ld/context_store.h"

#include <gtest/gtest.h>


#include "fake_loader.h"

namespace allmende::ld {
namespace {

class FakeClock : public Clock {
 public:
  Micros now() const override { return t; }
  Micros t = 1'000'000'000'000'000;
};

class ContextStoreTest : public ::testing::Test {
 protected:
  ContextStoreTest() {
    auto l = std::make_unique<testing::FakeLoader>();
    loader = l.get();
    loader->put("http://ctx/a", R"({"@context": {"a": "http://a.example/a"}})");
    ContextStore::Options o;
    o.baseUrl = "http://broker:1026";
    o.remoteTtl = 60'000'000;
    o.clock = &clock;
    store = std::make_unique<ContextStore>(o, std::move(l));
  }
  FakeClock clock;
  testing::FakeLoader* loader;
  std::unique_ptr<ContextStore> store;
};

TEST_F(ContextStoreTest, ProcessedAndRemoteCacheWithTtl) {
  auto c1 = store->resolveUrl("http://ctx/a");
  ASSERT_TRUE(c1.isOk());
  auto c2 = store->resolveUrl("http://ctx/a");
  ASSERT_TRUE(c2.isOk());
  EXPECT_EQ(c1->get(), c2->get());
  EXPECT_EQ(loader->calls, 1);
  EXPECT_EQ((*c1)->expandTerm("a"), "http://a.example/a");
  clock.t += 61'000'000;  // past the TTL: fetched again
  ASSERT_TRUE(store->resolveUrl("http://ctx/a").isOk());
  EXPECT_EQ(loader->calls, 2);
  auto cached = store->list(ContextKind::kCached);
  ASSERT_EQ(cached.size(), 1u);
  EXPECT_EQ(cached[0].url, "http://ctx/a");
  EXPECT_GE(cached[0].numberOfHits, 3u);
}

TEST_F(ContextStoreTest, FailureIsNotCached) {
  auto r = store->resolveUrl("http://ctx/missing");
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().type(), ErrorType::kLdContextNotAvailable);
  loader->put("http://ctx/missing", R"({"@context": {}})");
  EXPECT_TRUE(store->resolveUrl("http://ctx/missing").isOk());
}

TEST_F(ContextStoreTest, NullIsCoreAndCoreUrlNeverFetched) {
  JsonDocument doc;
  doc.SetNull();
  auto c = store->resolve(doc);
  ASSERT_TRUE(c.isOk());
  EXPECT_EQ(c->get(), store->core().get());
  ASSERT_TRUE(store->resolveUrl("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld").isOk());
  EXPECT_EQ(loader->calls, 0);
}

TEST_F(ContextStoreTest, HostedContextLifecycle) {
  JsonDocument body;
  ASSERT_TRUE(parseJson(R"({"@context": {"h": "http://hosted.example/h"}})", body).isOk());
  auto info = store->add(body);
  ASSERT_TRUE(info.isOk()) << info.status().toString();
  EXPECT_EQ(info->url, "http://broker:1026/ngsi-ld/v1/jsonldContexts/" + info->localId);
  EXPECT_EQ(info->kind, ContextKind::kHosted);
  auto c = store->resolveUrl(info->url);
  ASSERT_TRUE(c.isOk());
  EXPECT_EQ((*c)->expandTerm("h"), "http://hosted.example/h");
  EXPECT_EQ(loader->calls, 0);  // looked up locally
  auto got = store->get(info->localId);
  ASSERT_TRUE(got.isOk());
  EXPECT_EQ(got->body, R"({"@context":{"h":"http://hosted.example/h"}})");
  EXPECT_GE(got->numberOfHits, 1u);
  EXPECT_FALSE(store->remove(info->localId, /*reload=*/true).isOk());
  EXPECT_TRUE(store->remove(info->localId).isOk());
  EXPECT_EQ(store->get(info->localId).status().type(), ErrorType::kResourceNotFound);
  auto gone = store->resolveUrl(info->url);
  ASSERT_FALSE(gone.isOk());
  EXPECT_EQ(gone.status().type(), ErrorType::kLdContextNotAvailable);
  EXPECT_EQ(store->remove("nope").type(), ErrorType::kResourceNotFound);
}

TEST_F(ContextStoreTest, AddRejectsMalformed) {
  JsonDocument body;
  ASSERT_TRUE(parseJson(R"({"context": {}})", body).isOk());
  EXPECT_EQ(store->add(body).status().type(), ErrorType::kBadRequestData);
  ASSERT_TRUE(parseJson(R"({"@context": {"a": 1}})", body).isOk());
  EXPECT_EQ(store->add(body).status().type(), ErrorType::kBadRequestData);
}

TEST_F(ContextStoreTest, ReloadCached) {
  ASSERT_TRUE(store->resolveUrl("http://ctx/a").isOk());
  auto cached = store->list(ContextKind::kCached);
  ASSERT_EQ(cached.size(), 1u);
  loader->put("http://ctx/a", R"({"@context": {"a": "http://a.example/v2"}})");
  ASSERT_TRUE(store->remove(cached[0].localId, /*reload=*/true).isOk());
  EXPECT_EQ(loader->calls, 2);
  EXPECT_EQ((*store->resolveUrl("http://ctx/a"))->expandTerm("a"), "http://a.example/v2");
}

// A repeated @context (the same URLs and inline terms) is answered from the cache: the same
// processed context, without fetching again. (Its cost is measured by make bench, not here.)
TEST_F(ContextStoreTest, RepeatedContextsComeFromTheCache) {
  JsonDocument v;
  ASSERT_TRUE(parseJson(R"(["http://ctx/a", {"sdm": "https://smartdatamodels.org/"}])", v).isOk());
  auto first = store->resolve(v);
  ASSERT_TRUE(first.isOk());
  const int calls = loader->calls;
  for (int i = 0; i < 100; ++i) {
    auto again = store->resolve(v);
    ASSERT_TRUE(again.isOk());
    EXPECT_EQ(again->get(), first->get());
  }
  EXPECT_EQ(loader->calls, calls);
}

}  // namespace
}  // namespace allmende::ld
