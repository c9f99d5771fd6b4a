// The web app's file store (api/web_assets.h): loading a built directory, media types, gzip,
// immutable hashed assets, and the Content-Security-Policy with a tile server.
#include "api/web_assets.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "api/open_http.h"

namespace allmende::api {
namespace {

namespace fs = std::filesystem;

class WebAssetsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("allmende-web-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_ / "assets");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name, std::ios::binary) << text; }

  fs::path dir_;
};

TEST_F(WebAssetsTest, LoadsEveryFileWithItsMediaTypeAndCaching) {
  write("index.html", "<!doctype html><title>x</title>");
  std::string js(4000, 'a');
  write("assets/citizen-abc123.js", js);
  write("assets/icon-1.png", std::string("\x89PNG", 4) + std::string(2000, '\0'));
  auto web = WebAssets::load({dir_.string()});
  ASSERT_TRUE(web.isOk()) << web.status().toString();
  EXPECT_EQ((*web)->fileCount(), 3u);
  const WebAsset* index = (*web)->find("index.html");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->mediaType, "text/html; charset=utf-8");
  EXPECT_FALSE(index->immutable);
  EXPECT_TRUE(index->gzipped.empty());  // too small to pay
  const WebAsset* script = (*web)->find("assets/citizen-abc123.js");
  ASSERT_NE(script, nullptr);
  EXPECT_EQ(script->mediaType, "text/javascript; charset=utf-8");
  EXPECT_TRUE(script->immutable);
  EXPECT_LT(script->gzipped.size(), js.size() / 10);
  EXPECT_EQ(script->etag, entityTag(js, script->mediaType));
  const WebAsset* png = (*web)->find("assets/icon-1.png");
  ASSERT_NE(png, nullptr);
  EXPECT_EQ(png->mediaType, "image/png");
  EXPECT_TRUE(png->gzipped.empty());  // not compressed again
  EXPECT_EQ((*web)->find("nothing.js"), nullptr);
  EXPECT_EQ((*web)->find("../index.html"), nullptr);
}

TEST_F(WebAssetsTest, AMissingDirectoryOrIndexIsAnError) {
  EXPECT_FALSE(WebAssets::load({(dir_ / "absent").string()}).isOk());
  EXPECT_FALSE(WebAssets::load({""}).isOk());
  write("assets/a.js", "x");
  auto web = WebAssets::load({dir_.string()});
  ASSERT_FALSE(web.isOk());
  EXPECT_NE(web.status().detail().find("index.html"), std::string::npos);
}

TEST_F(WebAssetsTest, ThePolicyAllowsOnlyThisOriginAndTheTileServer) {
  write("index.html", "x");
  auto plain = WebAssets::load({dir_.string()});
  ASSERT_TRUE(plain.isOk());
  const std::string& csp = (*plain)->contentSecurityPolicy();
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos);
  EXPECT_NE(csp.find("img-src 'self' data:;"), std::string::npos);
  EXPECT_EQ(csp.find("unsafe"), std::string::npos);
  WebOptions o{dir_.string()};
  o.tileUrl = "https://tiles.example.de:8443/wmts/{z}/{x}/{y}.png";
  auto tiles = WebAssets::load(o);
  ASSERT_TRUE(tiles.isOk());
  EXPECT_NE((*tiles)->contentSecurityPolicy().find("img-src 'self' data: https://tiles.example.de:8443;"),
            std::string::npos);
}

TEST_F(WebAssetsTest, OnlyTheConsolesPolicyAllowsTheIdentityProvider) {
  write("index.html", "x");
  fs::create_directories(dir_ / "console");
  write("console/index.html", "c");
  WebOptions o{dir_.string()};
  o.oidcIssuer = "https://login.example.de/realms/kommunen";
  o.oidcClientId = "allmende-console";
  auto web = WebAssets::load(o);
  ASSERT_TRUE(web.isOk());
  EXPECT_NE((*web)->consoleContentSecurityPolicy().find("connect-src 'self' https://login.example.de;"),
            std::string::npos);
  EXPECT_NE((*web)->contentSecurityPolicy().find("connect-src 'self';"), std::string::npos);
  EXPECT_TRUE((*web)->find("console/index.html")->consolePage);
  EXPECT_FALSE((*web)->find("index.html")->consolePage);
  // Without a client id the console signs in with keys only: its policy is the app's.
  o.oidcClientId.clear();
  auto keysOnly = WebAssets::load(o);
  ASSERT_TRUE(keysOnly.isOk());
  EXPECT_EQ((*keysOnly)->consoleContentSecurityPolicy(), (*keysOnly)->contentSecurityPolicy());
}

TEST(UrlOrigin, OfAnIssuer) {
  EXPECT_EQ(urlOrigin("https://login.example.de/realms/kommunen"), "https://login.example.de");
  EXPECT_EQ(urlOrigin("http://127.0.0.1:4000"), "http://127.0.0.1:4000");
  EXPECT_EQ(urlOrigin("https://{s}.example.de/x"), "");  // no placeholders
  EXPECT_EQ(urlOrigin("login.example.de"), "");
  EXPECT_EQ(urlOrigin("https://evil.example; script-src *"), "");
}

TEST(TileOrigin, FromATemplate) {
  EXPECT_EQ(tileOrigin("https://{s}.tile.example.org/{z}/{x}/{y}.png"), "https://*.tile.example.org");
  EXPECT_EQ(tileOrigin("http://localhost:8080/tiles/{z}/{x}/{y}.png"), "http://localhost:8080");
  EXPECT_EQ(tileOrigin("https://a.example"), "https://a.example");
  EXPECT_EQ(tileOrigin("/local/tiles/{z}/{x}/{y}.png"), "");        // same origin: 'self' covers it
  EXPECT_EQ(tileOrigin("javascript:alert(1)"), "");                 // no scheme we allow
  EXPECT_EQ(tileOrigin("https://evil.example; script-src *"), "");  // cannot inject a directive
  EXPECT_EQ(tileOrigin("https://{z}.example/{x}"), "");
}

}  // namespace
}  // namespace allmende::api
