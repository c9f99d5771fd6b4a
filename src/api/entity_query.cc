#include "api/entity_query.h"

#include <regex>
#include <unordered_map>

#include "api/call.h"
#include "geo/geo_filter.h"
#include "geo/geo_query.h"
#include "model/expand.h"
#include "query/q.h"
#include "query/scope_query.h"
#include "query/type_selector.h"

namespace allmende::api {

namespace {

constexpr size_t kMaxIdPatternLength = 256;  // std::regex backtracks: keep hostile patterns small

struct CompiledSelector {
  std::vector<std::string> ids;
  std::optional<std::regex> idPattern;
  std::optional<query::TypeSelector> type;

  bool matches(const Json& e) const {
    std::string_view id = asView(e["id"]);
    if (!ids.empty() && std::find(ids.begin(), ids.end(), id) == ids.end()) return false;
    if (idPattern && !std::regex_search(id.begin(), id.end(), *idPattern)) return false;
    if (type && !query::evaluate(*type, e["type"])) return false;
    return true;
  }
};

// Everything the match predicate needs, owned together.
struct CompiledQuery {
  std::vector<CompiledSelector> selectors;
  std::optional<query::QueryExpr> q;
  std::optional<query::ScopeQuery> scopeQ;
  std::optional<geo::GeoFilter> geo;
  // Linked entities looked up while evaluating q (4.9 linked-entity terms), per query.
  store::Store* store = nullptr;
  store::TenantId tenant;
  std::unordered_map<std::string, std::unique_ptr<JsonDocument>> linked;

  const Json* lookup(std::string_view id) {
    auto it = linked.find(std::string(id));
    if (it == linked.end()) {
      auto r = store->getEntity(tenant, std::string(id));
      it = linked.emplace(std::string(id), r ? std::make_unique<JsonDocument>(std::move(r).value()) : nullptr).first;
    }
    return it->second.get();
  }

  bool matches(const Json& e) {
    if (!selectors.empty() &&
        std::none_of(selectors.begin(), selectors.end(), [&](const CompiledSelector& s) { return s.matches(e); }))
      return false;
    if (scopeQ) {
      const Json* scope = findMember(e, "scope");
      static const Json kEmpty(rapidjson::kArrayType);
      if (!query::evaluate(*scopeQ, scope ? *scope : kEmpty)) return false;
    }
    if (geo && !geoMatches(e)) return false;
    if (q && !query::evaluate(*q, e, [this](std::string_view id) { return lookup(id); })) return false;
    return true;
  }

  bool geoMatches(const Json& e) const {
    const Json* attrs = findMember(e, "attrs");
    const Json* attr = attrs ? findMember(*attrs, geo->query().geoproperty) : nullptr;
    if (!attr || !attr->IsArray()) return false;
    for (const auto& inst : attr->GetArray()) {
      const Json* v = findMember(inst, "value");
      if (v && geo->matches(*v)) return true;
    }
    return false;
  }
};

// The index value of a q literal; nullopt for kinds the value index does not order like q does
// (dates and times compare temporally, not as text).
std::optional<store::IndexValue> indexValueOf(const query::Value& v) {
  switch (v.kind) {
    case query::ValueKind::kNumber:
      return v.number;
    case query::ValueKind::kBoolean:
      return v.boolean ? 1.0 : 0.0;
    case query::ValueKind::kString:
    case query::ValueKind::kUri:
      return v.text;
    default:
      return std::nullopt;
  }
}

// A value index hint from one q term on a plain attribute (no sub-attribute, member, compound
// key or linked entity), or nullopt.
std::optional<store::ValueHint> hintOfTerm(const query::QueryTerm& t) {
  const query::AttrPath& p = t.path;
  if (p.names.size() != 1 || !p.member.empty() || !p.keys.empty() || p.linked) return std::nullopt;
  store::ValueHint h;
  h.attr = p.names[0];
  auto bound = [&](size_t i) { return t.values.size() > i ? indexValueOf(t.values[i]) : std::nullopt; };
  // A string literal is compared as written with most kinds and expanded with VocabProperty.
  bool expandedDiffers = std::any_of(t.values.begin(), t.values.end(), [](const query::Value& v) {
    return (v.kind == query::ValueKind::kString || v.kind == query::ValueKind::kUri) && v.expanded != v.text;
  });
  switch (t.op) {
    case query::Operator::kEqual:
      if (t.range) {
        if (expandedDiffers) return std::nullopt;
        h.lower = bound(0);
        h.upper = bound(1);
        if (!h.lower || !h.upper) return std::nullopt;
        return h;
      }
      for (const auto& v : t.values) {
        auto iv = indexValueOf(v);
        if (!iv) return std::nullopt;
        h.anyOf.push_back(*iv);
        if ((v.kind == query::ValueKind::kString || v.kind == query::ValueKind::kUri) && v.expanded != v.text)
          h.anyOf.push_back(v.expanded);
      }
      return h;
    case query::Operator::kGreater:
    case query::Operator::kGreaterEq:
      if (expandedDiffers || !(h.lower = bound(0))) return std::nullopt;
      return h;
    case query::Operator::kLess:
    case query::Operator::kLessEq:
      if (expandedDiffers || !(h.upper = bound(0))) return std::nullopt;
      return h;
    default:
      return std::nullopt;
  }
}

// The first term of q (q itself, or a member of its top-level AND) that yields a hint. Every
// entity matching q satisfies that term, so the hint is a necessary condition.
std::optional<store::ValueHint> valueHintOf(const query::QueryExpr& q) {
  if (q.kind == query::QueryExpr::Kind::kTerm) return hintOfTerm(q.term);
  if (q.kind != query::QueryExpr::Kind::kAnd) return std::nullopt;
  std::optional<store::ValueHint> best;
  for (const auto& child : q.children) {
    if (child.kind != query::QueryExpr::Kind::kTerm) continue;
    auto h = hintOfTerm(child.term);
    // Prefer equality (it streams in order) over ranges.
    if (h && (!best || (best->anyOf.empty() && h->anyOf.size() == 1))) best = std::move(h);
  }
  return best;
}

// The necessary condition of a q expression for the store (store::Prefilter); `exact` is
// cleared, since no term's condition is exact: `a` and `!a` on a plain attribute become its
// presence and absence (a LanguageProperty with an empty languageMap is present, yet its target
// does not exist), a comparison a value index condition (hintOfTerm), any other term but
// `!a...` the presence of the attribute it needs (4.9: an instance of its first attribute).
store::Prefilter prefilterOf(const query::QueryExpr& q, bool& exact) {
  using K = store::Prefilter::Kind;
  store::Prefilter f;
  if (q.kind != query::QueryExpr::Kind::kTerm) {
    const bool isAnd = q.kind == query::QueryExpr::Kind::kAnd;
    f.kind = isAnd ? K::kAnd : K::kOr;
    for (const auto& child : q.children) {
      store::Prefilter c = prefilterOf(child, exact);
      const bool alwaysTrue = c.kind == K::kAnd && c.children.empty();
      if (alwaysTrue && !isAnd) return c;  // an OR with a condition-less branch: no condition
      if (!alwaysTrue) f.children.push_back(std::move(c));
    }
    return f;
  }
  const query::QueryTerm& t = q.term;
  const query::AttrPath& p = t.path;
  const bool plain = p.names.size() == 1 && p.member.empty() && p.keys.empty() && !p.linked;
  f.attr = p.names[0];
  exact = false;
  if (plain && (t.op == query::Operator::kExists || t.op == query::Operator::kNotExists)) {
    f.kind = t.op == query::Operator::kExists ? K::kHasAttr : K::kLacksAttr;
    return f;
  }
  if (t.op == query::Operator::kNotExists) return store::Prefilter{};  // true
  if (auto h = hintOfTerm(t)) {
    f.kind = K::kValue;
    f.value = std::move(*h);
    return f;
  }
  f.kind = K::kHasAttr;
  return f;
}

// The scopeQ as a prefilter: exact.
store::Prefilter prefilterOf(const query::ScopeQuery& q) {
  store::Prefilter f;
  switch (q.kind) {
    case query::ScopeQuery::Kind::kLeaf:
      f.kind = store::Prefilter::Kind::kScope;
      f.scopeLevels = q.pattern.levels;
      f.scopeSubtree = q.pattern.subtree;
      return f;
    case query::ScopeQuery::Kind::kAnd:
    case query::ScopeQuery::Kind::kOr:
      f.kind = q.kind == query::ScopeQuery::Kind::kAnd ? store::Prefilter::Kind::kAnd : store::Prefilter::Kind::kOr;
      for (const auto& c : q.children) f.children.push_back(prefilterOf(c));
      return f;
  }
  return f;
}

// The geo-queries without a search box (geoBox): disjoint and near;minDistance. A matching
// entity has an instance not inside the reference (disjoint) or not inside the buffer of the
// minimum distance, taken with the search box's slack (1 % and 1 m) so that the database's
// distances, not computed as geo/distance.h does, never lose a match.
std::optional<store::Prefilter> prefilterOf(const geo::GeoQuery& g) {
  if (g.georel != geo::GeoRel::kDisjoint && !g.minDistance) return std::nullopt;
  store::Prefilter f;
  f.kind = store::Prefilter::Kind::kGeoNotInside;
  f.attr = g.geoproperty;
  JsonDocument doc;
  Json geometry = geo::toGeoJson(g.geometry, doc.GetAllocator());
  f.geoJson = toJsonString(geometry);
  if (g.minDistance) {
    f.distance = *g.minDistance * 0.99 - 1;
    if (f.distance <= 0) {
      f.kind = store::Prefilter::Kind::kHasAttr;  // just an instance
      f.distance = 0;
    }
  }
  return f;
}

// A type selection that is one type or an OR of types (4.17 `A,B` / `A|B`).
bool isUnionOfTypes(const query::TypeSelector& t) {
  if (t.kind == query::TypeSelector::Kind::kLeaf) return true;
  if (t.kind != query::TypeSelector::Kind::kOr) return false;
  return std::all_of(t.children.begin(), t.children.end(), isUnionOfTypes);
}

}  // namespace

std::vector<std::string> splitList(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) out.push_back(std::move(item));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

Result<QueryFilters> filtersFromParams(const Call& call) {
  QueryFilters f;
  Selector sel;
  if (auto* v = call.param("id")) sel.ids = splitList(*v);
  if (auto* v = call.param("idPattern")) sel.idPattern = *v;
  if (auto* v = call.param("type")) sel.type = *v;
  if (!sel.ids.empty() || !sel.idPattern.empty() || !sel.type.empty()) f.selectors.push_back(std::move(sel));
  if (auto* v = call.param("attrs")) f.attrs = splitList(*v);
  if (auto* v = call.param("q")) f.q = *v;
  if (auto* v = call.param("scopeQ")) f.scopeQ = *v;
  if (auto* v = call.param("georel")) f.georel = *v;
  if (auto* v = call.param("geometry")) f.geometry = *v;
  if (auto* v = call.param("coordinates")) f.coordinates = *v;
  if (auto* v = call.param("geoproperty")) f.geoproperty = *v;
  return f;
}

Result<QueryFilters> filtersFromQueryObject(const Json& body) {
  if (!body.IsObject()) return badRequestData("the query must be a JSON object");
  if (const Json* t = findMember(body, "type"); t && (!t->IsString() || asView(*t) != "Query"))
    return badRequestData("the type of a query must be 'Query'");
  QueryFilters f;
  auto str = [](const Json& o, const char* name, std::string& out) -> Status {
    const Json* v = findMember(o, name);
    if (!v) return Status::ok();
    if (!v->IsString()) return badRequestData(std::string(name) + " must be a string");
    out = std::string(asView(*v));
    return Status::ok();
  };
  if (const Json* ents = findMember(body, "entities")) {
    if (!ents->IsArray()) return badRequestData("entities must be an array of EntitySelector");
    for (const auto& e : ents->GetArray()) {
      if (!e.IsObject()) return badRequestData("an EntitySelector must be an object");
      Selector s;
      std::string id;
      ALLMENDE_RETURN_IF_ERROR(str(e, "id", id));
      if (!id.empty()) s.ids.push_back(id);
      ALLMENDE_RETURN_IF_ERROR(str(e, "idPattern", s.idPattern));
      ALLMENDE_RETURN_IF_ERROR(str(e, "type", s.type));
      f.selectors.push_back(std::move(s));
    }
  }
  if (const Json* attrs = findMember(body, "attrs")) {
    if (!attrs->IsArray()) return badRequestData("attrs must be an array of strings");
    for (const auto& a : attrs->GetArray()) {
      if (!a.IsString()) return badRequestData("attrs must be an array of strings");
      f.attrs.emplace_back(asView(a));
    }
  }
  ALLMENDE_RETURN_IF_ERROR(str(body, "q", f.q));
  ALLMENDE_RETURN_IF_ERROR(str(body, "scopeQ", f.scopeQ));
  if (const Json* g = findMember(body, "geoQ")) f.geoQJson = g;
  return f;
}

Result<store::EntityQuery> planEntityQuery(const QueryFilters& f, const ld::Context& ctx, store::Store& store,
                                           const store::TenantId& tenant) {
  auto state = std::make_shared<CompiledQuery>();
  state->store = &store;
  state->tenant = tenant;
  query::ExpandFn expand = [&ctx](std::string_view term) { return ctx.expandTerm(term); };
  store::EntityQuery out;

  bool allHaveIds = !f.selectors.empty(), allHaveTypes = !f.selectors.empty();
  for (const auto& s : f.selectors) {
    CompiledSelector c;
    c.ids = s.ids;
    if (!s.idPattern.empty()) {
      if (s.idPattern.size() > kMaxIdPatternLength)
        return Status(ErrorType::kTooComplexQuery, "idPattern longer than " + std::to_string(kMaxIdPatternLength));
      try {
        c.idPattern.emplace(s.idPattern, std::regex::ECMAScript | std::regex::optimize);
      } catch (const std::regex_error& e) {
        return badRequestData("invalid idPattern: " + std::string(e.what()));
      }
    }
    if (!s.type.empty()) {
      auto t = query::parseTypeSelector(s.type, expand);
      if (!t) return t.status();
      for (auto& iri : query::mentionedTypes(*t)) out.typeIris.push_back(iri);
      c.type = std::move(t).value();
    }
    allHaveIds = allHaveIds && !s.ids.empty() && s.idPattern.empty();
    allHaveTypes = allHaveTypes && c.type.has_value();
    for (const auto& id : s.ids) out.ids.push_back(id);
    state->selectors.push_back(std::move(c));
  }
  // Index hints are only safe when every selector constrains them.
  if (!allHaveIds) out.ids.clear();
  if (!allHaveTypes) out.typeIris.clear();
  // With no selector, or one that is just ids or just an OR of types, the index answers the
  // selection exactly and the selector needs no check per entity.
  if (f.selectors.empty()) {
    out.selectionExact = true;
  } else if (f.selectors.size() == 1 && f.selectors[0].idPattern.empty()) {
    const CompiledSelector& only = state->selectors[0];
    bool justIds = !only.ids.empty() && !only.type;
    bool justTypes = only.ids.empty() && only.type && isUnionOfTypes(*only.type);
    if (justIds || justTypes) {
      out.selectionExact = true;
      state->selectors.clear();
    }
  }

  for (const auto& a : f.attrs) {
    auto iri = model::expandAttributeName(a, ctx);
    if (!iri) return iri.status();
    out.attrs.push_back(*iri);
  }
  if (!f.q.empty()) {
    auto q = query::parseQ(f.q, expand);
    if (!q) return q.status();
    state->q = std::move(q).value();
    out.valueHint = valueHintOf(*state->q);
  }
  if (!f.scopeQ.empty()) {
    auto s = query::parseScopeQ(f.scopeQ);
    if (!s) return s.status();
    state->scopeQ = std::move(s).value();
  }
  bool anyGeoParam = !f.georel.empty() || !f.geometry.empty() || !f.coordinates.empty();
  if (f.geoQJson || anyGeoParam) {
    Result<geo::GeoQuery> g = [&]() -> Result<geo::GeoQuery> {
      if (f.geoQJson) return geo::parseGeoQuery(*f.geoQJson, expand);
      if (f.georel.empty() || f.geometry.empty() || f.coordinates.empty())
        return badRequestData("a geo-query needs georel, geometry and coordinates");
      return geo::parseGeoQuery(f.georel, f.geometry, f.coordinates,
                                f.geoproperty.empty() ? std::string() : ctx.expandTerm(f.geoproperty));
    }();
    if (!g) return g.status();
    state->geo.emplace(std::move(g).value());
    if (auto box = state->geo->searchBox()) {
      out.geoBox = store::EntityQuery::Box{state->geo->query().geoproperty, box->minX, box->minY, box->maxX, box->maxY};
    }
  }
  if (!state->selectors.empty() || state->q || state->scopeQ || state->geo) {
    out.match = [state](const Json& e) { return state->matches(e); };
  }
  // The condition a database can evaluate itself (the PostgreSQL store does).
  bool exact = state->selectors.empty() && !state->geo;
  store::Prefilter pre;
  if (state->q) pre.children.push_back(prefilterOf(*state->q, exact));
  if (state->scopeQ) pre.children.push_back(prefilterOf(*state->scopeQ));
  if (state->geo) {
    if (auto g = prefilterOf(state->geo->query())) pre.children.push_back(std::move(*g));
  }
  if (!pre.children.empty()) {
    out.prefilter = std::move(pre);
    out.prefilterExact = exact;
  }
  return out;
}

// limit / offset / count of a query (NGSI-LD 5.5.9, 6.3.10).
Status readPaging(const Call& call, store::EntityQuery& q) {
  auto number = [&](const char* name, size_t& out) -> Status {
    const std::string* v = call.param(name);
    if (!v) return Status::ok();
    if (v->empty() || v->size() > 9 || v->find_first_not_of("0123456789") != std::string::npos)
      return badRequestData(std::string(name) + " must be a non-negative integer");
    out = std::stoul(*v);
    return Status::ok();
  };
  const ApiOptions& opts = call.services().options;
  q.limit = opts.defaultLimit;
  ALLMENDE_RETURN_IF_ERROR(number("limit", q.limit));
  ALLMENDE_RETURN_IF_ERROR(number("offset", q.offset));
  if (q.limit > opts.maxLimit) {
    return Status(ErrorType::kTooManyResults, "limit " + std::to_string(q.limit) + " exceeds the maximum page size " +
                                                  std::to_string(opts.maxLimit));
  }
  if (const std::string* c = call.param("count")) {
    if (*c != "true" && *c != "false") return badRequestData("count must be true or false");
    q.count = *c == "true";
  }
  return Status::ok();
}

}  // namespace allmende::api
