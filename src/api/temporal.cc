// The temporal API, reads (NGSI-LD 6.18.3.2, 6.19.3.1, 6.24: query, retrieve, POST query).
// Entities are selected as by the entity query (api/entity_query.cc, on their current state);
// their history comes from the store's TemporalStore.
#include <limits>

#include "api/entity_query.h"
#include "api/handlers.h"
#include "api/problem.h"
#include "api/temporal_page.h"
#include "api/temporal_params.h"
#include "api/temporal_render.h"
#include "model/entity.h"
#include "model/expand.h"

namespace allmende::api {

namespace {

// The attribute names of `attrs` (terms), expanded.
Result<std::vector<std::string>> expandedAttrs(const std::vector<std::string>& terms, const ld::Context& ctx) {
  std::vector<std::string> out;
  for (const auto& t : terms) {
    auto iri = model::expandAttributeName(t, ctx);
    if (!iri) return iri.status();
    out.push_back(*iri);
  }
  return out;
}

// The history of one entity for a non-aggregated answer; ResourceNotFound when it has none.
Result<store::TemporalEntity> fetchHistory(Call& call, store::TemporalStore& t, const std::string& id,
                                           const std::vector<std::string>& attrs, const TemporalParams& p,
                                           const std::optional<std::string>& datasetId) {
  store::InstanceQuery q;
  q.time = p.time;
  q.attrs = attrs;
  q.datasetId = datasetId;
  const size_t page = call.services().options.maxTemporalInstances;
  q.limit = std::min(p.lastN.value_or(page), page);
  q.fromEnd = p.lastN.has_value();
  auto h = t.history(call.tenant(), id, q);
  if (!h) return h.status();
  // A lastN within the page is a complete answer, not a partial one.
  if (p.lastN && *p.lastN <= page) {
    for (auto& a : h->attrs) a.truncated = false;
  }
  return h;
}

// One entity's aggregated representation as JSON text; ResourceNotFound when it has no history.
Result<std::string> aggregatedJson(Call& call, store::TemporalStore& t, const std::string& id,
                                   const std::vector<std::string>& attrs, const TemporalParams& p) {
  store::AggregationQuery q;
  q.time = p.time;
  q.attrs = attrs;
  q.methods = p.methods;
  q.period = p.period;
  auto a = t.aggregate(call.tenant(), id, q);
  if (!a) return a.status();
  JsonBuffer buf;
  JsonWriter w(buf);
  renderAggregated(call, *a, p, w);
  return std::string(buf.GetString(), buf.GetSize());
}

std::string temporalJson(const Call& call, const store::TemporalEntity& e, const TemporalParams& p) {
  JsonBuffer buf;
  JsonWriter w(buf);
  renderTemporal(call, e, p, w);
  return std::string(buf.GetString(), buf.GetSize());
}

Status readCallBasics(Call& call) {
  ALLMENDE_RETURN_IF_ERROR(call.resolveTenant(false));
  ALLMENDE_RETURN_IF_ERROR(call.negotiate(false));
  return Status::ok();
}

// A temporal query over the entities selected by `filters`.
http::Response answerTemporalQuery(Call& call, const QueryFilters& filters, const TemporalParams& p) {
  bool anyFilter = !filters.selectors.empty() || !filters.attrs.empty() || !filters.q.empty() ||
                   !filters.scopeQ.empty() || !filters.georel.empty() || filters.geoQJson;
  const std::string* local = call.param("local");
  if (!anyFilter && !(local && *local == "true")) {
    return problemResponse(badRequestData(
        "a temporal query needs at least one of id, idPattern, type, attrs, q, geoQ or scopeQ (or local=true)"));
  }
  auto t = temporalStore(call);
  if (!t) return problemResponse(t.status());
  auto attrs = expandedAttrs(filters.attrs, call.context());
  if (!attrs) return problemResponse(attrs.status());
  // attrs name the attributes whose history is wanted; the entity need not have them now
  // (they may have been deleted), unless they are the only selection.
  QueryFilters selection = filters;
  if (!selection.selectors.empty()) selection.attrs.clear();
  auto q = planEntityQuery(selection, call.context(), call.services().store, call.tenant());
  if (!q) return problemResponse(q.status());
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(readPaging(call, *q));
  auto entities = call.services().store.queryEntities(call.tenant(), *q);
  if (!entities) return problemResponse(entities.status());
  // Histories are collected first: the page is cut at one instant across all of them.
  std::vector<std::string> parts;
  std::vector<store::TemporalEntity> histories;
  for (const auto& e : entities->entities) {
    const std::string id(asView(e["id"]));
    if (p.format == TemporalFormat::kAggregated) {
      auto one = aggregatedJson(call, **t, id, *attrs, p);
      if (one)
        parts.push_back(std::move(one).value());
      else if (one.status().type() != ErrorType::kResourceNotFound)
        return problemResponse(one.status());
      continue;
    }
    auto h = fetchHistory(call, **t, id, *attrs, p, std::nullopt);
    if (h)
      histories.push_back(std::move(h).value());
    else if (h.status().type() != ErrorType::kResourceNotFound)
      return problemResponse(h.status());  // else: no history
  }
  TemporalPage page = cutPage(histories, p);
  for (const auto& h : histories) parts.push_back(temporalJson(call, h, p));
  std::string body = "[";
  for (const auto& part : parts) body += (body.size() > 1 ? "," : "") + part;
  body += "]";
  http::Response r = call.jsonResponse(200, std::move(body));
  if (entities->total) r.setHeader("NGSILD-Results-Count", std::to_string(*entities->total));
  addPageHeaders(r, page, p);
  return r;
}

}  // namespace

http::Response queryTemporal(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(readCallBasics(call));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.resolveContextFromLink());
  auto p = temporalParamsFromUrl(call);
  if (!p) return problemResponse(p.status());
  auto filters = filtersFromParams(call);
  if (!filters) return problemResponse(filters.status());
  return answerTemporalQuery(call, *filters, *p);
}

http::Response queryTemporalPost(Call& call) {
  // NGSI-LD 6.24: a Query object with temporalQ; paging and representation in the URL.
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(readCallBasics(call));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.parseBody());
  auto filters = filtersFromQueryObject(call.body());
  if (!filters) return problemResponse(filters.status());
  auto p = temporalParamsFromQuery(call, findMember(call.body(), "temporalQ"));
  if (!p) return problemResponse(p.status());
  return answerTemporalQuery(call, *filters, *p);
}

http::Response retrieveTemporal(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(readCallBasics(call));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.resolveContextFromLink());
  const std::string& id = call.pathParam("entityId");
  if (!model::isUri(id)) return problemResponse(badRequestData("entity id '" + id + "' is not a URI"));
  // As the retrieval of an entity: `type` names what the entity must be now (404 otherwise). The
  // anonymous public read relies on it (api/public_read.cc).
  if (const std::string* type = call.param("type")) {
    auto e = call.services().store.getEntity(call.tenant(), id);
    if (!e) return problemResponse(e.status());
    auto iri = model::expandTypeName(*type, call.context());
    if (!iri) return problemResponse(iri.status());
    bool has = false;
    for (const auto& t : (*e)["type"].GetArray()) has = has || asView(t) == *iri;
    if (!has) return problemResponse(notFound("entity " + id + " is not of type " + *type));
  }
  auto p = temporalParamsFromUrl(call);
  if (!p) return problemResponse(p.status());
  auto t = temporalStore(call);
  if (!t) return problemResponse(t.status());
  std::vector<std::string> terms;
  if (const std::string* a = call.param("attrs")) terms = splitList(*a);
  auto attrs = expandedAttrs(terms, call.context());
  if (!attrs) return problemResponse(attrs.status());
  std::optional<std::string> datasetId;
  if (const std::string* d = call.param("datasetId")) datasetId = *d == "@none" ? "" : *d;
  if (p->format == TemporalFormat::kAggregated) {
    auto body = aggregatedJson(call, **t, id, *attrs, *p);
    if (!body) return problemResponse(body.status());
    return call.jsonResponse(200, std::move(body).value());
  }
  auto h = fetchHistory(call, **t, id, *attrs, *p, datasetId);
  if (!h) return problemResponse(h.status());
  std::vector<store::TemporalEntity> one;
  one.push_back(std::move(h).value());
  TemporalPage page = cutPage(one, *p);
  http::Response r = call.jsonResponse(200, temporalJson(call, one[0], *p));
  addPageHeaders(r, page, *p);
  return r;
}

}  // namespace allmende::api
