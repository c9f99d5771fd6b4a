// Evaluation of a q AST against an entity in the internal form (docs/architecture.md).
#include <optional>
#include <string>
#include <vector>

#include "query/q.h"

namespace allmende::query {
namespace {

// Even the polynomial executor (see q_parser.cc) costs O(n^2 * m) for regex_search over a subject
// of n characters; longer subjects are treated as not matching, bounding a hostile q to
// milliseconds per value. Documented limit: a longer string matches neither ~= nor !~=.
constexpr size_t kMaxPatternSubject = 1024;

// How the target value of a term is compared (4.9).
enum class TargetKind {
  kValue,     // Property value, ListProperty valueList, JsonProperty json, a core member
  kObject,    // Relationship object / ListRelationship objectList: only == and != apply
  kVocab,     // VocabProperty: compared with the expanded query value
};

struct Target {
  TargetKind kind = TargetKind::kValue;
  std::vector<const Json*> candidates;  // scalar values; an array target contributes each element
};

void addCandidates(const Json& v, std::vector<const Json*>& out) {
  if (v.IsArray()) {
    for (const Json& e : v.GetArray()) out.push_back(&e);
  } else {
    out.push_back(&v);
  }
}

// Walks `keys` through JSON objects (4.9: the trailing path is an ECMA-262 member expression).
const Json* walkKeys(const Json* v, const std::vector<std::string>& keys) {
  for (const std::string& key : keys) {
    if (v == nullptr) return nullptr;
    v = findMember(*v, key);
  }
  return v;
}

// The target of `path` within one attribute instance, or nullopt when the target element does
// not exist.
std::optional<Target> resolve(const Json& instance, const AttrPath& path) {
  const Json* node = &instance;
  for (size_t i = 1; i < path.names.size(); ++i) {
    node = findMember(*node, path.names[i]);
    if (node == nullptr || !node->IsObject()) return std::nullopt;
  }
  Target t;
  if (!path.member.empty()) {
    const Json* m = findMember(*node, path.member);
    if (m == nullptr) return std::nullopt;
    addCandidates(*m, t.candidates);
    return t;
  }
  const Json* type = findMember(*node, "type");
  std::string_view kind = type != nullptr && type->IsString() ? asView(*type) : "";
  const Json* v = nullptr;
  if (kind == "Relationship" || kind == "ListRelationship") {
    if (!path.keys.empty()) return std::nullopt;
    t.kind = TargetKind::kObject;
    v = kind == "Relationship" ? findMember(*node, "object") : findMember(*node, "objectList");
    if (v == nullptr) return std::nullopt;
    addCandidates(*v, t.candidates);
    for (const Json*& c : t.candidates) {  // objectList elements may be {"object": iri}
      if (const Json* o = c->IsObject() ? findMember(*c, "object") : nullptr) c = o;
    }
    return t;
  }
  if (kind == "LanguageProperty") {
    // 4.9: color[en] selects one language, color[*] or no key any language.
    const Json* map = findMember(*node, "languageMap");
    if (map == nullptr || !map->IsObject() || path.keys.size() > 1) return std::nullopt;
    bool any = path.keys.empty() || path.keys[0] == "*";
    bool found = false;
    for (const auto& m : map->GetObject()) {
      if (!any && asView(m.name) != path.keys[0]) continue;
      addCandidates(m.value, t.candidates);
      found = true;
    }
    if (!found) return std::nullopt;
    return t;
  }
  if (kind == "VocabProperty") {
    if (!path.keys.empty()) return std::nullopt;
    t.kind = TargetKind::kVocab;
    v = findMember(*node, "vocab");
  } else if (kind == "ListProperty") {
    v = walkKeys(findMember(*node, "valueList"), path.keys);
  } else if (kind == "JsonProperty") {
    v = walkKeys(findMember(*node, "json"), path.keys);
  } else {
    v = walkKeys(findMember(*node, "value"), path.keys);
  }
  if (v == nullptr) return std::nullopt;
  addCandidates(*v, t.candidates);
  return t;
}

// Compares a target scalar with a query value: <0, 0, >0, or nullopt when their data types
// differ (4.9: then ordering does not match and equality is "unequal").
std::optional<int> compare(const Json& target, const Value& q, TargetKind kind) {
  auto order = [](auto a, auto b) { return a < b ? -1 : (a > b ? 1 : 0); };
  switch (q.kind) {
    case ValueKind::kNumber:
      if (!target.IsNumber()) return std::nullopt;
      return order(target.GetDouble(), q.number);
    case ValueKind::kBoolean:
      if (!target.IsBool()) return std::nullopt;
      return order(target.GetBool(), q.boolean);
    case ValueKind::kString:
    case ValueKind::kUri: {
      if (!target.IsString()) return std::nullopt;
      const std::string& text = kind == TargetKind::kVocab ? q.expanded : q.text;
      // 4.9 asks for RFC 8259 8.3 (code unit) comparison; UCA collation is not implemented.
      return order(asView(target).compare(text), 0);
    }
    case ValueKind::kDateTime:
    case ValueKind::kDate:
    case ValueKind::kTime: {
      // 4.9: "When comparing dates or times, the order relation considered shall be a temporal one."
      if (!target.IsString()) return std::nullopt;
      std::string_view s = asView(target);
      std::optional<Micros> t;
      if (q.kind == ValueKind::kTime) t = parseTime(s);
      else if (q.kind == ValueKind::kDate) t = parseDate(s);
      if (!t && q.kind != ValueKind::kTime) t = parseDateTime(s);
      if (!t) return std::nullopt;
      return order(*t, q.time);
    }
  }
  return std::nullopt;
}

bool equalsTerm(const Json& c, const QueryTerm& term, TargetKind kind) {
  if (term.range) {
    auto lo = compare(c, term.values[0], kind);
    auto hi = compare(c, term.values[1], kind);
    return lo && hi && *lo >= 0 && *hi <= 0;
  }
  for (const Value& v : term.values) {
    auto r = compare(c, v, kind);
    if (r && *r == 0) return true;
  }
  return false;
}

// Whether a string target is in L(R); nullopt when it cannot be decided (not a string, too long,
// or the regex engine gave up), which matches neither ~= nor !~=.
std::optional<bool> patternMatches(const Json& c, const QueryTerm& term) {
  if (!c.IsString() || c.GetStringLength() > kMaxPatternSubject) return std::nullopt;
  try {
    return std::regex_search(c.GetString(), c.GetString() + c.GetStringLength(), *term.regex);
  } catch (const std::regex_error&) {  // error_complexity / error_stack
    return std::nullopt;
  }
}

// The term against one resolved target (4.9 semantics of each operator).
bool matchTarget(const QueryTerm& term, const Target& t) {
  const auto& cs = t.candidates;
  auto any = [&](auto pred) { return std::any_of(cs.begin(), cs.end(), [&](const Json* c) { return pred(*c); }); };
  if (t.kind == TargetKind::kObject && term.op != Operator::kEqual && term.op != Operator::kUnequal &&
      term.op != Operator::kExists) {
    return false;  // 4.9: a Relationship with any other operator "shall result in not matching"
  }
  switch (term.op) {
    case Operator::kExists: return true;
    case Operator::kNotExists: return false;
    // 4.9: equal if identical to, or included in, the (array) target; unequal otherwise.
    case Operator::kEqual: return any([&](const Json& c) { return equalsTerm(c, term, t.kind); });
    case Operator::kUnequal: return !any([&](const Json& c) { return equalsTerm(c, term, t.kind); });
    case Operator::kGreater:
    case Operator::kGreaterEq:
    case Operator::kLess:
    case Operator::kLessEq:
      return any([&](const Json& c) {
        auto r = compare(c, term.values[0], t.kind);
        if (!r) return false;
        switch (term.op) {
          case Operator::kGreater: return *r > 0;
          case Operator::kGreaterEq: return *r >= 0;
          case Operator::kLess: return *r < 0;
          default: return *r <= 0;
        }
      });
    case Operator::kPattern: return any([&](const Json& c) { return patternMatches(c, term) == true; });
    case Operator::kNotPattern:
      // 4.9: a target value that is not a String does not match either pattern operator.
      return !cs.empty() && !any([&](const Json& c) { return patternMatches(c, term) != false; });
  }
  return false;
}

bool hasAnyType(const Json& entity, const std::vector<std::string>& types) {
  if (types.empty()) return true;
  const Json* have = findMember(entity, "type");
  if (have == nullptr) return false;
  std::vector<const Json*> names;
  addCandidates(*have, names);
  for (const Json* n : names) {
    if (n->IsString() && std::find(types.begin(), types.end(), asView(*n)) != types.end()) return true;
  }
  return false;
}

// True when some instance of the attribute satisfies the term (4.9: with several instances and
// no datasetId addressed, "the target value shall be any Value of such instances").
bool anyInstanceMatches(const QueryTerm& term, const AttrPath& path, const Json& entity, const EntityLookup& lookup);

bool linkedMatches(const QueryTerm& term, const AttrPath& path, const Json& instance, const EntityLookup& lookup) {
  AttrPath relPath;
  relPath.names = {path.names[0]};
  auto rel = resolve(instance, relPath);
  if (!rel || rel->kind != TargetKind::kObject || !lookup) return false;
  for (const Json* id : rel->candidates) {
    if (!id->IsString()) continue;
    const Json* linked = lookup(asView(*id));
    if (linked != nullptr && hasAnyType(*linked, path.linkedTypes) &&
        anyInstanceMatches(term, *path.linked, *linked, lookup)) {
      return true;
    }
  }
  return false;
}

bool anyInstanceMatches(const QueryTerm& term, const AttrPath& path, const Json& entity, const EntityLookup& lookup) {
  const Json* attrs = findMember(entity, "attrs");
  const Json* instances = attrs != nullptr ? findMember(*attrs, path.names[0]) : nullptr;
  if (instances == nullptr) return false;
  std::vector<const Json*> list;
  addCandidates(*instances, list);
  for (const Json* instance : list) {
    if (!instance->IsObject()) continue;
    if (path.linked) {
      if (linkedMatches(term, path, *instance, lookup)) return true;
      continue;
    }
    auto target = resolve(*instance, path);
    if (target && matchTarget(term, *target)) return true;
  }
  return false;
}

bool evaluateTerm(const QueryTerm& term, const Json& entity, const EntityLookup& lookup) {
  if (term.op == Operator::kNotExists) {
    QueryTerm exists;  // shallow stand-in: only op matters for existence
    exists.op = Operator::kExists;
    return !anyInstanceMatches(exists, term.path, entity, lookup);
  }
  return anyInstanceMatches(term, term.path, entity, lookup);
}

}  // namespace

bool evaluate(const QueryExpr& q, const Json& entity, const EntityLookup& lookup) {
  switch (q.kind) {
    case QueryExpr::Kind::kTerm:
      return evaluateTerm(q.term, entity, lookup);
    case QueryExpr::Kind::kAnd:
      for (const auto& c : q.children) {
        if (!evaluate(c, entity, lookup)) return false;
      }
      return true;
    case QueryExpr::Kind::kOr:
      for (const auto& c : q.children) {
        if (evaluate(c, entity, lookup)) return true;
      }
      return false;
  }
  return false;
}

}  // namespace allmende::query
