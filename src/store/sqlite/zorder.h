// Z-order (Morton) keys for points, so that a plain B-tree indexes them: a box query becomes a
// few key ranges. Used by the SQLite store for Point geometries, which is what sensors have;
// other geometries go to the R*Tree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace allmende::store::sqlite {

// The key of a WGS84 position: 31 bits per axis (about 2 cm), interleaved; always >= 0.
int64_t zKey(double lon, double lat);

// Key ranges [first, last] whose union contains the keys of every point in the box (and
// possibly some outside it). At most `maxRanges` ranges, sorted, not overlapping.
std::vector<std::pair<int64_t, int64_t>> zRanges(double minLon, double minLat, double maxLon, double maxLat,
                                                 size_t maxRanges);

}  // namespace allmende::store::sqlite
