#include "model/render.h"

#include "model/entity.h"

namespace allmende::model {

namespace {

void writeString(JsonWriter& w, std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }
void writeKey(JsonWriter& w, std::string_view s) { w.Key(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

// Compacted type(s): a string for one, an array for several.
void writeTypes(JsonWriter& w, const Json& types, const ld::Context& ctx) {
  if (types.IsArray() && types.Size() == 1) return writeString(w, ctx.compactIri(asView(types[0])));
  if (!types.IsArray()) return writeString(w, ctx.compactIri(asView(types)));
  w.StartArray();
  for (const auto& t : types.GetArray()) writeString(w, ctx.compactIri(asView(t)));
  w.EndArray();
}

// VocabProperty values are IRIs compacted like terms (NGSI-LD 4.5.20).
void writeVocab(JsonWriter& w, const Json& v, const ld::Context& ctx) {
  if (v.IsString()) return writeString(w, ctx.compactIri(asView(v)));
  w.StartArray();
  for (const auto& s : v.GetArray()) writeString(w, s.IsString() ? ctx.compactIri(asView(s)) : "");
  w.EndArray();
}

// NGSI-LD 4.15: the string of the requested language, else of the first language present.
const Json* pickLanguage(const Json& languageMap, const std::string& lang, std::string* chosen) {
  if (const Json* v = findMember(languageMap, lang)) {
    *chosen = lang;
    return v;
  }
  for (const char* fallback : {"@none", "en"}) {
    if (const Json* v = findMember(languageMap, fallback)) {
      *chosen = fallback;
      return v;
    }
  }
  if (languageMap.MemberCount() == 0) return nullptr;
  *chosen = std::string(asView(languageMap.MemberBegin()->name));
  return &languageMap.MemberBegin()->value;
}

class Renderer {
 public:
  Renderer(const ld::Context& ctx, const RenderOptions& o, JsonWriter& w) : ctx_(ctx), o_(o), w_(w) {}

  void entityMembers(const Json& e, bool skipIdType) {
    if (!skipIdType) {
      if (o_.projection.shows("id")) {
        writeKey(w_, "id");
        w_.String(e["id"].GetString(), e["id"].GetStringLength());
      }
      if (o_.projection.shows("type")) {
        writeKey(w_, "type");
        writeTypes(w_, e["type"], ctx_);
      }
    }
    if (const Json* scope = findMember(e, "scope"); scope && o_.projection.shows("scope")) {
      writeKey(w_, "scope");
      scope->Accept(w_);
    }
    if (o_.sysAttrs) {
      for (const char* m : {"createdAt", "modifiedAt"}) {
        if (const Json* t = findMember(e, m)) {
          writeKey(w_, m);
          t->Accept(w_);
        }
      }
    }
    if (const Json* attrs = attrsOf(e)) {
      for (const auto& attr : attrs->GetObject()) {
        std::string iri(asView(attr.name));
        if (!o_.projection.shows(iri)) continue;
        writeKey(w_, ctx_.compactIri(iri));
        attribute(attr.value);
      }
    }
  }

  void context() {
    if (o_.contextJson.empty()) return;
    writeKey(w_, "@context");
    w_.RawValue(o_.contextJson.data(), o_.contextJson.size(), rapidjson::kObjectType);
  }

 private:
  void attribute(const Json& instances) {
    if (instances.Size() == 1 && !o_.attributeArrays) return instance(instances[0]);
    w_.StartArray();
    for (const auto& inst : instances.GetArray()) instance(inst);
    w_.EndArray();
  }

  void instance(const Json& inst) {
    std::string_view kind = asView(inst["type"]);
    std::string_view valueMember = valueMemberOf(kind);
    const Json* value = findMember(inst, valueMember);
    if (o_.format == Format::kKeyValues) {
      simplifiedValue(kind, value);
      return;
    }
    // NGSI-LD 4.15: with lang, a LanguageProperty is shown as a Property with one string and "lang".
    bool asLangString = kind == kLanguageProperty && !o_.lang.empty() && o_.lang != "*" && value;
    bool hasExtras = false;
    for (const auto& m : inst.GetObject()) {
      std::string_view k = asView(m.name);
      if (k != "type" && k != valueMember && (o_.sysAttrs || (k != "createdAt" && k != "modifiedAt"))) hasExtras = true;
    }
    // Concise (4.5.3): a Property or GeoProperty with nothing but its value is the value itself.
    if (o_.format == Format::kConcise && !hasExtras && !asLangString && value &&
        ((kind == kProperty && !value->IsObject()) || kind == kGeoProperty)) {
      value->Accept(w_);
      return;
    }
    w_.StartObject();
    if (o_.format == Format::kNormalized) {
      writeKey(w_, "type");
      writeString(w_, asLangString ? kProperty : kind);
    }
    if (value) {
      if (asLangString) {
        std::string chosen;
        const Json* s = pickLanguage(*value, o_.lang, &chosen);
        writeKey(w_, "value");
        if (s) s->Accept(w_); else w_.Null();
        writeKey(w_, "lang");
        writeString(w_, chosen);
      } else {
        writeKey(w_, valueMember);
        if (kind == kVocabProperty) writeVocab(w_, *value, ctx_); else value->Accept(w_);
      }
    }
    for (const auto& m : inst.GetObject()) {
      std::string_view k = asView(m.name);
      if (k == "type" || k == valueMember) continue;
      if ((k == "createdAt" || k == "modifiedAt") && !o_.sysAttrs) continue;
      if (k == "objectType") {
        writeKey(w_, k);
        writeTypes(w_, m.value, ctx_);
      } else if (isCoreInstanceMember(k)) {
        writeKey(w_, k);
        m.value.Accept(w_);
      } else {
        writeKey(w_, ctx_.compactIri(k));
        instance(m.value);
      }
    }
    w_.EndObject();
  }

  // NGSI-LD 4.5.4 simplified representation: the value only.
  void simplifiedValue(std::string_view kind, const Json* value) {
    if (!value) {
      w_.Null();
      return;
    }
    if (kind == kLanguageProperty && !o_.lang.empty() && o_.lang != "*") {
      std::string chosen;
      const Json* s = pickLanguage(*value, o_.lang, &chosen);
      if (s) s->Accept(w_); else w_.Null();
      return;
    }
    if (kind == kProperty || kind == kGeoProperty || kind == kRelationship) {
      value->Accept(w_);
      return;
    }
    // The other kinds keep their keyword (languageMap, vocab, valueList, objectList, json): a bare
    // value could not be told apart from a Property's.
    w_.StartObject();
    writeKey(w_, valueMemberOf(kind));
    if (kind == kVocabProperty) writeVocab(w_, *value, ctx_); else value->Accept(w_);
    w_.EndObject();
  }

  const ld::Context& ctx_;
  const RenderOptions& o_;
  JsonWriter& w_;
};

}  // namespace

void renderEntity(const Json& entity, const ld::Context& ctx, const RenderOptions& options, JsonWriter& w) {
  Renderer r(ctx, options, w);
  w.StartObject();
  r.entityMembers(entity, false);
  r.context();
  w.EndObject();
}

void renderFeature(const Json& entity, const ld::Context& ctx, const RenderOptions& options,
                   const std::string& geometryProperty, JsonWriter& w) {
  Renderer r(ctx, options, w);
  w.StartObject();
  writeKey(w, "id");
  w.String(entity["id"].GetString(), entity["id"].GetStringLength());
  writeKey(w, "type");
  writeString(w, "Feature");
  writeKey(w, "geometry");
  const Json* geometry = nullptr;
  if (const Json* attrs = attrsOf(entity)) {
    if (const Json* g = findMember(*attrs, geometryProperty); g && g->IsArray() && !g->Empty()) {
      geometry = findMember((*g)[0], "value");
    }
  }
  if (geometry) geometry->Accept(w); else w.Null();
  // NGSI-LD 4.5.16: the entity's members (type and attributes) go into "properties".
  writeKey(w, "properties");
  w.StartObject();
  if (options.projection.shows("type")) {
    writeKey(w, "type");
    writeTypes(w, entity["type"], ctx);
  }
  r.entityMembers(entity, true);
  w.EndObject();
  r.context();
  w.EndObject();
}

}  // namespace allmende::model
