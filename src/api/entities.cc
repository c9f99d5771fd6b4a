// Entity and attribute operations (NGSI-LD 5.6, 5.7; HTTP binding 6.4 - 6.7).
#include <functional>

#include "api/distributed.h"
#include "api/entity_query.h"
#include "api/handlers.h"
#include "api/output.h"
#include "api/problem.h"
#include "model/entity.h"
#include "model/expand.h"
#include "model/mutation.h"

namespace allmende::api {

namespace {

using Mutation = std::function<Result<JsonDocument>(const Json* current)>;

// Runs one mutation on one entity through the store's write path.
Status writeEntity(Call& call, const std::string& id, Mutation mutate) {
  store::WriteOp op{id, [&mutate](const Json* current) -> Result<store::WriteEffect> {
                      auto next = mutate(current);
                      if (!next) return next.status();
                      store::WriteEffect effect;
                      effect.kind = store::WriteEffect::Kind::kUpsert;
                      effect.entity = std::move(next).value();
                      return effect;
                    }};
  std::vector<store::WriteOp> ops;
  ops.push_back(std::move(op));
  return call.services().store.write(call.tenant(), std::move(ops))[0];
}

// Tenant, body and @context of a write with a payload.
Status prepareWrite(Call& call) {
  ALLMENDE_RETURN_IF_ERROR(call.resolveTenant(true));
  return call.parseBody();
}

Status checkEntityId(const std::string& id) {
  if (!model::isUri(id)) return badRequestData("entity id '" + id + "' is not a URI");
  return Status::ok();
}

// The expanded fragment of a write to /entities/{entityId} or its /attrs: tenant, body,
// @context and entity id checked first.
Result<JsonDocument> readFragment(Call& call) {
  ALLMENDE_RETURN_IF_ERROR(prepareWrite(call));
  const std::string& id = call.pathParam("entityId");
  ALLMENDE_RETURN_IF_ERROR(checkEntityId(id));
  return model::expandFragment(call.body(), call.context(), id);
}

// NGSI-LD 5.2.18 UpdateResult, for 207 answers of append and update.
std::string updateResultJson(const model::AttributeReport& report, const ld::Context& ctx) {
  JsonBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("updated");
  w.StartArray();
  for (const auto& n : report.updated) w.String(ctx.compactIri(n));
  w.EndArray();
  w.Key("notUpdated");
  w.StartArray();
  for (const auto& [n, reason] : report.notUpdated) {
    w.StartObject();
    w.Key("attributeName");
    w.String(ctx.compactIri(n));
    w.Key("reason");
    w.String(reason);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

http::Response reportResponse(Call& call, const model::AttributeReport& report) {
  if (report.notUpdated.empty()) return emptyResponse(204);
  http::Response r;
  r.status = 207;
  r.setHeader("Content-Type", "application/json");
  r.body = updateResultJson(report, call.context());
  return r;
}

// The URL of the same query at another offset, for Link rel="next"/"prev" (NGSI-LD 5.5.9).
std::string pageUrl(const Call& call, size_t offset) {
  const http::Request& r = call.request();
  std::string url = r.path + "?";
  for (const auto& [k, v] : r.query) {
    if (k == "offset") continue;
    url += http::percentEncode(k) + "=" + http::percentEncode(v, ",:/") + "&";
  }
  return url + "offset=" + std::to_string(offset);
}

}  // namespace

http::Response emptyResponse(int status) {
  http::Response r;
  r.status = status;
  return r;
}

http::Response plainJsonResponse(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.setHeader("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

http::Response createEntity(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(prepareWrite(call));
  auto entity = model::expandEntity(call.body(), call.context());
  if (!entity) return problemResponse(entity.status());
  std::string id(asView((*entity)["id"]));
  Micros now = call.now();
  Status st = writeEntity(call, id, [&](const Json* cur) { return model::createEntity(cur, *entity, now); });
  if (!st.isOk()) return problemResponse(st);
  http::Response r = emptyResponse(201);
  r.setHeader("Location", "/ngsi-ld/v1/entities/" + http::percentEncode(id, ":"));
  return r;
}

namespace {
// Runs a query and answers with one page of it (shared by GET /entities and POST query).
http::Response answerQuery(Call& call, const QueryFilters& filters, bool queryObject) {
  // NGSI-LD 5.7.2 / 6.4.3.2: a query names at least one of id, idPattern, type, attrs, q, geoQ
  // (or scopeQ); listing everything needs local=true.
  bool anyFilter = !filters.selectors.empty() || !filters.attrs.empty() || !filters.q.empty() ||
                   !filters.scopeQ.empty() || !filters.georel.empty() || filters.geoQJson;
  const std::string* local = call.param("local");
  if (!anyFilter && !(local && *local == "true")) {
    return problemResponse(badRequestData(
        "a query needs at least one of id, idPattern, type, attrs, q, geoQ or scopeQ (or local=true)"));
  }
  auto out = outputOptions(call, queryObject ? filters.attrs : std::vector<std::string>{});
  if (!out) return problemResponse(out.status());
  auto q = planEntityQuery(filters, call.context(), call.services().store, call.tenant());
  if (!q) return problemResponse(q.status());
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(readPaging(call, *q));
  // NGSI-LD 5.7.2.4: matching context sources are asked too and their entities merged.
  auto targets = distributedTargets(call, queryObject ? federation::Operation::kQueryBatch
                                                      : federation::Operation::kQueryEntity,
                                    selectorOf(filters, call.context()));
  if (!targets) return problemResponse(targets.status());
  std::vector<std::string> warnings;
  auto result = store::QueryResult{};
  if (targets->empty()) {
    auto local = call.services().store.queryEntities(call.tenant(), *q);
    if (!local) return problemResponse(local.status());
    result = std::move(local).value();
  } else {
    auto merged = queryDistributed(call, *q, *targets, queryObject);
    if (!merged) return problemResponse(merged.status());
    result.entities = std::move(merged->entities);
    result.total = merged->total;  // known after merging, shown only with count=true
    warnings = std::move(merged->warnings);
  }
  http::Response r = call.jsonResponse(200, renderList(call, result.entities, *out));
  addWarnings(r, warnings);
  if (result.total && q->count) r.setHeader("NGSILD-Results-Count", std::to_string(*result.total));
  bool more = result.total ? q->offset + q->limit < *result.total : result.entities.size() == q->limit;
  if (more && q->limit > 0) r.setHeader("Link", "<" + pageUrl(call, q->offset + q->limit) + ">; rel=\"next\"");
  if (q->offset > 0) {
    size_t prev = q->offset > q->limit ? q->offset - q->limit : 0;
    r.setHeader("Link", "<" + pageUrl(call, prev) + ">; rel=\"prev\"");
  }
  return r;
}
}  // namespace

http::Response queryEntities(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.resolveTenant(false));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.negotiate(true));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.resolveContextFromLink());
  auto filters = filtersFromParams(call);
  if (!filters) return problemResponse(filters.status());
  return answerQuery(call, *filters, false);
}

http::Response batchQuery(Call& call) {
  // NGSI-LD 6.23: POST /entityOperations/query with a Query object; paging in the URL.
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.resolveTenant(false));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.negotiate(true));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.parseBody());
  auto filters = filtersFromQueryObject(call.body());
  if (!filters) return problemResponse(filters.status());
  return answerQuery(call, *filters, true);
}

http::Response purgeEntities(Call& call) {
  // NGSI-LD 6.4.3.3 (v1.8): delete the entities matching a query; a type or id filter is required
  // so that a bare DELETE cannot wipe a tenant.
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.resolveTenant(false));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.resolveContextFromLink());
  auto filters = filtersFromParams(call);
  if (!filters) return problemResponse(filters.status());
  if (filters->selectors.empty()) return problemResponse(badRequestData("purge needs a type, id or idPattern"));
  auto q = planEntityQuery(*filters, call.context(), call.services().store, call.tenant());
  if (!q) return problemResponse(q.status());
  q->limit = call.services().options.maxBatchEntities;
  Status st = store::deleteMatching(call.services().store, call.tenant(), std::move(q).value());
  if (!st.isOk()) return problemResponse(st);
  return emptyResponse(204);
}

http::Response retrieveEntity(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.resolveTenant(false));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.negotiate(true));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.resolveContextFromLink());
  const std::string& id = call.pathParam("entityId");
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(checkEntityId(id));
  auto out = outputOptions(call);
  if (!out) return problemResponse(out.status());
  // NGSI-LD 5.7.1.4: the entity as the local store and the matching context sources have it.
  federation::RequestSelector selector;
  selector.ids.push_back(id);
  auto targets = distributedTargets(call, federation::Operation::kRetrieveEntity, selector);
  if (!targets) return problemResponse(targets.status());
  std::vector<std::string> warnings;
  Result<JsonDocument> e = notFound("entity " + id + " not found");
  if (targets->empty()) {
    e = call.services().store.getEntity(call.tenant(), id);
  } else {
    auto merged = retrieveDistributed(call, id, *targets);
    if (!merged) return problemResponse(merged.status());
    warnings = std::move(merged->warnings);
    if (!merged->entities.empty()) e = std::move(merged->entities.front());
  }
  if (!e) {
    // NGSI-LD 6.3.17: a 404 keeps the warnings of the sources that did not answer.
    http::Response r = problemResponse(e.status());
    addWarnings(r, warnings);
    return r;
  }
  if (const std::string* type = call.param("type")) {
    auto iri = model::expandTypeName(*type, call.context());
    if (!iri) return problemResponse(iri.status());
    bool has = false;
    for (const auto& t : (*e)["type"].GetArray()) has = has || asView(t) == *iri;
    if (!has) return problemResponse(notFound("entity " + id + " is not of type " + *type));
  }
  http::Response r = call.jsonResponse(200, renderOne(call, *e, *out));
  addWarnings(r, warnings);
  return r;
}

http::Response deleteEntity(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.resolveTenant(false));
  const std::string& id = call.pathParam("entityId");
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(checkEntityId(id));
  std::vector<store::WriteOp> ops;
  ops.push_back({id, [&id](const Json* cur) -> Result<store::WriteEffect> {
                   if (!cur) return notFound("entity " + id + " not found");
                   store::WriteEffect eff;
                   eff.kind = store::WriteEffect::Kind::kDelete;
                   return eff;
                 }});
  Status st = call.services().store.write(call.tenant(), std::move(ops))[0];
  return st.isOk() ? emptyResponse(204) : problemResponse(st);
}

http::Response replaceEntity(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(prepareWrite(call));
  const std::string& id = call.pathParam("entityId");
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(checkEntityId(id));
  // NGSI-LD 5.6.18: the payload is a whole entity; its id may be omitted.
  JsonDocument body;
  body.CopyFrom(call.body(), body.GetAllocator());
  if (!body.IsObject()) return problemResponse(badRequestData("entity must be a JSON object"));
  if (!findMember(body, "id")) body.AddMember("id", jsonString(id, body.GetAllocator()), body.GetAllocator());
  if (asView(body["id"]) != id) return problemResponse(badRequestData("the id in the payload does not match the URL"));
  auto entity = model::expandEntity(body, call.context());
  if (!entity) return problemResponse(entity.status());
  Micros now = call.now();
  Status st = writeEntity(call, id, [&](const Json* cur) { return model::replaceEntity(cur, *entity, now); });
  return st.isOk() ? emptyResponse(204) : problemResponse(st);
}

http::Response mergeEntity(Call& call) {
  auto fragment = readFragment(call);
  if (!fragment) return problemResponse(fragment.status());
  Micros now = call.now();
  Status st = writeEntity(call, call.pathParam("entityId"),
                          [&](const Json* cur) { return model::mergeEntity(cur, *fragment, now); });
  return st.isOk() ? emptyResponse(204) : problemResponse(st);
}

http::Response appendAttributes(Call& call) {
  auto fragment = readFragment(call);
  if (!fragment) return problemResponse(fragment.status());
  bool noOverwrite = hasOption(call.param("options"), "noOverwrite");
  Micros now = call.now();
  model::AttributeReport report;
  Status st = writeEntity(call, call.pathParam("entityId"), [&](const Json* cur) {
    report = {};
    return model::appendAttributes(cur, *fragment, now, noOverwrite, &report);
  });
  return st.isOk() ? reportResponse(call, report) : problemResponse(st);
}

http::Response updateAttributes(Call& call) {
  auto fragment = readFragment(call);
  if (!fragment) return problemResponse(fragment.status());
  Micros now = call.now();
  model::AttributeReport report;
  Status st = writeEntity(call, call.pathParam("entityId"), [&](const Json* cur) {
    report = {};
    return model::updateAttributes(cur, *fragment, now, &report);
  });
  return st.isOk() ? reportResponse(call, report) : problemResponse(st);
}

namespace {
// PATCH and PUT on one attribute share everything but the mutation.
http::Response writeAttribute(Call& call, bool replace) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(prepareWrite(call));
  const std::string& id = call.pathParam("entityId");
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(checkEntityId(id));
  auto attr = model::expandAttributeName(call.pathParam("attrId"), call.context());
  if (!attr) return problemResponse(attr.status());
  auto instances = model::expandAttributeBody(call.body(), call.context());
  if (!instances) return problemResponse(instances.status());
  Micros now = call.now();
  Status st = writeEntity(call, id, [&](const Json* cur) {
    return replace ? model::replaceAttribute(cur, *attr, *instances, now)
                   : model::partialAttributeUpdate(cur, *attr, *instances, now);
  });
  return st.isOk() ? emptyResponse(204) : problemResponse(st);
}
}  // namespace

http::Response partialAttributeUpdate(Call& call) { return writeAttribute(call, false); }
http::Response replaceAttribute(Call& call) { return writeAttribute(call, true); }

http::Response deleteAttribute(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.resolveTenant(false));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.resolveContextFromLink());
  const std::string& id = call.pathParam("entityId");
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(checkEntityId(id));
  auto attr = model::expandAttributeName(call.pathParam("attrId"), call.context());
  if (!attr) return problemResponse(attr.status());
  const std::string* ds = call.param("datasetId");
  const std::string* all = call.param("deleteAll");
  bool deleteAll = all && *all == "true";
  if (all && *all != "true" && *all != "false") return problemResponse(badRequestData("deleteAll must be true or false"));
  std::string datasetId = ds ? *ds : "";
  Micros now = call.now();
  Status st = writeEntity(call, id, [&](const Json* cur) {
    return model::deleteAttribute(cur, *attr, datasetId, deleteAll, now);
  });
  return st.isOk() ? emptyResponse(204) : problemResponse(st);
}

}  // namespace allmende::api
