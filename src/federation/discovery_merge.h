// Merging of discovery answers from several context sources (NGSI-LD 5.7.5 - 5.7.10 with
// distributed operations, data types 5.2.24 - 5.2.28): EntityTypeList, EntityType,
// EntityTypeInfo, AttributeList and Attribute, each as the broker and its sources render them
// (compacted with the same @context, which the forwarded request carries). Pure JSON, no HTTP.
#pragma once

#include "common/json.h"

namespace allmende::federation {

// Merges `incoming` into `target`, two answers to the same discovery request:
// - lists of names (`typeList`, `attributeList`, `attributeNames`, `attributeTypes`,
//   `typeNames`): united, each name once, in the order first seen;
// - arrays of objects (the details=true answers, `attributeDetails`): one object per `id`
//   (the expanded type or attribute name), merged member by member with these rules;
// - counts (`entityCount`, `attributeCount`): added up -- each holder counts its own entities,
//   so an entity held by the broker and a source is counted by both;
// - any other member keeps `target`'s value, or is taken from `incoming` when `target` lacks it.
void mergeDiscovery(Json& target, const Json& incoming, JsonAllocator& a);

}  // namespace allmende::federation
