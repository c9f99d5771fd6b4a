// The mutation rules of NGSI-LD (clause 5.6): each function takes the entity's current state in
// the internal form (nullptr when it does not exist) and input already expanded by model/expand.h,
// and returns the complete new state, or the error the spec prescribes. Pure functions: they run
// on the store's writer thread inside the transaction.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/json.h"
#include "common/status.h"
#include "common/time.h"

namespace allmende::model {

// Which attributes of a fragment were applied, and why the others were not (NGSI-LD 5.2.18
// UpdateResult).
struct AttributeReport {
  std::vector<std::string> updated;                           // expanded names
  std::vector<std::pair<std::string, std::string>> notUpdated;  // expanded name, reason
};

// 5.6.1 Create Entity: AlreadyExists if `current` exists.
Result<JsonDocument> createEntity(const Json* current, const Json& entity, Micros now);
// 5.6.18 Replace Entity: ResourceNotFound if it does not exist; createdAt kept.
Result<JsonDocument> replaceEntity(const Json* current, const Json& entity, Micros now);
// 5.6.8 Batch upsert: create, or replace (default) / update attributes (`updateMode`).
Result<JsonDocument> upsertEntity(const Json* current, const Json& entity, Micros now, bool updateMode);
// 5.6.17 Merge Entity: attributes added or merged into the existing ones; an attribute or
// sub-attribute whose value is "urn:ngsi-ld:null" is removed.
Result<JsonDocument> mergeEntity(const Json* current, const Json& fragment, Micros now);
// 5.6.3 Append Entity Attributes: with noOverwrite, existing instances are kept and reported.
Result<JsonDocument> appendAttributes(const Json* current, const Json& fragment, Micros now, bool noOverwrite,
                                      AttributeReport* report);
// 5.6.2 Update Entity Attributes: only existing attribute instances are replaced; the others are
// reported as not updated.
Result<JsonDocument> updateAttributes(const Json* current, const Json& fragment, Micros now, AttributeReport* report);
// 5.6.4 Partial Attribute Update: `instances` (one instance, from expandAttributeBody) is merged
// into the existing instance with the same datasetId of `attr`.
Result<JsonDocument> partialAttributeUpdate(const Json* current, const std::string& attr, const Json& instances,
                                            Micros now);
// 5.6.19 Replace Attribute: the instance with the same datasetId is replaced.
Result<JsonDocument> replaceAttribute(const Json* current, const std::string& attr, const Json& instances,
                                      Micros now);
// 5.6.5 Delete Entity Attribute: the instance with `datasetId` ("" = default), or all instances.
Result<JsonDocument> deleteAttribute(const Json* current, const std::string& attr, std::string_view datasetId,
                                     bool deleteAll, Micros now);

}  // namespace allmende::model
