// The temporal evolution of attributes (NGSI-LD 4.5.7, 5.6.11 - 5.6.16): which attribute
// instances a change of an entity leaves in its history. Pure functions of the states before and
// after the change, so the store can work them out on any thread and store them with the change.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/time.h"

namespace allmende::model {

// One attribute instance of the history, in the compact form the store keeps.
struct HistoryInstance {
  std::string attr;                  // expanded attribute name
  std::string datasetId;             // "" = the default instance
  std::optional<Micros> observedAt;  // the instance's observedAt, if it has one
  Micros recordedAt = 0;             // when it was written (its modifiedAt); for a deletion, deletedAt
  // The value as a number, for aggregation: a Property's numeric value, or a boolean as 0 / 1.
  std::optional<double> number;
  // The instance as JSON in the internal form without observedAt, createdAt, modifiedAt and
  // datasetId (kept above); "" for a Property whose value is a plain number and that has nothing
  // else (value and type are then implied by `number`).
  std::string doc;
  bool deleted = false;  // a deletion (NGSI-LD 4.5.7: deletedAt); doc holds only the kind
};

// What one change of an entity leaves in the history.
struct HistoryChange {
  std::string entityId;
  std::string types;  // JSON array of the type IRIs when new or changed, else ""
  bool entityDeleted = false;
  std::vector<HistoryInstance> instances;
};

// The history of the change of one entity from `before` to `after` (internal form; either may be
// null, `after` is null when the entity is deleted). An instance of `after` that is new or differs
// from its counterpart (same attribute and datasetId) in `before` becomes a written instance; an
// instance of `before` with no counterpart in `after` becomes a deletion at `after`'s modifiedAt,
// or at `deletedAt` when the whole entity is deleted. Nothing when both are null.
void diffHistory(const Json* before, const Json* after, Micros deletedAt, HistoryChange& out);

// The compact form of one instance (exposed for tests and the temporal write operations).
// `attr` and the timestamps are taken from the instance; fails never, members it does not know
// stay in `doc`.
HistoryInstance historyInstanceOf(const std::string& attr, const Json& instance);

// A stored number as JSON: an integer when it is whole, else a double.
Json numberJson(double v);

// The instance in the internal form again (observedAt, datasetId, createdAt = modifiedAt =
// recordedAt, deletedAt for deletions; no instanceId).
void instanceJson(const HistoryInstance& h, JsonDocument& out);

}  // namespace allmende::model
