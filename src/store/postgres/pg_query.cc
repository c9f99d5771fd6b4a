// Entity queries on PostgreSQL: an EntityQuery becomes one driving index scan -- the ids, else
// the geo box (GiST), else the value hint (attr_values), else the types, else the tenant -- and
// SQL filters on `entities` for the other carried conditions (types, attrs, box, value). The
// plan is fixed here rather than left to PostgreSQL's planner: on a fresh table without
// statistics it chose plans that walked the whole tenant for a selective q (seconds instead of
// a millisecond, measured). `match` and paging run in C++ on the candidates, unless the SQL
// selection is already exact; then PostgreSQL pages and counts.
#include <algorithm>
#include <cctype>

#include "store/postgres/pg_store_impl.h"

namespace allmende::store::postgres {

namespace {

// The value hint as a condition on `attr_values v`, or "" when its bounds mix numbers and
// strings (q compares values of one data type only, 4.9; such a term matches nothing, and the
// hint is then simply not used).
std::string valueCondition(const ValueHint& h, Params& p) {
  if (!h.anyOf.empty()) {
    std::vector<std::optional<double>> numbers;
    std::vector<std::optional<std::string>> strings;
    for (const auto& v : h.anyOf) {
      if (const double* d = std::get_if<double>(&v))
        numbers.push_back(*d);
      else
        strings.push_back(Params::bytesLiteral(std::get<std::string>(v), kValuePrefix));
    }
    std::string c;
    if (!numbers.empty()) c = "v.n = ANY(" + p.addArray(numbers) + "::float8[])";
    if (!strings.empty()) c += (c.empty() ? "" : " OR ") + ("v.s = ANY(" + p.addArray(strings) + "::bytea[])");
    return "(" + c + ")";
  }
  const bool lowerNumber = h.lower && std::holds_alternative<double>(*h.lower);
  const bool upperNumber = h.upper && std::holds_alternative<double>(*h.upper);
  if (h.lower && h.upper && lowerNumber != upperNumber) return "";
  const bool numeric = h.lower ? lowerNumber : upperNumber;
  const std::string column = numeric ? "v.n" : "v.s";
  auto bound = [&](const IndexValue& v) {
    return numeric ? p.add(std::get<double>(v)) + "::float8"
                   : p.addBytes(std::get<std::string>(v), kValuePrefix) + "::bytea";
  };
  std::string c = column + " IS NOT NULL";
  if (h.lower) c += " AND " + column + " >= " + bound(*h.lower);
  if (h.upper) c += " AND " + column + " <= " + bound(*h.upper);
  return c;
}

// A POSIX regular expression for a scope pattern (4.19), matching as query::scopeMatches:
// each level one non-empty name (`+` any), then the end, or with `/#` anything below.
std::string scopeRegex(const Prefilter& f) {
  if (f.scopeLevels.empty()) return "^/.";  // "/#": any non-empty scope
  std::string re = "^";
  for (const std::string& level : f.scopeLevels) {
    re += "/";
    if (level == "+") {
      re += "[^/]+";
      continue;
    }
    for (char ch : level) {
      if (!std::isalnum(static_cast<unsigned char>(ch)) && static_cast<unsigned char>(ch) < 0x80) re += '\\';
      re += ch;
    }
  }
  return re + (f.scopeSubtree ? "(/.*)?$" : "$");
}

// The prefilter (store.h) as an SQL condition on `entities e`.
std::string conditionOf(const Prefilter& f, Params& p) {
  using K = Prefilter::Kind;
  switch (f.kind) {
    case K::kAnd:
    case K::kOr: {
      if (f.children.empty()) return f.kind == K::kAnd ? "TRUE" : "FALSE";
      std::string c;
      for (const auto& child : f.children)
        c += (c.empty() ? "(" : (f.kind == K::kAnd ? " AND " : " OR ")) + conditionOf(child, p);
      return c + ")";
    }
    case K::kValue: {
      const std::string value = valueCondition(f.value, p);
      const std::string attr = p.add(f.value.attr);
      if (value.empty()) return "e.attrs @> ARRAY[" + attr + "::text]";
      return "EXISTS (SELECT 1 FROM attr_values v WHERE v.seq = e.seq AND v.attr = " + attr + " AND " + value + ")";
    }
    case K::kHasAttr:
      return "e.attrs @> ARRAY[" + p.add(f.attr) + "::text]";
    case K::kLacksAttr: {
      const std::string attr = p.add(f.attr);
      return "(NOT e.attrs @> ARRAY[" + attr + "::text] OR strpos((e.doc->'attrs'->" + attr +
             ")::text, '\"LanguageProperty\"') > 0)";
    }
    case K::kScope:
      // The document is parsed once per row (`json`: every `->` parses the text).
      return "EXISTS (SELECT 1 FROM (SELECT e.doc->'scope' AS sc) z, json_array_elements_text(CASE "
             "json_typeof(z.sc) WHEN 'array' THEN z.sc WHEN 'string' THEN json_build_array(z.sc) ELSE '[]'::json "
             "END) s(x) WHERE s.x ~ " +
             p.add(scopeRegex(f)) + ")";
    case K::kGeoNotInside: {
      const std::string ref = "ST_SetSRID(ST_GeomFromGeoJSON(" + p.add(f.geoJson) + "), 0)";
      // Inside the reference: the box is within it shrunk by a nanodegree (so that boundary
      // cases stay candidates); inside the buffer: a point within the distance on the sphere.
      const std::string inside = f.distance > 0 ? "(GeometryType(g.box) = 'POINT' AND ST_DWithin(g.box::geography, " +
                                                      ref + "::geography, " + p.add(f.distance) + "::float8, false))"
                                                : "ST_Within(g.box, ST_Buffer(" + ref + ", -1e-9))";
      return "EXISTS (SELECT 1 FROM geo_index g WHERE g.seq = e.seq AND g.attr = " + p.add(f.attr) + " AND NOT " +
             inside + ")";
    }
  }
  return "TRUE";
}

// SQL yielding the seqs of candidates of `f` from the value index (in any order, maybe twice),
// or "" when the index does not bound them: a value condition, an AND of which one child is
// bounded, an OR of which every child is.
std::string indexedCandidates(const Prefilter& f, const std::string& tenant, Params& p) {
  using K = Prefilter::Kind;
  switch (f.kind) {
    case K::kValue: {
      const std::string value = valueCondition(f.value, p);
      if (value.empty()) return "";
      return "SELECT v.seq FROM attr_values v WHERE v.tenant = " + tenant + " AND v.attr = " + p.add(f.value.attr) +
             " AND " + value;
    }
    case K::kAnd: {
      // The child most likely to be selective first, as SQLite's value hint does: one value,
      // then a value list or a range, then an OR of them.
      auto rank = [](const Prefilter& c) {
        if (c.kind != K::kValue) return 3;
        return c.value.anyOf.size() == 1 ? 0 : (c.value.anyOf.empty() ? 2 : 1);
      };
      for (int r = 0; r <= 3; ++r) {
        for (const auto& child : f.children) {
          if (rank(child) != r) continue;
          Params trial = p;
          std::string c = indexedCandidates(child, tenant, trial);
          if (!c.empty()) {
            p = std::move(trial);
            return c;
          }
        }
      }
      return "";
    }
    case K::kOr: {
      if (f.children.empty()) return "";
      Params trial = p;
      std::string all;
      for (const auto& child : f.children) {
        std::string c = indexedCandidates(child, tenant, trial);
        if (c.empty()) return "";
        all += (all.empty() ? "" : " UNION ALL ") + c;
      }
      p = std::move(trial);
      return all;
    }
    default:
      return "";
  }
}

// How a query reads its candidates.
struct Plan {
  enum class Driver { kIds, kCandidates, kType, kTenant } driver = Driver::kTenant;
  Params params;
  std::string tenant;      // the placeholder of the tenant
  std::string candidates;  // kCandidates: SQL yielding candidate seqs (in any order, maybe twice)
  std::string type;        // kType: the placeholder of the one type
  std::string filters;     // " AND ..." on `entities e`
  bool exact = false;      // the candidates passing `filters` are exactly the matches
};

Plan plan(const TenantId& tenant, const EntityQuery& q) {
  Plan pl;
  Params& p = pl.params;
  const std::string t = pl.tenant = p.add(tenant);
  std::string value;
  // The prefilter holds every term the value hint was taken from (and more).
  if (q.valueHint && !q.prefilter) value = valueCondition(*q.valueHint, p);
  std::string box;
  if (q.geoBox) {
    const auto& b = *q.geoBox;
    box = "g.attr = " + p.add(b.attr) + " AND g.box && ST_MakeEnvelope(" + p.add(b.minX) + ", " + p.add(b.minY) + ", " +
          p.add(b.maxX) + ", " + p.add(b.maxY) + ")";
  }
  const std::string valueAttr = value.empty() ? "" : p.add(q.valueHint->attr);
  const std::string types = q.typeIris.empty() ? "" : p.addArray(q.typeIris) + "::text[]";
  bool typesDrive = false, boxDrives = false, valueDrives = false;
  if (!q.ids.empty()) {
    pl.driver = Plan::Driver::kIds;
    pl.filters = " AND e.id = ANY(" + p.addArray(q.ids) + "::text[])";
  } else if (!box.empty()) {
    pl.driver = Plan::Driver::kCandidates;
    pl.candidates = "SELECT g.seq FROM geo_index g WHERE g.tenant = " + t + " AND " + box;
    boxDrives = true;
  } else if (std::string c = q.prefilter ? indexedCandidates(*q.prefilter, t, p) : ""; !c.empty()) {
    pl.driver = Plan::Driver::kCandidates;
    pl.candidates = std::move(c);
  } else if (!value.empty()) {
    pl.driver = Plan::Driver::kCandidates;
    pl.candidates =
        "SELECT v.seq FROM attr_values v WHERE v.tenant = " + t + " AND v.attr = " + valueAttr + " AND " + value;
    valueDrives = true;
  } else if (q.typeIris.size() == 1) {
    pl.driver = Plan::Driver::kType;
    pl.type = p.add(q.typeIris[0]);
    typesDrive = true;
  } else if (!q.typeIris.empty()) {
    pl.driver = Plan::Driver::kCandidates;
    pl.candidates = "SELECT y.seq FROM entity_types y WHERE y.tenant = " + t + " AND y.type = ANY(" + types + ")";
    typesDrive = true;
  }
  if (!types.empty() && !typesDrive) {
    pl.filters += " AND EXISTS (SELECT 1 FROM entity_types y WHERE y.tenant = e.tenant AND y.type = ANY(" + types +
                  ") AND y.seq = e.seq)";
  }
  // Keyset paging (EntityQuery::after): positions are seqs.
  if (q.after > 0) pl.filters += " AND e.seq > " + p.add(q.after);
  if (!q.attrs.empty()) pl.filters += " AND e.attrs && " + p.addArray(q.attrs) + "::text[]";
  if (!box.empty() && !boxDrives)
    pl.filters += " AND EXISTS (SELECT 1 FROM geo_index g WHERE g.seq = e.seq AND " + box + ")";
  if (!value.empty() && !valueDrives) {
    pl.filters += " AND EXISTS (SELECT 1 FROM attr_values v WHERE v.seq = e.seq AND v.attr = " + valueAttr + " AND " +
                  value + ")";
  }
  // q, scopeQ and the geo-queries without a box in SQL: only candidates leave the database.
  if (q.prefilter) pl.filters += " AND " + conditionOf(*q.prefilter, p);
  pl.exact =
      q.selectionExact && (!q.match || (q.prefilter && q.prefilterExact)) && !q.geoBox && (!q.valueHint || q.prefilter);
  return pl;
}

// Runs `match` and the paging of `q` over documents in seq order; false from `add` ends early.
class Pager {
 public:
  explicit Pager(const EntityQuery& q) : q_(q) {}
  // Whether the page is complete and no count is wanted (the caller may stop reading).
  bool done() const { return !q_.count && matched_ >= q_.offset + q_.limit; }
  Status add(const char* text, int64_t seq) {
    scratch_.SetNull();
    ALLMENDE_RETURN_IF_ERROR(parseDoc(text, scratch_));
    if (!hasAnyType(scratch_, q_.typeIris) || !hasAnyAttribute(scratch_, q_.attrs)) return Status::ok();
    if (q_.match && !q_.match(scratch_)) return Status::ok();
    if (matched_ >= q_.offset && matched_ < q_.offset + q_.limit) {
      result_.entities.emplace_back();
      result_.entities.back().CopyFrom(scratch_, result_.entities.back().GetAllocator());
      result_.cursor = seq;
    }
    ++matched_;
    return Status::ok();
  }
  QueryResult finish() {
    if (q_.count) result_.total = matched_;
    return std::move(result_);
  }

 private:
  const EntityQuery& q_;
  QueryResult result_;
  size_t matched_ = 0;
  JsonDocument scratch_;
};

// The FROM and WHERE of a streamed driver (kIds, kType, kTenant) over `entities e`.
std::string streamFrom(const Plan& pl) {
  if (pl.driver == Plan::Driver::kType) {
    return " FROM entity_types y JOIN entities e ON e.tenant = y.tenant AND e.seq = y.seq WHERE y.tenant = " +
           pl.tenant + " AND y.type = " + pl.type + pl.filters;
  }
  return " FROM entities e WHERE e.tenant = " + pl.tenant + pl.filters;
}

}  // namespace

Result<QueryResult> PgStore::queryEntities(const TenantId& tenant, const EntityQuery& q) {
  auto lease = pool_.lease();
  if (!lease) return lease.status();
  Connection& c = **lease;
  Plan pl = plan(tenant, q);
  const std::string order = pl.driver == Plan::Driver::kType ? "y.seq" : "e.seq";
  if (pl.driver == Plan::Driver::kCandidates) {
    // The candidates' seqs, then those passing the SQL filters, in order; documents in chunks.
    auto cand = c.run("SELECT DISTINCT seq FROM (" + pl.candidates + ") k", pl.params);
    if (!cand) return cand.status();
    std::vector<int64_t> seqs;
    seqs.reserve(static_cast<size_t>(cand->rows()));
    for (int i = 0; i < cand->rows(); ++i) seqs.push_back(cand->int64(i, 0));
    // The SQL filters repeat what `match` checks (types, attrs, q, ...); on index-driven
    // candidates they are run only when nothing else will check them (an exact selection is
    // counted without reading documents): measured over 100,000 entities, filtering a few
    // thousand candidates in SQL cost more than reading them (bench/postgres_q).
    if (pl.exact && !pl.filters.empty() && !seqs.empty()) {
      Params p = pl.params;
      auto passing = c.run("SELECT e.seq FROM entities e WHERE e.tenant = " + pl.tenant + " AND e.seq = ANY(" +
                               p.addArray(seqs) + "::bigint[])" + pl.filters,
                           p);
      if (!passing) return passing.status();
      seqs.clear();
      for (int i = 0; i < passing->rows(); ++i) seqs.push_back(passing->int64(i, 0));
    }
    std::sort(seqs.begin(), seqs.end());
    seqs.erase(seqs.begin(), std::upper_bound(seqs.begin(), seqs.end(), q.after));
    size_t from = 0;
    std::optional<size_t> total;
    if (pl.exact) {  // every seq is a match: only the page's documents are read
      total = seqs.size();
      from = std::min(q.offset, seqs.size());
      seqs.resize(std::min(seqs.size(), from + q.limit));
    }
    EntityQuery page = q;
    if (pl.exact) page = EntityQuery{}, page.limit = q.limit;
    Pager pager(page);
    for (size_t i = from; i < seqs.size() && !pager.done();) {
      const size_t n = std::min<size_t>(seqs.size() - i, i == from ? 64 : 1024);
      Params p;
      const std::string t = p.add(tenant);
      auto docs = c.run("SELECT e.seq, e.doc FROM entities e WHERE e.tenant = " + t + " AND e.seq = ANY(" +
                            p.addArray(std::vector<int64_t>(seqs.begin() + static_cast<std::ptrdiff_t>(i),
                                                            seqs.begin() + static_cast<std::ptrdiff_t>(i + n))) +
                            "::bigint[]) ORDER BY e.seq",
                        p);
      if (!docs) return docs.status();
      for (int r = 0; r < docs->rows() && !pager.done(); ++r)
        ALLMENDE_RETURN_IF_ERROR(pager.add(docs->cstr(r, 1), docs->int64(r, 0)));
      i += n;
    }
    QueryResult out = pager.finish();
    if (total) out.total = total;
    return out;
  }
  if (pl.exact) {
    // The database selects exactly: it pages and counts.
    QueryResult result;
    if (q.count) {
      auto n = c.run("SELECT count(*)" + streamFrom(pl), pl.params);
      if (!n) return n.status();
      result.total = static_cast<size_t>(n->int64(0, 0));
    }
    Params p = pl.params;
    auto r = c.run("SELECT e.seq, e.doc" + streamFrom(pl) + " ORDER BY " + order + " LIMIT " +
                       p.add(static_cast<int64_t>(q.limit)) + " OFFSET " + p.add(static_cast<int64_t>(q.offset)),
                   p);
    if (!r) return r.status();
    for (int i = 0; i < r->rows(); ++i) {
      result.entities.emplace_back();
      ALLMENDE_RETURN_IF_ERROR(parseDoc(r->cstr(i, 1), result.entities.back()));
      result.cursor = r->int64(i, 0);
    }
    return result;
  }
  // Streamed in seq order, in chunks after the last seq seen (no cursor: `match` may read
  // linked entities on this connection between chunks).
  Pager pager(q);
  int64_t last = -1;
  int64_t chunk = static_cast<int64_t>(std::clamp<size_t>(q.offset + q.limit, 16, 256));
  for (;;) {
    Params p = pl.params;
    auto r = c.run("SELECT " + order + ", e.doc" + streamFrom(pl) + " AND " + order + " > " + p.add(last) +
                       " ORDER BY " + order + " LIMIT " + p.add(chunk),
                   p);
    if (!r) return r.status();
    for (int i = 0; i < r->rows() && !pager.done(); ++i) {
      last = r->int64(i, 0);
      ALLMENDE_RETURN_IF_ERROR(pager.add(r->cstr(i, 1), last));
    }
    if (pager.done() || r->rows() < chunk) break;
    chunk = std::min<int64_t>(chunk * 4, 4096);
  }
  return pager.finish();
}

}  // namespace allmende::store::postgres
