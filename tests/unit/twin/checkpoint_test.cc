// Checkpoints of flood runs (twin/checkpoint.h): a run stopped with a checkpoint (suspend) or
// restarted from a periodic one ends with the same results bit for bit as an uninterrupted run;
// the solver's state round-trips in float and double; checkpoints of another run or damaged
// files are refused.
#include "twin/checkpoint.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "twin/crs.h"
#include "twin/flood_run.h"
#include "twin/raster_io.h"

namespace allmende::twin {
namespace {

namespace fs = std::filesystem;

class Checkpoints : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name) c = c == '/' ? '_' : c;
    dir_ = fs::temp_directory_path() / ("checkpoint_test_" + std::to_string(::getpid()) + "_" + name);
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "in");
    // 40 x 30 cells of 2 m: a valley falling east, free edges, a blocked house, a gauge.
    Raster dem(40, 30, 2);
    dem.originX = 650000;
    dem.originY = 5420000;
    dem.crsWkt = crsWkt("EPSG:25832").value();
    for (int j = 0; j < 30; ++j)
      for (int i = 0; i < 40; ++i) dem.at(i, j) = 10 + 0.1 * std::abs(j - 15) + 0.02 * (40 - i);
    ASSERT_TRUE(writeGeoTiff((dir_ / "in" / "dem.tif").string(), dem).isOk());
    std::ofstream(dir_ / "in" / "buildings.geojson")
        << R"({"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:25832"}},"features":[)"
           R"({"type":"Feature","id":"h","geometry":{"type":"Polygon","coordinates":)"
           R"([[[650040,5419980],[650048,5419980],[650048,5419988],[650040,5419988],[650040,5419980]]]}}]})";
  }
  void TearDown() override { fs::remove_all(dir_); }

  ScenarioSpec spec(const std::string& rain = "blocks:5:60,120,30") {
    JsonDocument d;
    std::string json =
        R"({"rain":")" + rain + R"(","durationSeconds":1500,"boundary":"free","precision":")" + GetParam() +
        R"(","infiltrationMmPerHour":3,"initialLossMm":1,"gaugeIntervalSeconds":100,)"
        R"("gauges":{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:25832"}},)"
        R"("features":[{"type":"Feature","id":"g","geometry":{"type":"Point","coordinates":[650061,5419969]}}]}})";
    EXPECT_TRUE(parseJson(json, d).isOk());
    auto s = parseScenarioSpec(d);
    EXPECT_TRUE(s.isOk()) << s.status().detail();
    return *s;
  }

  static void expectSame(const RunOutcome& a, const RunOutcome& b, const fs::path& da, const fs::path& db) {
    EXPECT_TRUE(a.completed && b.completed);
    EXPECT_EQ(a.summary.steps, b.summary.steps);
    EXPECT_EQ(a.summary.maxDepth, b.summary.maxDepth);
    EXPECT_EQ(a.summary.balance.rain, b.summary.balance.rain);
    EXPECT_EQ(a.summary.balance.outflow, b.summary.balance.outflow);
    EXPECT_EQ(a.summary.balance.losses, b.summary.balance.losses);
    EXPECT_EQ(a.summary.balance.stored, b.summary.balance.stored);
    ASSERT_EQ(a.gauges.size(), 1u);
    EXPECT_EQ(a.gauges[0].samples, b.gauges[0].samples);
    ASSERT_EQ(a.buildings.size(), 1u);
    EXPECT_EQ(a.buildings[0].maxDepth, b.buildings[0].maxDepth);
    for (const char* f : {"max_depth.tif", "max_velocity.tif", "time_to_10cm.tif"}) {
      auto x = readRaster((da / f).string());
      auto y = readRaster((db / f).string());
      ASSERT_TRUE(x.isOk() && y.isOk());
      EXPECT_EQ(x->v, y->v) << f;
    }
  }

  fs::path dir_;
};

INSTANTIATE_TEST_SUITE_P(Precisions, Checkpoints, ::testing::Values("double", "float"));

// Suspended mid-segment (as the server does when it stops), then resumed: the same run.
TEST_P(Checkpoints, SuspendedRunResumesToTheSameResults) {
  auto whole = runFlood(spec(), (dir_ / "in").string(), (dir_ / "whole").string(), {});
  ASSERT_TRUE(whole.isOk()) << whole.status().detail();
  ASSERT_GT(whole->summary.maxDepth, 0.05);

  std::atomic<bool> stop{false};
  FloodRunOptions o;
  o.checkpointPath = (dir_ / "checkpoint.bin").string();
  o.cancel = &stop;
  o.suspend = &stop;
  o.progress = [&stop](const Progress& p) {
    if (p.time > 730) stop = true;  // between two gauge samples
  };
  auto first = runFlood(spec(), (dir_ / "in").string(), (dir_ / "resumed").string(), o);
  ASSERT_TRUE(first.isOk()) << first.status().detail();
  EXPECT_FALSE(first->completed);
  EXPECT_TRUE(first->suspended);
  EXPECT_TRUE(fs::exists(o.checkpointPath));
  EXPECT_FALSE(fs::exists(dir_ / "resumed" / "max_depth.tif"));

  stop = false;
  o.progress = {};
  auto second = runFlood(spec(), (dir_ / "in").string(), (dir_ / "resumed").string(), o);
  ASSERT_TRUE(second.isOk()) << second.status().detail();
  EXPECT_GT(second->resumedFrom, 730);  // where it stopped: mid-segment or at the sample at 800 s
  EXPECT_LE(second->resumedFrom, 800 + 1e-6);
  expectSame(*whole, *second, dir_ / "whole", dir_ / "resumed");
  EXPECT_FALSE(fs::exists(o.checkpointPath));  // deleted once the run completed
}

// Periodic checkpoints (every 300 s of simulated time, at a gauge sample): a copy of the first
// one, taken while the run went on, resumes to the same results; the run itself is unchanged
// by writing them.
TEST_P(Checkpoints, PeriodicCheckpointResumesToTheSameResults) {
  auto whole = runFlood(spec(), (dir_ / "in").string(), (dir_ / "whole").string(), {});
  ASSERT_TRUE(whole.isOk());
  FloodRunOptions o;
  o.checkpointPath = (dir_ / "checkpoint.bin").string();
  o.checkpointSeconds = 300;
  std::vector<double> times;
  o.checkpointed = [&](double t) {
    times.push_back(t);
    if (times.size() == 2 && !fs::exists(dir_ / "second.bin")) fs::copy_file(o.checkpointPath, dir_ / "second.bin");
  };
  auto withCheckpoints = runFlood(spec(), (dir_ / "in").string(), (dir_ / "periodic").string(), o);
  ASSERT_TRUE(withCheckpoints.isOk());
  EXPECT_EQ(times, (std::vector<double>{300, 600, 900, 1200}));  // not at the end
  expectSame(*whole, *withCheckpoints, dir_ / "whole", dir_ / "periodic");

  fs::copy_file(dir_ / "second.bin", o.checkpointPath);
  times.clear();
  auto resumed = runFlood(spec(), (dir_ / "in").string(), (dir_ / "resumed").string(), o);
  ASSERT_TRUE(resumed.isOk()) << resumed.status().detail();
  EXPECT_NEAR(resumed->resumedFrom, 600, 1e-6);
  EXPECT_EQ(times, (std::vector<double>{900, 1200}));
  expectSame(*whole, *resumed, dir_ / "whole", dir_ / "resumed");
}

TEST_P(Checkpoints, ForeignAndDamagedCheckpointsAreRefused) {
  FloodRunOptions o;
  o.checkpointPath = (dir_ / "checkpoint.bin").string();
  o.checkpointSeconds = 300;
  o.checkpointed = [&](double t) {
    if (t == 300) fs::copy_file(o.checkpointPath, dir_ / "kept.bin");
  };
  ASSERT_TRUE(runFlood(spec(), (dir_ / "in").string(), (dir_ / "a").string(), o).isOk());
  o.checkpointed = {};
  // Another rain: another run.
  fs::copy_file(dir_ / "kept.bin", o.checkpointPath);
  auto other = runFlood(spec("uniform:50:20"), (dir_ / "in").string(), (dir_ / "b").string(), o);
  ASSERT_FALSE(other.isOk());
  EXPECT_NE(other.status().detail().find("another run"), std::string::npos) << other.status().detail();
  // A torn file (the tail missing) and a flipped byte.
  std::string bytes;
  {
    std::ifstream in(dir_ / "kept.bin", std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::ofstream(o.checkpointPath, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() / 2);
  auto torn = runFlood(spec(), (dir_ / "in").string(), (dir_ / "c").string(), o);
  ASSERT_FALSE(torn.isOk());
  EXPECT_NE(torn.status().detail().find("damaged"), std::string::npos) << torn.status().detail();
  bytes[bytes.size() / 2] ^= 1;
  std::ofstream(o.checkpointPath, std::ios::binary | std::ios::trunc) << bytes;
  EXPECT_FALSE(runFlood(spec(), (dir_ / "in").string(), (dir_ / "d").string(), o).isOk());
}

}  // namespace
}  // namespace allmende::twin
