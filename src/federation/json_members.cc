#include "federation/json_members.h"

#include <random>
#include <regex>

#include "model/entity.h"

namespace allmende::federation::members {

namespace {
constexpr size_t kMaxIdPatternLength = 256;  // as for queries: std::regex backtracks
}  // namespace

Status bad(std::string_view member, const std::string& what) {
  return badRequestData(std::string(member) + ": " + what);
}

std::string randomSuffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%08llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng() & 0xffffffffu));
  return buf;
}

Result<std::string> nonEmptyString(const Json& v, std::string_view name) {
  if (!v.IsString() || v.GetStringLength() == 0) return bad(name, "must be a non-empty string");
  return std::string(asView(v));
}

Result<std::string> uri(const Json& v, std::string_view name) {
  auto s = nonEmptyString(v, name);
  if (!s) return s;
  if (!model::isUri(*s)) return bad(name, "must be a URI");
  return s;
}

// A string or an array of strings (NGSI-LD lets single values stand for one-element arrays).
Result<std::vector<std::string>> strings(const Json& v, std::string_view name) {
  std::vector<std::string> out;
  if (v.IsString()) {
    if (v.GetStringLength() == 0) return bad(name, "must not be empty");
    out.emplace_back(asView(v));
    return out;
  }
  if (!v.IsArray() || v.Empty()) return bad(name, "must be a string or a non-empty array of strings");
  for (const auto& s : v.GetArray()) {
    if (!s.IsString() || s.GetStringLength() == 0) return bad(name, "must be a non-empty array of strings");
    out.emplace_back(asView(s));
  }
  return out;
}

Result<std::vector<std::string>> names(const Json& v, std::string_view name, const TermFn& expand) {
  auto raw = strings(v, name);
  if (!raw) return raw;
  std::vector<std::string> out;
  for (const auto& n : *raw) {
    if (!model::isUri(n) && !model::isValidName(n)) return bad(name, "'" + n.substr(0, 80) + "' is not a valid name");
    out.push_back(expand(n));
  }
  return out;
}

Result<Micros> dateTime(const Json& v, std::string_view name) {
  if (!v.IsString()) return bad(name, "must be a DateTime string");
  auto t = parseDateTime(asView(v));
  if (!t) return bad(name, "'" + std::string(asView(v)).substr(0, 40) + "' is not a DateTime");
  return *t;
}

// NGSI-LD 5.2.8.
Result<EntityInfo> entityInfo(const Json& v, const TermFn& expand, std::string_view where) {
  const std::string at(where);
  if (!v.IsObject()) return bad(at, "each member must be an object");
  EntityInfo e;
  for (const auto& m : v.GetObject()) {
    std::string_view key = asView(m.name);
    if (key == "id") {
      auto s = uri(m.value, at + ".id");
      if (!s) return s.status();
      e.id = *s;
    } else if (key == "idPattern") {
      auto s = nonEmptyString(m.value, at + ".idPattern");
      if (!s) return s.status();
      if (s->size() > kMaxIdPatternLength) return bad(at + ".idPattern", "too long");
      try {
        std::regex re(*s, std::regex::ECMAScript);
      } catch (const std::regex_error&) {
        return bad(at + ".idPattern", "invalid regular expression");
      }
      e.idPattern = *s;
    } else if (key == "type") {
      auto t = names(m.value, at + ".type", expand);
      if (!t) return t.status();
      e.types = std::move(*t);
    }
  }
  if (e.types.empty()) return bad(at + ".type", "required");
  if (e.id) e.idPattern.reset();  // 5.2.8: idPattern is ignored when id is present
  return e;
}

void writeStrings(JsonWriter& w, const std::vector<std::string>& v, const TermFn& f, bool singleAsString) {
  if (singleAsString && v.size() == 1) {
    w.String(f(v[0]));
    return;
  }
  w.StartArray();
  for (const auto& s : v) w.String(f(s));
  w.EndArray();
}

void writeEntityInfo(JsonWriter& w, const EntityInfo& e, const TermFn& compact) {
  w.StartObject();
  if (e.id) {
    w.Key("id");
    w.String(*e.id);
  }
  if (e.idPattern) {
    w.Key("idPattern");
    w.String(*e.idPattern);
  }
  w.Key("type");
  writeStrings(w, e.types, compact, true);
  w.EndObject();
}

}  // namespace allmende::federation::members
