// From the internal entity form to the representations of NGSI-LD 4.5: normalized, concise and
// simplified (keyValues), optionally as GeoJSON (4.5.16), with terms compacted by the response's
// @context, projection (pick/omit/attrs), sysAttrs and lang (4.15).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "common/json.h"

#include "common/json.h"
#include "ld/context.h"

namespace allmende::model {

enum class Format { kNormalized, kConcise, kKeyValues };

// Which members of an entity are shown: attribute IRIs, and the short names "id" and "type".
struct Projection {
  std::optional<std::unordered_set<std::string>> pick;  // nullopt = everything
  std::unordered_set<std::string> omit;
  bool shows(const std::string& member) const {
    return (!pick || pick->count(member)) && !omit.count(member);
  }
};

struct RenderOptions {
  Format format = Format::kNormalized;
  bool sysAttrs = false;  // createdAt / modifiedAt of entity and attributes
  Projection projection;
  std::string lang;  // LanguageProperty: "" or "*" = the whole languageMap
  // When non-empty, written raw as the "@context" member of every entity (application/ld+json).
  std::string contextJson;
  // Every attribute as an array of instances, also a single one (temporal representation, 4.5.7).
  bool attributeArrays = false;
};

// Writes one entity as a JSON object.
void renderEntity(const Json& entity, const ld::Context& ctx, const RenderOptions& options, JsonWriter& w);

// Writes one entity as a GeoJSON Feature; `geometryProperty` is the expanded attribute whose
// value becomes the geometry (null when the entity has none).
void renderFeature(const Json& entity, const ld::Context& ctx, const RenderOptions& options,
                   const std::string& geometryProperty, JsonWriter& w);

}  // namespace allmende::model
