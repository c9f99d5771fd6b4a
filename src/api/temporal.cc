// The temporal API, reads (NGSI-LD 6.18.3.2, 6.19.3.1, 6.24: query, retrieve, POST query).
// Entities are selected as by the entity query (api/entity_query.cc, on their current state);
// their history comes from the store's TemporalStore.
#include <limits>

#include "api/entity_query.h"
#include "api/handlers.h"
#include "api/problem.h"
#include "api/temporal_render.h"
#include "model/entity.h"
#include "model/expand.h"

namespace allmende::api {

namespace {

Result<store::TemporalStore*> temporalStore(Call& call) {
  store::TemporalStore* t = call.services().store.temporal();
  if (!t) return Status(ErrorType::kOperationNotSupported, "this store keeps no history");
  return t;
}

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

// The page of one answer, for Content-Range (NGSI-LD 6.3.10): the time range the returned
// instances cover when some attribute had more than the page.
struct TemporalPage {
  bool partial = false;
  Micros from = std::numeric_limits<Micros>::max(), to = std::numeric_limits<Micros>::min();
};

void notePage(const store::TemporalEntity& e, const TemporalParams& p, TemporalPage& page) {
  for (const auto& a : e.attrs) {
    if (!a.truncated || a.instances.empty()) continue;
    page.partial = true;
    auto time = [&](const store::StoredInstance& i) {
      return p.time.property == store::TimeFilter::Property::kObservedAt ? i.h.observedAt.value_or(i.h.recordedAt)
                                                                         : i.h.recordedAt;
    };
    page.from = std::min(page.from, time(a.instances.front()));
    page.to = std::max(page.to, time(a.instances.back()));
  }
}

// One entity's temporal representation as JSON text; ResourceNotFound when it has no history.
Result<std::string> renderOneTemporal(Call& call, store::TemporalStore& t, const std::string& id,
                                      const std::vector<std::string>& attrs, const TemporalParams& p,
                                      const std::optional<std::string>& datasetId, TemporalPage& page) {
  rapidjson::StringBuffer buf;
  model::JsonWriter w(buf);
  if (p.format == TemporalFormat::kAggregated) {
    store::AggregationQuery q;
    q.time = p.time;
    q.attrs = attrs;
    q.methods = p.methods;
    q.period = p.period;
    auto a = t.aggregate(call.tenant(), id, q);
    if (!a) return a.status();
    renderAggregated(call, *a, p, w);
  } else {
    store::InstanceQuery q;
    q.time = p.time;
    q.attrs = attrs;
    q.datasetId = datasetId;
    q.limit = std::min(p.lastN.value_or(kMaxInstancesPerAttribute), kMaxInstancesPerAttribute);
    q.fromEnd = p.lastN.has_value();
    auto h = t.history(call.tenant(), id, q);
    if (!h) return h.status();
    // A lastN within the page is a complete answer, not a partial one.
    if (p.lastN && *p.lastN <= kMaxInstancesPerAttribute) {
      for (auto& a : h->attrs) a.truncated = false;
    }
    notePage(*h, p, page);
    renderTemporal(call, *h, p, w);
  }
  return std::string(buf.GetString(), buf.GetSize());
}

// 206 with Content-Range when an attribute had more instances than one answer holds.
void addPageHeaders(http::Response& r, const TemporalPage& page, const TemporalParams& p) {
  if (!page.partial) return;
  r.status = 206;
  // NGSI-LD 6.3.10: "date-time <first>-<last>/<size>"; lastN pages backwards from the end.
  std::string range = p.lastN ? formatDateTime(page.to) + "-" + formatDateTime(page.from)
                              : formatDateTime(page.from) + "-" + formatDateTime(page.to);
  r.setHeader("Content-Range", "date-time " + range + "/" + (p.lastN ? std::to_string(*p.lastN) : "*"));
}

Status readCallBasics(Call& call) {
  ALLMENDE_RETURN_IF_ERROR(call.resolveTenant(false));
  ALLMENDE_RETURN_IF_ERROR(call.negotiate(false));
  return Status::ok();
}

// limit / offset / count over the entities of a temporal query (NGSI-LD 5.5.9).
Status readEntityPaging(const Call& call, store::EntityQuery& q) {
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
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(readEntityPaging(call, *q));
  auto entities = call.services().store.queryEntities(call.tenant(), *q);
  if (!entities) return problemResponse(entities.status());
  TemporalPage page;
  std::string body = "[";
  for (const auto& e : entities->entities) {
    auto one = renderOneTemporal(call, **t, std::string(asView(e["id"])), *attrs, p, std::nullopt, page);
    if (!one) {
      if (one.status().type() == ErrorType::kResourceNotFound) continue;  // no history (yet)
      return problemResponse(one.status());
    }
    body += (body.size() > 1 ? "," : "") + *one;
  }
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
  TemporalPage page;
  auto body = renderOneTemporal(call, **t, id, *attrs, *p, datasetId, page);
  if (!body) return problemResponse(body.status());
  http::Response r = call.jsonResponse(200, std::move(body).value());
  addPageHeaders(r, page, *p);
  return r;
}

}  // namespace allmende::api
