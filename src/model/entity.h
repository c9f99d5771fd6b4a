// Vocabulary of the internal entity form (docs/architecture.md) shared by the model functions.
#pragma once

#include <string_view>

#include "common/json.h"

namespace allmende::model {

// Attribute kinds (NGSI-LD 4.5 / 5.2).
inline constexpr std::string_view kProperty = "Property";
inline constexpr std::string_view kRelationship = "Relationship";
inline constexpr std::string_view kGeoProperty = "GeoProperty";
inline constexpr std::string_view kLanguageProperty = "LanguageProperty";
inline constexpr std::string_view kVocabProperty = "VocabProperty";
inline constexpr std::string_view kListProperty = "ListProperty";
inline constexpr std::string_view kListRelationship = "ListRelationship";
inline constexpr std::string_view kJsonProperty = "JsonProperty";

// The member holding an attribute's value for its kind ("value", "object", ...); "" if the kind
// is unknown.
std::string_view valueMemberOf(std::string_view kind);
// True for the members of an attribute instance that are not sub-attributes (type, value,
// observedAt, datasetId, createdAt, ...).
bool isCoreInstanceMember(std::string_view name);

// NGSI-LD 4.6.2: the characters an attribute or type name may not contain.
bool isValidName(std::string_view name);
// A URI as NGSI-LD requires for entity ids and datasetIds: a scheme followed by ':'.
bool isUri(std::string_view s);

// The "attrs" object of an entity in the internal form (created if missing).
Json& attrsOf(JsonDocument& entity);
const Json* attrsOf(const Json& entity);

// The instance of `attr` (an array of instances) with that datasetId ("" = default instance),
// or nullptr.
const Json* findInstance(const Json& attr, std::string_view datasetId);
Json* findInstance(Json& attr, std::string_view datasetId);
std::string_view datasetIdOf(const Json& instance);

}  // namespace allmende::model
