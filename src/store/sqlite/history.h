// The attribute history in the SQLite store: its schema and its writer. Private to store/sqlite.
//
// attr_instances is clustered by (tenant, hid, attr, ds, t, iid): one entity's attribute (and
// dataset) is one contiguous key range in time order, so a time range, lastN and the periods of
// an aggregation are index walks. Integers only in the key: tenant, attribute and datasetId are
// dictionary ids (ds 0 = the default instance), hid is the entity's history id
// (temporal_entities: stable across delete and re-create of the same id), t the instance's
// observedAt or else its recording time, iid the instance id. Numbers are in the REAL column
// `num`; `doc` holds the instance JSON only when it is more than a plain number
// (model/history.h).
//
// attr_rollups holds, per series and UTC hour of t, the count, sum, sum of squares, min and max
// of the observed (observedAt) non-deleted instances, kept up to date by every write; an
// aggregation reads whole hours from it and only the partial hours at the ends of a period from
// attr_instances, so its cost follows the number of hours, not of instances.
#pragma once

#include <sqlite3.h>

#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"
#include "model/history.h"
#include "store/sqlite/dictionary.h"
#include "store/sqlite/sqlite_handles.h"

namespace allmende::store::sqlite {

inline constexpr std::string_view kHistorySchema = R"sql(
CREATE TABLE IF NOT EXISTS temporal_entities (
  tenant  INTEGER NOT NULL,
  id      TEXT NOT NULL,
  hid     INTEGER NOT NULL,
  types   TEXT NOT NULL,      -- JSON array of type IRIs, the latest known
  deleted INTEGER,            -- when the entity was deleted (micros), NULL while it exists
  PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
-- No index on hid: it cost a B-tree insert per new entity, and only rare operations (delete of a
-- whole history, listing, the start) look entities up by it.
DROP INDEX IF EXISTS temporal_entities_by_hid;
CREATE TABLE IF NOT EXISTS attr_instances (
  tenant INTEGER NOT NULL,
  hid    INTEGER NOT NULL,
  attr   INTEGER NOT NULL,
  ds     INTEGER NOT NULL,    -- datasetId (terms id), 0 for the default instance
  t      INTEGER NOT NULL,    -- observedAt, else the recording time (micros)
  iid    INTEGER NOT NULL,    -- instance id, unique in the store
  rec    INTEGER,             -- recording time - t when the instance has observedAt, else NULL
  num    REAL,                -- numeric value (booleans 0/1)
  doc    TEXT,                -- the instance when more than a plain number
  mod    INTEGER,             -- modifiedAt when modified through the temporal API
  del    INTEGER,             -- 1 for a deletion (deletedAt = t)
  PRIMARY KEY (tenant, hid, attr, ds, t, iid)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS attr_rollups (
  tenant INTEGER NOT NULL,
  hid    INTEGER NOT NULL,
  attr   INTEGER NOT NULL,
  ds     INTEGER NOT NULL,
  hour   INTEGER NOT NULL,    -- t / kRollupMicros (floor)
  n      INTEGER NOT NULL,    -- instances
  nn     INTEGER NOT NULL,    -- instances with a numeric value
  sum    REAL NOT NULL,
  sumsq  REAL NOT NULL,
  min    REAL,
  max    REAL,
  PRIMARY KEY (tenant, hid, attr, ds, hour)
) WITHOUT ROWID;
)sql";

inline constexpr int64_t kRollupMicros = 3'600'000'000;  // one hour
inline int64_t rollupHour(int64_t t) { return t >= 0 ? t / kRollupMicros : (t - kRollupMicros + 1) / kRollupMicros; }

// Recomputes the rollup rows of the hours [fromHour, toHour) of one series (ds < 0: every
// dataset of the attribute; attr < 0: every attribute of the entity) from attr_instances.
Status rebuildRollups(sqlite3* db, int64_t tenant, int64_t hid, int64_t attr, int64_t ds, int64_t fromHour,
                      int64_t toHour);

// The writer half: runs on the writer thread inside the open transaction.
class HistoryWriter {
 public:
  // Prepares the statements on the writer connection (schema already created).
  Status open(sqlite3* writer);

  // Stores what one entity change left (model::diffHistory), interning attribute names and
  // datasetIds in `terms`. `created`: the change created the entity (see historyId).
  Status store(int64_t tenant, const model::HistoryChange& change, Dictionary& terms, bool created = false);

  // The history id of entity `id`, created (with `types`) when new; `types` "" keeps the known ones.
  // `likelyNew` (the entity was just created, so its history is new unless an entity of that id
  // existed before): the history row is inserted first and only looked up when it was there,
  // which saves a B-tree search per created entity.
  Result<int64_t> historyId(int64_t tenant, std::string_view id, std::string_view types, bool deleted, Micros deletedAt,
                            bool likelyNew = false);

  // Inserts one instance; returns its instance id.
  Result<int64_t> insert(int64_t tenant, int64_t hid, const model::HistoryInstance& h, Dictionary& terms);

  sqlite3* db() const { return db_; }

  // Drops what historyId() remembers. Called whenever a change it may have seen is undone (a
  // rollback) and before every temporal API task (which may delete history rows itself).
  void forget() { known_.clear(); }

 private:
  // What historyId() knows of an entity without looking it up: a sensor fleet updates the same
  // entities again and again, and the look-up was a B-tree search per stored change.
  struct Known {
    int64_t hid;
    bool deleted;
  };
  static constexpr size_t kMaxKnown = 65536;      // then forgotten all at once
  std::unordered_map<std::string, Known> known_;  // key: tenant (8 bytes) + entity id
  sqlite3* db_ = nullptr;
  Statement lookup_, create_, setTypes_, setDeleted_, insert_, rollup_;
  int64_t lastHid_ = 0;  // writer thread only
  int64_t lastIid_ = 0;  // writer thread only
};

}  // namespace allmende::store::sqlite
