// An open-data dataset definition (issue 11, docs/opendata.md): which public entities of a
// tenant form one DCAT dataset, and its metadata (DCAT-AP.de 2.0). Parsed and checked here; kept
// as JSON text by store::DatasetStore.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace allmende::api {

struct Dataset {
  std::string id;                            // [A-Za-z0-9_-]{1,64}
  std::map<std::string, std::string> title;  // language ("de", "en") -> text; "de" required
  std::map<std::string, std::string> description;
  std::vector<std::string> types;       // entity types (core @context terms), >= 1
  std::vector<std::string> attributes;  // narrows the public attributes ([] = all public)
  std::string q;                        // NGSI-LD q over the entities, "" = none
  std::string area;                     // GeoJSON Polygon text: entities within, "" = none
  std::vector<std::string> keywords;
  std::vector<std::string> themes;          // EU data theme codes (TRAN, ENVI, ...)
  std::string license;                      // key of kLicenses
  std::string publisherName, publisherUrl;  // "" = the tenant's display name / none
  std::string contactName, contactEmail;    // contact point (vcard)
  std::string frequency = "UNKNOWN";        // EU frequency code (CONT, DAILY, ...)
};

struct License {
  const char* key;  // the value accepted in a definition
  const char* iri;  // the DCAT-AP.de licence vocabulary IRI
};
// Datenlizenz Deutschland Namensnennung 2.0 / Zero 2.0, CC BY 4.0, CC0.
inline constexpr License kLicenses[] = {
    {"dl-by-de/2.0", "http://dcat-ap.de/def/licenses/dl-by-de/2.0"},
    {"dl-zero-de/2.0", "http://dcat-ap.de/def/licenses/dl-zero-de/2.0"},
    {"cc-by/4.0", "http://dcat-ap.de/def/licenses/cc-by/4.0"},
    {"cc-zero", "http://dcat-ap.de/def/licenses/cc-zero"},
};
const char* licenseIri(const std::string& key);  // nullptr when unknown

inline constexpr const char* kThemeBase = "http://publications.europa.eu/resource/authority/data-theme/";
inline constexpr const char* kFrequencyBase = "http://publications.europa.eu/resource/authority/frequency/";

// Checks a definition (the body of PUT .../datasets/{id}); BadRequestData naming the member.
Result<Dataset> parseDataset(const std::string& id, const Json& body);
// The definition as JSON text, as stored and shown (without the id).
std::string datasetJson(const Dataset& d);
// True for an id usable in a path and an IRI.
bool validDatasetId(const std::string& id);

}  // namespace allmende::api
