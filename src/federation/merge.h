// Merging of entities received from several context sources (NGSI-LD 4.3.6.x, 5.7.1.4,
// 5.7.2.4): entities with the same id become one; their attributes are united, and where two
// sources hold the same attribute instance (same attribute, same datasetId) one is kept by the
// registration mode's precedence, then by the most recent observedAt, then modifiedAt. Pure: works
// on entities in the internal form (docs/architecture.md), knows no HTTP.
#pragma once

#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/json.h"

namespace allmende::federation {

// Which data wins when two sources hold the same attribute instance (NGSI-LD 4.3.6.2 - 4.3.6.4:
// an exclusive registration's data is authoritative, auxiliary data is used only when nothing
// else has it; the broker's own data counts as inclusive).
enum class Precedence : int { kAuxiliary = 0, kInclusive = 1, kRedirect = 2, kExclusive = 3 };

class EntityMerger {
 public:
  // Adds one source's entities (internal form, consumed). An entity whose id was seen before is
  // merged into the first one; a new id keeps its place in the order of arrival.
  void add(std::vector<JsonDocument> entities, Precedence precedence);
  size_t size() const { return slots_.size(); }
  // The merged entities in order of first arrival; the merger is empty afterwards.
  std::vector<JsonDocument> take();

 private:
  struct Slot {
    JsonDocument entity;
    std::map<std::pair<std::string, std::string>, Precedence> from;  // (attr, datasetId) -> its source
  };
  void mergeInto(Slot& slot, JsonDocument& incoming, Precedence precedence);
  std::vector<Slot> slots_;
  std::unordered_map<std::string, size_t> byId_;
};

// Whether `candidate` replaces `current`, two instances of one attribute and datasetId from
// sources of equal precedence: the later observedAt, else the later modifiedAt; a tie keeps
// `current`.
bool newerInstance(const Json& candidate, const Json& current);

// Merges one temporal entity as a source sent it (compacted with the request's @context, NGSI-LD
// 4.5.7 - 4.5.9) into `target` of the same id: types united; per attribute, the instance arrays
// (normalized), the `values` lists (temporalValues) or the aggregated lists are concatenated.
void mergeTemporalEntity(Json& target, const Json& incoming, JsonAllocator& a);

// Copies createdAt / modifiedAt of the entity and its attribute instances from `received` (as a
// source sent it, compacted) into `expanded` (the same entity in the internal form; expansion
// drops system attributes), matching attributes by `expandName` and instances by datasetId.
template <typename ExpandName>
void restoreSystemTimes(const Json& received, JsonDocument& expanded, ExpandName expandName);

}  // namespace allmende::federation

#include "federation/merge_inl.h"
