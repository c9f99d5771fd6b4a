// What one entity contributes to the SQLite store's secondary indexes. Computed for the state
// before and after a write, so that only changed index rows are touched.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/json.h"
#include "geo/geometry.h"
#include "store/store.h"

namespace allmende::store::sqlite {

struct IndexEntries {
  std::vector<std::string> types;  // expanded entity types

  struct Geo {
    std::string attr;
    geo::BoundingBox box;
    bool point;  // a Point: indexed in geo_points at box.minX, box.minY
    bool operator==(const Geo& o) const;
  };
  std::vector<Geo> geo;  // GeoProperty instances, in document order

  // (attribute, scalar) pairs for the attribute value index, sorted and unique.
  std::vector<std::pair<std::string, IndexValue>> values;
};

// The index entries of an entity in the internal form.
IndexEntries indexEntriesOf(const Json& entity);

}  // namespace allmende::store::sqlite
