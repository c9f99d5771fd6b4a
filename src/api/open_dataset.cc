#include "api/open_dataset.h"

#include <algorithm>
#include <cctype>

namespace allmende::api {

namespace {

// EU Publications Office data-theme vocabulary (DCAT-AP dcat:theme).
constexpr std::string_view kThemes[] = {"AGRI", "ECON", "EDUC",      "ENER", "ENVI", "GOVE", "HEAL",
                                        "INTR", "JUST", "OP_DATPRO", "REGI", "SOCI", "TECH", "TRAN"};
// EU Publications Office frequency vocabulary (dct:accrualPeriodicity), the usual subset.
constexpr std::string_view kFrequencies[] = {"CONT",    "UPDATE_CONT", "HOURLY", "DAILY", "WEEKLY",
                                             "MONTHLY", "QUARTERLY",   "ANNUAL", "IRREG", "UNKNOWN"};
constexpr size_t kMaxText = 4000;

Status bad(const std::string& member, const std::string& why) {
  return badRequestData("dataset member '" + member + "': " + why);
}

bool simpleTerm(const std::string& s) {
  if (s.empty() || s.size() > 256) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == ':';
  });
}

Status readString(const Json& body, const char* name, bool required, std::string& out) {
  const Json* v = findMember(body, name);
  if (!v) return required ? bad(name, "is required") : Status::ok();
  if (!v->IsString() || v->GetStringLength() > kMaxText) return bad(name, "must be a string (at most 4000 bytes)");
  out = asView(*v);
  return Status::ok();
}

Status readStrings(const Json& body, const char* name, bool required, std::vector<std::string>& out) {
  const Json* v = findMember(body, name);
  if (!v) return required ? bad(name, "is required") : Status::ok();
  if (!v->IsArray() || v->Size() > 100) return bad(name, "must be an array of at most 100 strings");
  for (const auto& e : v->GetArray()) {
    if (!e.IsString() || e.GetStringLength() == 0 || e.GetStringLength() > 256) {
      return bad(name, "must hold non-empty strings of at most 256 bytes");
    }
    out.emplace_back(asView(e));
  }
  if (required && out.empty()) return bad(name, "must not be empty");
  return Status::ok();
}

// {"de": "...", "en": "..."}: a language map with German required.
Status readTexts(const Json& body, const char* name, std::map<std::string, std::string>& out) {
  const Json* v = findMember(body, name);
  if (!v || !v->IsObject()) return bad(name, "is required: an object {\"de\": text, \"en\": text}");
  for (const auto& m : v->GetObject()) {
    std::string lang(asView(m.name));
    if (lang != "de" && lang != "en") return bad(name, "languages are \"de\" and \"en\"");
    if (!m.value.IsString() || m.value.GetStringLength() == 0 || m.value.GetStringLength() > kMaxText) {
      return bad(name, "each text must be a non-empty string of at most 4000 bytes");
    }
    out[lang] = asView(m.value);
  }
  if (!out.count("de")) return bad(name, "the German text (\"de\") is required");
  return Status::ok();
}

Status readAgent(const Json& body, const char* name, std::string& agentName, std::string& second,
                 const char* secondName) {
  const Json* v = findMember(body, name);
  if (!v) return Status::ok();
  if (!v->IsObject()) return bad(name, "must be an object");
  Status st = readString(*v, "name", false, agentName);
  if (st.isOk()) st = readString(*v, secondName, false, second);
  return st.isOk() ? st : bad(name, st.detail());
}

template <size_t N>
bool member(const std::string& s, const std::string_view (&list)[N]) {
  return std::find(std::begin(list), std::end(list), s) != std::end(list);
}

void writeString(JsonWriter& w, const char* key, const std::string& v) {
  w.Key(key);
  w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
}

void writeStrings(JsonWriter& w, const char* key, const std::vector<std::string>& v) {
  w.Key(key);
  w.StartArray();
  for (const auto& s : v) w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
  w.EndArray();
}

void writeTexts(JsonWriter& w, const char* key, const std::map<std::string, std::string>& v) {
  w.Key(key);
  w.StartObject();
  for (const auto& [lang, text] : v) writeString(w, lang.c_str(), text);
  w.EndObject();
}

}  // namespace

const char* licenseIri(const std::string& key) {
  for (const auto& l : kLicenses) {
    if (key == l.key) return l.iri;
  }
  return nullptr;
}

bool validDatasetId(const std::string& id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

Result<Dataset> parseDataset(const std::string& id, const Json& body) {
  if (!validDatasetId(id)) return badRequestData("a dataset id is 1-64 characters of A-Z a-z 0-9 _ -");
  if (!body.IsObject()) return badRequestData("a dataset definition is a JSON object");
  Dataset d;
  d.id = id;
  Status st = readTexts(body, "title", d.title);
  if (st.isOk()) st = readTexts(body, "description", d.description);
  if (st.isOk()) st = readStrings(body, "types", true, d.types);
  if (st.isOk()) st = readStrings(body, "attributes", false, d.attributes);
  if (st.isOk()) st = readString(body, "q", false, d.q);
  if (st.isOk()) st = readStrings(body, "keywords", false, d.keywords);
  if (st.isOk()) st = readStrings(body, "themes", false, d.themes);
  if (st.isOk()) st = readString(body, "license", true, d.license);
  if (st.isOk()) st = readString(body, "accrualPeriodicity", false, d.frequency);
  if (st.isOk()) st = readAgent(body, "publisher", d.publisherName, d.publisherUrl, "url");
  if (st.isOk()) st = readAgent(body, "contactPoint", d.contactName, d.contactEmail, "email");
  if (!st.isOk()) return st;
  for (const auto& t : d.types) {
    if (!simpleTerm(t)) return bad("types", "'" + t.substr(0, 80) + "' is not a type name");
  }
  for (const auto& a : d.attributes) {
    if (!simpleTerm(a)) return bad("attributes", "'" + a.substr(0, 80) + "' is not an attribute name");
  }
  for (const auto& t : d.themes) {
    if (!member(t, kThemes))
      return bad("themes", "'" + t.substr(0, 40) + "' is not an EU data theme code (TRAN, ENVI, ...)");
  }
  if (!licenseIri(d.license)) return bad("license", "one of dl-by-de/2.0, dl-zero-de/2.0, cc-by/4.0, cc-zero");
  if (!member(d.frequency, kFrequencies)) return bad("accrualPeriodicity", "an EU frequency code (CONT, DAILY, ...)");
  if (!d.contactEmail.empty() && d.contactEmail.find('@') == std::string::npos) {
    return bad("contactPoint", "email must be an e-mail address");
  }
  if (!d.publisherUrl.empty() && d.publisherUrl.rfind("https://", 0) != 0 && d.publisherUrl.rfind("http://", 0) != 0) {
    return bad("publisher", "url must be an http(s) URL");
  }
  if (const Json* area = findMember(body, "area")) {
    const Json* type = area->IsObject() ? findMember(*area, "type") : nullptr;
    if (!type || !type->IsString() || (asView(*type) != "Polygon" && asView(*type) != "MultiPolygon")) {
      return bad("area", "a GeoJSON Polygon or MultiPolygon");
    }
    d.area = toJsonString(*area);
  }
  return d;
}

std::string datasetJson(const Dataset& d) {
  JsonBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  writeTexts(w, "title", d.title);
  writeTexts(w, "description", d.description);
  writeStrings(w, "types", d.types);
  if (!d.attributes.empty()) writeStrings(w, "attributes", d.attributes);
  if (!d.q.empty()) writeString(w, "q", d.q);
  if (!d.area.empty()) {
    w.Key("area");
    w.RawValue(d.area.c_str(), d.area.size(), rapidjson::kObjectType);
  }
  writeStrings(w, "keywords", d.keywords);
  writeStrings(w, "themes", d.themes);
  writeString(w, "license", d.license);
  writeString(w, "accrualPeriodicity", d.frequency);
  if (!d.publisherName.empty() || !d.publisherUrl.empty()) {
    w.Key("publisher");
    w.StartObject();
    if (!d.publisherName.empty()) writeString(w, "name", d.publisherName);
    if (!d.publisherUrl.empty()) writeString(w, "url", d.publisherUrl);
    w.EndObject();
  }
  if (!d.contactName.empty() || !d.contactEmail.empty()) {
    w.Key("contactPoint");
    w.StartObject();
    if (!d.contactName.empty()) writeString(w, "name", d.contactName);
    if (!d.contactEmail.empty()) writeString(w, "email", d.contactEmail);
    w.EndObject();
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace allmende::api
