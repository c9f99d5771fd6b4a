// The mapping engine of IoT ingestion (docs/ingestion.md): how the JSON a sensor sends becomes
// an NGSI-LD entity fragment. Pure functions, no I/O: the HTTP endpoint and the MQTT agent both
// call mapPayload, and so does the fuzz harness.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/status.h"
#include "common/time.h"

namespace allmende::ingest {

// The shape of the payloads a device sends.
enum class PayloadFormat {
  kFlat,          // {"temperature": 21.5, "humidity": 40, "ts": "..."}
  kMeasurements,  // [{"name": "t", "value": 21.5, "unit": "CEL", "time": "..."}] or {"measurements": [...]}
  kTtn,           // The Things Stack uplink: uplink_message.decoded_payload, received_at
  kChirpStack,    // ChirpStack uplink event: object (decoded payload), time (or rxInfo[0].time)
};

enum class Conversion { kAuto, kNumber, kInteger, kBoolean, kString };

// One field of the payload -> one NGSI-LD Property.
struct FieldMapping {
  std::string source;     // a JSON pointer ("/a/b") or a top-level member / measurement name
  std::string attribute;  // the NGSI-LD attribute name (a term of the core @context, or an IRI)
  std::string unitCode;   // UN/CEFACT code, "" = none
  double scale = 1.0;     // numbers become value * scale + offset
  double offset = 0.0;
  Conversion convert = Conversion::kAuto;
};

struct DeviceMapping {
  PayloadFormat format = PayloadFormat::kFlat;
  // Empty: every scalar member (flat) or every measurement (array) maps to an attribute of its
  // own name, unconverted.
  std::vector<FieldMapping> fields;
  std::string timestampField;  // pointer or member; "" = the format's default (TTN/ChirpStack) or none
  // NGSI-LD attributes (normalized form, e.g. location, name) written with the first measurement
  // that creates the entity. JSON object text, "" = none.
  std::string staticAttributes;
};

// Limits of one payload, so that a hostile sensor cannot make a huge write.
inline constexpr size_t kMaxMappedAttributes = 100;

// Parses a mapping from its JSON form (docs/ingestion.md):
// {"format": "flat|measurements|ttn|chirpstack", "fields": [{"source", "attribute", "unitCode",
//  "scale", "offset", "type": "number|integer|boolean|string"}], "timestamp": "...",
//  "static": {...}}. BadRequestData naming the offending member.
Result<DeviceMapping> parseMapping(const Json& json);
// The JSON form of a mapping (as parseMapping reads it).
void writeMapping(const DeviceMapping& m, JsonWriter& w);

// Maps one payload to an NGSI-LD fragment in the normalized compact form, with the attribute
// names of the mapping: {"attr": {"type": "Property", "value": v, "unitCode"?, "observedAt"?}}.
// Static attributes are not included (the caller adds them on creation). BadRequestData with the
// reason when the payload does not fit the mapping (wrong shape, no mapped field, a value that
// cannot be converted, a bad timestamp).
Result<JsonDocument> mapPayload(const DeviceMapping& m, const Json& payload);

// A timestamp of a payload: an ISO 8601 date-time string, or a number of seconds since the epoch
// (values >= 1e11 are taken as milliseconds).
Result<Micros> parsePayloadTime(const Json& v);

const char* formatName(PayloadFormat f);

}  // namespace allmende::ingest
