#include "ingest/mapping.h"

#include <rapidjson/pointer.h>

#include <cmath>

namespace allmende::ingest {

namespace {

Status bad(std::string detail) { return Status(ErrorType::kBadRequestData, std::move(detail)); }

struct FormatName {
  PayloadFormat format;
  const char* name;
};
constexpr FormatName kFormats[] = {{PayloadFormat::kFlat, "flat"},
                                   {PayloadFormat::kMeasurements, "measurements"},
                                   {PayloadFormat::kTtn, "ttn"},
                                   {PayloadFormat::kChirpStack, "chirpstack"}};

struct ConversionName {
  Conversion conversion;
  const char* name;
};
constexpr ConversionName kConversions[] = {{Conversion::kAuto, "auto"},
                                           {Conversion::kNumber, "number"},
                                           {Conversion::kInteger, "integer"},
                                           {Conversion::kBoolean, "boolean"},
                                           {Conversion::kString, "string"}};

Status stringMember(const Json& obj, std::string_view name, std::string& out) {
  const Json* v = findMember(obj, name);
  if (!v || v->IsNull()) return Status::ok();
  if (!v->IsString()) return bad("mapping: \"" + std::string(name) + "\" must be a string");
  out = std::string(asView(*v));
  return Status::ok();
}

Status numberMember(const Json& obj, std::string_view name, double& out) {
  const Json* v = findMember(obj, name);
  if (!v || v->IsNull()) return Status::ok();
  if (!v->IsNumber() || !std::isfinite(v->GetDouble())) {
    return bad("mapping: \"" + std::string(name) + "\" must be a finite number");
  }
  out = v->GetDouble();
  return Status::ok();
}

Result<FieldMapping> parseField(const Json& f) {
  if (!f.IsObject()) return bad("mapping: every entry of \"fields\" must be an object");
  FieldMapping m;
  ALLMENDE_RETURN_IF_ERROR(stringMember(f, "source", m.source));
  ALLMENDE_RETURN_IF_ERROR(stringMember(f, "attribute", m.attribute));
  ALLMENDE_RETURN_IF_ERROR(stringMember(f, "unitCode", m.unitCode));
  ALLMENDE_RETURN_IF_ERROR(numberMember(f, "scale", m.scale));
  ALLMENDE_RETURN_IF_ERROR(numberMember(f, "offset", m.offset));
  if (m.source.empty()) return bad("mapping: a field needs a \"source\"");
  if (m.attribute.empty()) m.attribute = m.source[0] == '/' ? m.source.substr(m.source.rfind('/') + 1) : m.source;
  if (m.attribute.empty()) return bad("mapping: field " + m.source + " needs an \"attribute\"");
  if (m.source[0] == '/' && !rapidjson::Pointer(m.source.c_str()).IsValid()) {
    return bad("mapping: \"" + m.source + "\" is not a valid JSON pointer");
  }
  std::string type = "auto";
  ALLMENDE_RETURN_IF_ERROR(stringMember(f, "type", type));
  bool known = false;
  for (const auto& c : kConversions) {
    if (type == c.name) m.convert = c.conversion, known = true;
  }
  if (!known) return bad("mapping: unknown field type '" + type + "'");
  return m;
}

// Looks a field up: a JSON pointer, or a member of an object.
const Json* lookup(const Json& root, const std::string& source) {
  if (!source.empty() && source[0] == '/') return rapidjson::Pointer(source.c_str()).Get(root);
  return root.IsObject() ? findMember(root, source) : nullptr;
}

// The value of one field after conversion, scale and offset, into `out`.
Status convertValue(const FieldMapping& f, const Json& in, Json& out, JsonAllocator& a) {
  Conversion c = f.convert;
  if (c == Conversion::kAuto) {
    if (f.scale != 1.0 || f.offset != 0.0) {
      c = Conversion::kNumber;  // scaling implies a number
    } else {
      if (!in.IsNumber() && !in.IsString() && !in.IsBool()) return bad(f.source + " is not a scalar");
      out.CopyFrom(in, a);
      return Status::ok();
    }
  }
  double d = 0;
  switch (c) {
    case Conversion::kString:
      if (in.IsString()) out.CopyFrom(in, a);
      else if (in.IsNumber() || in.IsBool()) out = jsonString(toJsonString(in), a);
      else return bad(f.source + " is not a scalar");
      return Status::ok();
    case Conversion::kBoolean:
      if (in.IsBool()) out.SetBool(in.GetBool());
      else if (in.IsNumber()) out.SetBool(in.GetDouble() != 0);
      else if (in.IsString() && (asView(in) == "true" || asView(in) == "false")) out.SetBool(asView(in) == "true");
      else return bad(f.source + " is not a boolean");
      return Status::ok();
    default:
      break;
  }
  if (in.IsNumber()) d = in.GetDouble();
  else if (in.IsBool()) d = in.GetBool() ? 1 : 0;
  else if (in.IsString()) {
    std::string s(asView(in));
    char* end = nullptr;
    d = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size()) return bad(f.source + " is not a number: '" + s.substr(0, 40) + "'");
  } else {
    return bad(f.source + " is not a number");
  }
  d = d * f.scale + f.offset;
  if (!std::isfinite(d)) return bad(f.source + " is not a finite number");
  if (c == Conversion::kInteger) {
    if (std::fabs(d) > 9.0e15) return bad(f.source + " is out of the integer range");
    out.SetInt64(static_cast<int64_t>(std::llround(d)));
  } else if (in.IsInt64() && f.scale == 1.0 && f.offset == 0.0) {
    out.SetInt64(in.GetInt64());
  } else {
    out.SetDouble(d);
  }
  return Status::ok();
}

// Adds {"type": "Property", "value", "unitCode"?, "observedAt"?} as `f.attribute`.
Status addProperty(const FieldMapping& f, const Json& in, const std::string& observedAt, const std::string& unit,
                   JsonDocument& out) {
  auto& a = out.GetAllocator();
  if (findMember(out, f.attribute)) return bad("two fields map to attribute " + f.attribute);
  if (out.MemberCount() >= kMaxMappedAttributes) return bad("more than 100 mapped attributes");
  Json value;
  ALLMENDE_RETURN_IF_ERROR(convertValue(f, in, value, a));
  Json prop(rapidjson::kObjectType);
  prop.AddMember("type", "Property", a);
  prop.AddMember("value", value, a);
  if (!unit.empty()) prop.AddMember("unitCode", jsonString(unit, a), a);
  if (!observedAt.empty()) prop.AddMember("observedAt", jsonString(observedAt, a), a);
  out.AddMember(jsonString(f.attribute, a), prop, a);
  return Status::ok();
}

// The object holding the decoded fields of a payload, and its default timestamp.
Result<const Json*> fieldsRoot(PayloadFormat format, const Json& payload, const Json** defaultTime) {
  *defaultTime = nullptr;
  if (!payload.IsObject()) return bad("the payload must be a JSON object");
  if (format == PayloadFormat::kTtn) {
    const Json* up = findMember(payload, "uplink_message");
    if (!up || !up->IsObject()) return bad("not a The Things Stack uplink: no \"uplink_message\"");
    const Json* decoded = findMember(*up, "decoded_payload");
    if (!decoded || !decoded->IsObject()) return bad("the uplink has no \"decoded_payload\" (no payload formatter?)");
    *defaultTime = findMember(payload, "received_at");
    if (!*defaultTime) *defaultTime = findMember(*up, "received_at");
    return decoded;
  }
  if (format == PayloadFormat::kChirpStack) {
    const Json* object = findMember(payload, "object");
    if (!object || !object->IsObject()) return bad("not a ChirpStack uplink with a decoded \"object\"");
    *defaultTime = findMember(payload, "time");
    if (!*defaultTime) *defaultTime = rapidjson::Pointer("/rxInfo/0/time").Get(payload);
    return object;
  }
  return &payload;
}

Result<std::string> observedAtOf(const DeviceMapping& m, const Json& payload, const Json* defaultTime) {
  const Json* t = m.timestampField.empty() ? defaultTime : lookup(payload, m.timestampField);
  if (!t) {
    if (!m.timestampField.empty()) return bad("the payload has no timestamp " + m.timestampField);
    return std::string();
  }
  auto micros = parsePayloadTime(*t);
  if (!micros) return micros.status();
  return formatDateTime(*micros);
}

Result<JsonDocument> mapObject(const DeviceMapping& m, const Json& root, const std::string& observedAt) {
  JsonDocument out(rapidjson::kObjectType);
  if (m.fields.empty()) {
    for (const auto& member : root.GetObject()) {
      const Json& v = member.value;
      if (!v.IsNumber() && !v.IsString() && !v.IsBool()) continue;
      FieldMapping f;
      f.source = f.attribute = std::string(asView(member.name));
      if (!m.timestampField.empty() && (f.source == m.timestampField || "/" + f.source == m.timestampField)) continue;
      ALLMENDE_RETURN_IF_ERROR(addProperty(f, v, observedAt, "", out));
    }
  } else {
    for (const auto& f : m.fields) {
      if (const Json* v = lookup(root, f.source)) ALLMENDE_RETURN_IF_ERROR(addProperty(f, *v, observedAt, f.unitCode, out));
    }
  }
  return out;
}

// One measurement {"name"|"n", "value"|"v", "unit"|"u"?, "time"|"t"?} of an array.
const Json* either(const Json& obj, std::string_view a, std::string_view b) {
  const Json* v = findMember(obj, a);
  return v ? v : findMember(obj, b);
}

Result<JsonDocument> mapMeasurements(const DeviceMapping& m, const Json& payload) {
  const Json* list = &payload;
  if (payload.IsObject()) list = findMember(payload, "measurements");
  if (!list || !list->IsArray()) return bad("the payload must be an array of measurements or {\"measurements\": [...]}");
  std::string defaultTime;
  if (payload.IsObject() && !m.timestampField.empty()) {
    auto t = observedAtOf(m, payload, nullptr);
    if (!t) return t.status();
    defaultTime = *t;
  }
  JsonDocument out(rapidjson::kObjectType);
  for (const auto& e : list->GetArray()) {
    if (!e.IsObject()) return bad("a measurement must be an object");
    const Json* name = either(e, "name", "n");
    const Json* value = either(e, "value", "v");
    if (!name || !name->IsString() || !value) return bad("a measurement needs \"name\" and \"value\"");
    std::string observedAt = defaultTime;
    if (const Json* t = either(e, "time", "t")) {
      auto micros = parsePayloadTime(*t);
      if (!micros) return micros.status();
      observedAt = formatDateTime(*micros);
    }
    const Json* unit = either(e, "unit", "u");
    std::string unitCode = unit && unit->IsString() ? std::string(asView(*unit)) : "";
    FieldMapping f;
    f.source = f.attribute = std::string(asView(*name));
    if (!m.fields.empty()) {
      const FieldMapping* match = nullptr;
      for (const auto& cand : m.fields) {
        if (cand.source == f.source) match = &cand;
      }
      if (!match) continue;
      f = *match;
      if (!f.unitCode.empty()) unitCode = f.unitCode;
    }
    ALLMENDE_RETURN_IF_ERROR(addProperty(f, *value, observedAt, unitCode, out));
  }
  return out;
}

}  // namespace

const char* formatName(PayloadFormat f) {
  for (const auto& n : kFormats) {
    if (n.format == f) return n.name;
  }
  return "flat";
}

Result<Micros> parsePayloadTime(const Json& v) {
  if (v.IsString()) {
    auto t = parseDateTime(asView(v));
    if (!t) return bad("the timestamp '" + std::string(asView(v)).substr(0, 40) + "' is not an ISO 8601 date-time");
    return *t;
  }
  if (v.IsNumber()) {
    double d = v.GetDouble();
    if (!std::isfinite(d) || d < 0 || d > 4.0e12) return bad("the timestamp number is out of range");
    if (d < 1e11) d *= 1000;  // seconds -> milliseconds
    return static_cast<Micros>(d * 1000);
  }
  return bad("the timestamp must be a string or a number");
}

Result<DeviceMapping> parseMapping(const Json& json) {
  if (!json.IsObject()) return bad("the mapping must be a JSON object");
  DeviceMapping m;
  std::string format = "flat";
  ALLMENDE_RETURN_IF_ERROR(stringMember(json, "format", format));
  bool known = false;
  for (const auto& n : kFormats) {
    if (format == n.name) m.format = n.format, known = true;
  }
  if (!known) return bad("mapping: unknown format '" + format + "' (flat, measurements, ttn, chirpstack)");
  ALLMENDE_RETURN_IF_ERROR(stringMember(json, "timestamp", m.timestampField));
  if (!m.timestampField.empty() && m.timestampField[0] == '/' &&
      !rapidjson::Pointer(m.timestampField.c_str()).IsValid()) {
    return bad("mapping: \"timestamp\" is not a valid JSON pointer");
  }
  if (const Json* fields = findMember(json, "fields")) {
    if (!fields->IsArray()) return bad("mapping: \"fields\" must be an array");
    if (fields->Size() > kMaxMappedAttributes) return bad("mapping: more than 100 fields");
    for (const auto& f : fields->GetArray()) {
      auto field = parseField(f);
      if (!field) return field.status();
      m.fields.push_back(std::move(field).value());
    }
  }
  if (const Json* s = findMember(json, "static")) {
    if (!s->IsObject()) return bad("mapping: \"static\" must be an object of NGSI-LD attributes");
    m.staticAttributes = toJsonString(*s);
  }
  return m;
}

void writeMapping(const DeviceMapping& m, JsonWriter& w) {
  w.StartObject();
  w.Key("format");
  w.String(formatName(m.format));
  if (!m.timestampField.empty()) {
    w.Key("timestamp");
    w.String(m.timestampField.c_str(), static_cast<rapidjson::SizeType>(m.timestampField.size()));
  }
  w.Key("fields");
  w.StartArray();
  for (const auto& f : m.fields) {
    w.StartObject();
    w.Key("source");
    w.String(f.source.c_str(), static_cast<rapidjson::SizeType>(f.source.size()));
    w.Key("attribute");
    w.String(f.attribute.c_str(), static_cast<rapidjson::SizeType>(f.attribute.size()));
    if (!f.unitCode.empty()) {
      w.Key("unitCode");
      w.String(f.unitCode.c_str(), static_cast<rapidjson::SizeType>(f.unitCode.size()));
    }
    if (f.scale != 1.0) w.Key("scale"), w.Double(f.scale);
    if (f.offset != 0.0) w.Key("offset"), w.Double(f.offset);
    for (const auto& c : kConversions) {
      if (c.conversion == f.convert && f.convert != Conversion::kAuto) w.Key("type"), w.String(c.name);
    }
    w.EndObject();
  }
  w.EndArray();
  if (!m.staticAttributes.empty()) {
    w.Key("static");
    w.RawValue(m.staticAttributes.c_str(), m.staticAttributes.size(), rapidjson::kObjectType);
  }
  w.EndObject();
}

Result<JsonDocument> mapPayload(const DeviceMapping& m, const Json& payload) {
  auto out = [&]() -> Result<JsonDocument> {
    if (m.format == PayloadFormat::kMeasurements) return mapMeasurements(m, payload);
    const Json* defaultTime = nullptr;
    auto root = fieldsRoot(m.format, payload, &defaultTime);
    if (!root) return root.status();
    auto observedAt = observedAtOf(m, payload, defaultTime);
    if (!observedAt) return observedAt.status();
    return mapObject(m, **root, *observedAt);
  }();
  if (out && out->MemberCount() == 0) return bad("the payload has no mapped field");
  return out;
}

}  // namespace allmende::ingest
