#include "store/sqlite/zorder.h"

#include <algorithm>
#include <cmath>

namespace allmende::store::sqlite {

namespace {

constexpr int kBits = 31;
constexpr uint64_t kCells = uint64_t{1} << kBits;

uint32_t quantize(double v, double min, double max) {
  double f = (v - min) / (max - min);
  f = std::clamp(f, 0.0, 1.0);
  uint64_t q = static_cast<uint64_t>(f * static_cast<double>(kCells));
  return static_cast<uint32_t>(std::min(q, kCells - 1));
}

// Spreads the low 31 bits of v to the even bit positions.
uint64_t spread(uint32_t v) {
  uint64_t x = v;
  x = (x | (x << 16)) & 0x0000FFFF0000FFFFull;
  x = (x | (x << 8)) & 0x00FF00FF00FF00FFull;
  x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0Full;
  x = (x | (x << 2)) & 0x3333333333333333ull;
  x = (x | (x << 1)) & 0x5555555555555555ull;
  return x;
}

int64_t interleave(uint32_t x, uint32_t y) { return static_cast<int64_t>(spread(x) | (spread(y) << 1)); }

struct Cell {
  uint32_t x0, y0;  // lower corner in grid units
  int level;        // side length 2^(kBits - level)
};

}  // namespace

int64_t zKey(double lon, double lat) { return interleave(quantize(lon, -180, 180), quantize(lat, -90, 90)); }

std::vector<std::pair<int64_t, int64_t>> zRanges(double minLon, double minLat, double maxLon, double maxLat,
                                                 size_t maxRanges) {
  const uint32_t qx0 = quantize(minLon, -180, 180), qx1 = quantize(maxLon, -180, 180);
  const uint32_t qy0 = quantize(minLat, -90, 90), qy1 = quantize(maxLat, -90, 90);
  auto rangeOf = [](const Cell& c) {
    uint64_t side = uint64_t{1} << (kBits - c.level);
    int64_t first = interleave(c.x0, c.y0);
    int64_t count = static_cast<int64_t>(side * side);
    return std::make_pair(first, first + count - 1);
  };
  auto inside = [&](const Cell& c) {
    uint64_t side = uint64_t{1} << (kBits - c.level);
    return c.x0 >= qx0 && c.x0 + side - 1 <= qx1 && c.y0 >= qy0 && c.y0 + side - 1 <= qy1;
  };
  auto overlaps = [&](const Cell& c) {
    uint64_t side = uint64_t{1} << (kBits - c.level);
    return c.x0 <= qx1 && c.x0 + side - 1 >= qx0 && c.y0 <= qy1 && c.y0 + side - 1 >= qy0;
  };
  // Breadth-first refinement of the cells overlapping the box until refining would exceed the
  // budget; cells are split into their four children, which keeps each a single key range.
  std::vector<Cell> frontier{{0, 0, 0}};
  std::vector<Cell> done;
  while (!frontier.empty()) {
    std::vector<Cell> next;
    for (const Cell& c : frontier) {
      if (inside(c) || c.level == kBits) {
        done.push_back(c);
        continue;
      }
      uint32_t half = static_cast<uint32_t>(uint64_t{1} << (kBits - c.level - 1));
      for (int k = 0; k < 4; ++k) {
        Cell child{c.x0 + ((k & 1) ? half : 0), c.y0 + ((k & 2) ? half : 0), c.level + 1};
        if (overlaps(child)) next.push_back(child);
      }
    }
    if (done.size() + next.size() > maxRanges) {
      // Out of budget: keep the current level's cells whole.
      done.insert(done.end(), frontier.begin(), frontier.end());
      frontier.clear();
      break;
    }
    frontier = std::move(next);
  }
  // Cells may repeat (an inside cell of the last level is also in the frontier): merge the
  // sorted ranges, joining overlapping and adjacent ones.
  std::vector<std::pair<int64_t, int64_t>> ranges;
  for (const Cell& c : done) ranges.push_back(rangeOf(c));
  std::sort(ranges.begin(), ranges.end());
  std::vector<std::pair<int64_t, int64_t>> merged;
  for (const auto& r : ranges) {
    if (!merged.empty() && r.first <= merged.back().second + 1) {
      merged.back().second = std::max(merged.back().second, r.second);
    } else {
      merged.push_back(r);
    }
  }
  return merged;
}

}  // namespace allmende::store::sqlite
