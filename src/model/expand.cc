#include "model/expand.h"

#include "common/time.h"
#include "geo/geometry.h"
#include "model/entity.h"

namespace allmende::model {

namespace {

constexpr std::string_view kNullUri = "urn:ngsi-ld:null";

bool isAttributeKind(std::string_view t) { return !valueMemberOf(t).empty(); }

// The kind constant for a kind name (which must satisfy isAttributeKind).
std::string_view canonicalKind(std::string_view t) {
  for (auto k : {kProperty, kRelationship, kGeoProperty, kLanguageProperty, kVocabProperty, kListProperty,
                 kListRelationship, kJsonProperty}) {
    if (k == t) return k;
  }
  return kProperty;
}

bool isGeometryObject(const Json& v) {
  const Json* t = findMember(v, "type");
  return t && t->IsString() && geo::geometryTypeFromName(asView(*t)).has_value() &&
         (findMember(v, "coordinates") || findMember(v, "geometries"));
}

// The attribute kind of an instance in normalized or concise form (NGSI-LD 4.5.1, 4.5.3).
Result<std::string_view> kindOf(const Json& in) {
  if (!in.IsObject()) return kProperty;
  if (const Json* t = findMember(in, "type"); t && t->IsString()) {
    if (isAttributeKind(asView(*t))) return canonicalKind(asView(*t));
    // A "type" that is neither an attribute kind nor a GeoJSON geometry type is an error, not a
    // Property whose type member is dropped (NGSI-LD 4.5.1).
    if (!isGeometryObject(in)) return badRequestData("unknown attribute type '" + std::string(asView(*t)) + "'");
  }
  if (findMember(in, "value")) {
    const Json* v = findMember(in, "value");
    return isGeometryObject(*v) ? kGeoProperty : kProperty;
  }
  if (findMember(in, "object")) return kRelationship;
  if (findMember(in, "languageMap")) return kLanguageProperty;
  if (findMember(in, "vocab")) return kVocabProperty;
  if (findMember(in, "valueList")) return kListProperty;
  if (findMember(in, "objectList")) return kListRelationship;
  if (findMember(in, "json")) return kJsonProperty;
  return kProperty;  // a concise Property whose value is this object (or a GeoJSON geometry)
}

class Expander {
 public:
  Expander(const ld::Context& ctx, const ExpandLimits& limits, JsonAllocator& a) : ctx_(ctx), limits_(limits), a_(a) {}

  Result<std::string> attributeName(std::string_view name) { return expandAttributeName(name, ctx_); }
  Result<std::string> typeName(std::string_view name) { return expandTypeName(name, ctx_); }

  // Entity types: a string or a non-empty array of strings, into an array of expanded IRIs.
  Status types(const Json& in, Json& out) {
    out.SetArray();
    auto add = [&](const Json& t) -> Status {
      if (!t.IsString()) return badRequestData("entity type must be a string");
      auto iri = typeName(asView(t));
      if (!iri) return iri.status();
      for (const auto& existing : out.GetArray()) {
        if (asView(existing) == *iri) return Status::ok();
      }
      out.PushBack(jsonString(*iri, a_), a_);
      return Status::ok();
    };
    if (in.IsArray()) {
      if (in.Empty()) return badRequestData("entity type array must not be empty");
      for (const auto& t : in.GetArray()) ALLMENDE_RETURN_IF_ERROR(add(t));
      return Status::ok();
    }
    return add(in);
  }

  // NGSI-LD 4.18: scope is a string or array of strings, each starting with '/'.
  Status scopes(const Json& in, Json& out) {
    out.SetArray();
    auto add = [&](const Json& s) -> Status {
      if (!s.IsString() || s.GetStringLength() == 0 || s.GetString()[0] != '/')
        return badRequestData("scope must be a string starting with '/'");
      out.PushBack(Json(s, a_), a_);
      return Status::ok();
    };
    if (in.IsArray()) {
      for (const auto& s : in.GetArray()) ALLMENDE_RETURN_IF_ERROR(add(s));
      return Status::ok();
    }
    return add(in);
  }

  // An attribute's value in the body: one instance, or an array of instances each with a
  // distinct datasetId (multi-attribute, NGSI-LD 4.5.5). Produces the array of instances.
  Status attribute(std::string_view name, const Json& in, Json& out) {
    out.SetArray();
    if (in.IsArray() && !in.Empty() && isInstanceArray(in)) {
      for (const auto& inst : in.GetArray()) {
        Json one;
        ALLMENDE_RETURN_IF_ERROR(instance(name, inst, one, 0));
        std::string_view ds = datasetIdOf(one);
        if (findInstance(out, ds)) {
          return badRequestData("attribute '" + std::string(name) + "' has two instances with datasetId '" +
                                std::string(ds) + "'");
        }
        out.PushBack(one, a_);
      }
      // The default instance first (docs/architecture.md).
      for (rapidjson::SizeType i = 1; i < out.Size(); ++i) {
        if (datasetIdOf(out[i]).empty()) std::swap(out[0], out[i]);
      }
      return Status::ok();
    }
    Json one;
    ALLMENDE_RETURN_IF_ERROR(instance(name, in, one, 0));
    out.PushBack(one, a_);
    return Status::ok();
  }

  // Every member of `body` except id/type/scope/@context/system attributes, as attributes.
  Status attributes(const Json& body, Json& attrs) {
    attrs.SetObject();
    for (const auto& m : body.GetObject()) {
      std::string_view key = asView(m.name);
      if (key == "id" || key == "type" || key == "scope" || key == "@context" || key == "createdAt" ||
          key == "modifiedAt" || key == "deletedAt" || key == "@id" || key == "@type")
        continue;
      if (attrs.MemberCount() >= limits_.maxAttributes)
        return badRequestData("more than " + std::to_string(limits_.maxAttributes) + " attributes");
      auto iri = attributeName(key);
      if (!iri) return iri.status();
      if (findMember(attrs, *iri)) return badRequestData("attribute '" + std::string(key) + "' given twice");
      Json value;
      ALLMENDE_RETURN_IF_ERROR(attribute(key, m.value, value));
      attrs.AddMember(jsonString(*iri, a_), value, a_);
    }
    return Status::ok();
  }

 private:
  static bool isInstanceArray(const Json& in) {
    for (const auto& e : in.GetArray()) {
      if (!e.IsObject()) return false;
      const Json* t = findMember(e, "type");
      bool typed = t && t->IsString() && isAttributeKind(asView(*t));
      bool valued = findMember(e, "value") || findMember(e, "object") || findMember(e, "languageMap") ||
                    findMember(e, "vocab") || findMember(e, "valueList") || findMember(e, "objectList") ||
                    findMember(e, "json");
      if (!typed && !valued) return false;
    }
    return true;
  }

  Status instance(std::string_view name, const Json& in, Json& out, size_t depth) {
    if (depth > limits_.maxSubAttributeDepth) return badRequestData("sub-attributes nested too deeply");
    auto kindResult = kindOf(in);
    if (!kindResult) return kindResult.status();
    std::string_view kind = *kindResult;
    out.SetObject();
    out.AddMember("type", Json(rapidjson::StringRef(kind.data(), kind.size())), a_);
    const bool normalized = in.IsObject() && (findMember(in, valueMemberOf(kind)) != nullptr);
    if (!normalized) {
      // Concise value (NGSI-LD 4.5.3): the whole input is the value.
      if (in.IsObject()) {
        if (const Json* t = findMember(in, "type"); t && t->IsString() && !isGeometryObject(in) &&
                                                    !isAttributeKind(asView(*t)))
          return badRequestData("attribute '" + std::string(name) + "' has unknown type '" + std::string(asView(*t)) + "'");
        if (findMember(in, "type") && isAttributeKind(asView(*findMember(in, "type"))))
          return badRequestData("attribute '" + std::string(name) + "' of type " + std::string(kind) + " has no '" +
                                std::string(valueMemberOf(kind)) + "'");
      }
      Json value(in, a_);
      ALLMENDE_RETURN_IF_ERROR(checkValue(name, isGeometryObject(in) ? kGeoProperty : kind, value));
      if (isGeometryObject(in)) out["type"].SetString(rapidjson::StringRef(kGeoProperty.data(), kGeoProperty.size()));
      out.AddMember("value", value, a_);
      return Status::ok();
    }
    for (const auto& m : in.GetObject()) {
      std::string_view key = asView(m.name);
      if (key == "type" || key == "createdAt" || key == "modifiedAt" || key == "deletedAt" || key == "@context" ||
          key == "instanceId" || key == "previousValue")
        continue;
      if (key == valueMemberOf(kind)) {
        Json value(m.value, a_);
        ALLMENDE_RETURN_IF_ERROR(checkValue(name, kind, value));
        out.AddMember(Json(m.name, a_), value, a_);
      } else if (key == "observedAt") {
        auto t = m.value.IsString() ? parseDateTime(asView(m.value)) : std::nullopt;
        if (!t) return badRequestData("observedAt of '" + std::string(name) + "' is not an ISO 8601 date-time");
        out.AddMember("observedAt", jsonString(formatDateTime(*t), a_), a_);
      } else if (key == "unitCode" || key == "lang") {
        if (!m.value.IsString()) return badRequestData(std::string(key) + " of '" + std::string(name) + "' must be a string");
        out.AddMember(Json(m.name, a_), Json(m.value, a_), a_);
      } else if (key == "datasetId") {
        if (!m.value.IsString() || !isUri(asView(m.value)))
          return badRequestData("datasetId of '" + std::string(name) + "' must be a URI");
        out.AddMember("datasetId", Json(m.value, a_), a_);
      } else if (key == "objectType") {
        Json types;
        ALLMENDE_RETURN_IF_ERROR(this->types(m.value, types));
        Json value = types.Size() == 1 ? Json(types[0], a_) : Json(types, a_);
        out.AddMember("objectType", value, a_);
      } else if (isCoreInstanceMember(key)) {
        return badRequestData("'" + std::string(key) + "' is not allowed in an attribute of type " + std::string(kind));
      } else {
        auto iri = attributeName(key);
        if (!iri) return iri.status();
        const Json& subIn = m.value.IsArray() && m.value.Size() == 1 && m.value[0].IsObject() ? m.value[0] : m.value;
        Json sub;
        ALLMENDE_RETURN_IF_ERROR(instance(key, subIn, sub, depth + 1));
        out.AddMember(jsonString(*iri, a_), sub, a_);
      }
    }
    return Status::ok();
  }

  // The value member of an instance of `kind`, checked (and IRIs expanded where the kind says so).
  Status checkValue(std::string_view name, std::string_view kind, Json& v) {
    std::string n(name);
    if (v.IsNull()) return badRequestData("attribute '" + n + "' has a null value");
    if (kind == kProperty) return Status::ok();
    if (kind == kGeoProperty) {
      if (v.IsString() && asView(v) == kNullUri) return Status::ok();
      Status st = geo::validateGeometry(v);
      if (!st.isOk()) return badRequestData("GeoProperty '" + n + "': " + st.detail());
      return Status::ok();
    }
    if (kind == kRelationship) {
      auto okUri = [](const Json& o) { return o.IsString() && isUri(asView(o)); };
      if (okUri(v)) return Status::ok();
      if (v.IsArray() && !v.Empty()) {
        for (const auto& o : v.GetArray()) {
          if (!okUri(o)) return badRequestData("Relationship '" + n + "': every object must be a URI");
        }
        return Status::ok();
      }
      return badRequestData("Relationship '" + n + "': object must be a URI");
    }
    if (kind == kLanguageProperty) {
      if (!v.IsObject()) return badRequestData("LanguageProperty '" + n + "': languageMap must be an object");
      for (const auto& m : v.GetObject()) {
        bool ok = m.value.IsString();
        if (m.value.IsArray()) {
          ok = true;
          for (const auto& s : m.value.GetArray()) ok = ok && s.IsString();
        }
        if (!ok) return badRequestData("LanguageProperty '" + n + "': languageMap values must be strings");
      }
      return Status::ok();
    }
    if (kind == kVocabProperty) {
      // NGSI-LD 4.5.20: vocab values are terms, expanded like type names.
      auto expandOne = [&](Json& s) -> Status {
        if (!s.IsString()) return badRequestData("VocabProperty '" + n + "': vocab must be a string or array of strings");
        s = jsonString(ctx_.expandTerm(asView(s)), a_);
        return Status::ok();
      };
      if (v.IsArray()) {
        for (auto& s : v.GetArray()) ALLMENDE_RETURN_IF_ERROR(expandOne(s));
        return Status::ok();
      }
      return expandOne(v);
    }
    if (kind == kListProperty) {
      if (!v.IsArray()) return badRequestData("ListProperty '" + n + "': valueList must be an array");
      return Status::ok();
    }
    if (kind == kListRelationship) {
      if (!v.IsArray()) return badRequestData("ListRelationship '" + n + "': objectList must be an array");
      for (auto& o : v.GetArray()) {
        const Json* uri = o.IsObject() ? findMember(o, "object") : &o;
        if (!uri || !uri->IsString() || !isUri(asView(*uri)))
          return badRequestData("ListRelationship '" + n + "': every element must be a URI");
      }
      return Status::ok();
    }
    if (kind == kJsonProperty) {
      if (!v.IsObject() && !v.IsArray()) return badRequestData("JsonProperty '" + n + "': json must be an object or array");
      return Status::ok();
    }
    return badRequestData("attribute '" + n + "' has unknown type '" + std::string(kind) + "'");
  }


  const ld::Context& ctx_;
  const ExpandLimits& limits_;
  JsonAllocator& a_;
};

// The type (when given), scope and attributes of an entity or fragment into `out`.
Status expandMembers(const Json& body, const Json* type, const ld::Context& ctx, const ExpandLimits& limits,
                     JsonDocument& out) {
  auto& a = out.GetAllocator();
  Expander ex(ctx, limits, a);
  if (type) {
    Json types;
    ALLMENDE_RETURN_IF_ERROR(ex.types(*type, types));
    out.AddMember("type", types, a);
  }
  if (const Json* scope = findMember(body, "scope")) {
    Json s;
    ALLMENDE_RETURN_IF_ERROR(ex.scopes(*scope, s));
    out.AddMember("scope", s, a);
  }
  Json attrs;
  ALLMENDE_RETURN_IF_ERROR(ex.attributes(body, attrs));
  out.AddMember("attrs", attrs, a);
  return Status::ok();
}

}  // namespace

Result<JsonDocument> expandEntity(const Json& body, const ld::Context& ctx, const ExpandLimits& limits) {
  if (!body.IsObject()) return badRequestData("entity must be a JSON object");
  const Json* id = findMember(body, "id");
  if (!id) id = findMember(body, "@id");
  if (!id || !id->IsString()) return badRequestData("entity id is missing or not a string");
  if (!isUri(asView(*id))) return badRequestData("entity id '" + std::string(asView(*id)) + "' is not a URI");
  const Json* type = findMember(body, "type");
  if (!type) type = findMember(body, "@type");
  if (!type) return badRequestData("entity type is missing");

  JsonDocument out(rapidjson::kObjectType);
  out.AddMember("id", Json(*id, out.GetAllocator()), out.GetAllocator());
  ALLMENDE_RETURN_IF_ERROR(expandMembers(body, type, ctx, limits, out));
  return out;
}

Result<JsonDocument> expandFragment(const Json& body, const ld::Context& ctx, std::string_view expectedId,
                                    const ExpandLimits& limits) {
  if (!body.IsObject()) return badRequestData("the payload must be a JSON object");
  if (const Json* id = findMember(body, "id")) {
    if (!id->IsString() || asView(*id) != expectedId)
      return badRequestData("the id in the payload does not match the entity id of the request");
  }
  JsonDocument out(rapidjson::kObjectType);
  ALLMENDE_RETURN_IF_ERROR(expandMembers(body, findMember(body, "type"), ctx, limits, out));
  return out;
}

Result<JsonDocument> expandAttributeBody(const Json& body, const ld::Context& ctx, const ExpandLimits& limits) {
  JsonDocument out;
  Expander ex(ctx, limits, out.GetAllocator());
  ALLMENDE_RETURN_IF_ERROR(ex.attribute("attribute", body, out));
  return out;
}

Result<std::string> expandTypeName(std::string_view name, const ld::Context& ctx) {
  if (!isValidName(name)) return badRequestData("invalid entity type '" + std::string(name) + "'");
  return ctx.expandTerm(name);
}

Result<std::string> expandAttributeName(std::string_view name, const ld::Context& ctx) {
  if (!isValidName(name)) return badRequestData("invalid attribute name '" + std::string(name) + "'");
  return ctx.expandTerm(name);
}

}  // namespace allmende::model
