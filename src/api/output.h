// How an answer renders entities: the representation options of the request (options, format,
// pick, omit, attrs, lang, geometryProperty; NGSI-LD 6.3.7, 6.3.8, 4.15, 4.21) and the
// writers for one entity or a list.
#pragma once

#include <string>
#include <vector>

#include "api/call.h"
#include "model/render.h"

namespace allmende::api {

struct OutputOptions {
  model::RenderOptions render;
  std::string geometryProperty;  // expanded; used for application/geo+json
};

// Reads the representation parameters of the call (after negotiate() and the context).
// `queryAttrs` are the attrs of a Query object (5.2.23), projected like the `attrs` parameter.
Result<OutputOptions> outputOptions(const Call& call, const std::vector<std::string>& queryAttrs = {});

// One entity, as JSON text in the negotiated representation.
std::string renderOne(const Call& call, const Json& entity, const OutputOptions& o);
// A list of entities (a JSON array, or a GeoJSON FeatureCollection).
std::string renderList(const Call& call, const std::vector<JsonDocument>& entities, const OutputOptions& o);

}  // namespace allmende::api
