// The temporal API, writes (NGSI-LD 6.18.3.1, 6.19.3.2, 6.20 - 6.22): instances given directly
// are added to an entity's history; attributes, instances and whole histories are deleted or
// modified there. None of these changes the current entity.
#include "api/handlers.h"
#include "api/problem.h"
#include "api/temporal_params.h"
#include "api/temporal_render.h"
#include "model/entity.h"
#include "model/expand.h"
#include "model/history.h"

namespace allmende::api {

namespace {

Status checkId(const std::string& id) {
  if (!model::isUri(id)) return badRequestData("entity id '" + id + "' is not a URI");
  return Status::ok();
}

// The instances of a temporal payload: every member other than id, type, @context and scope is
// an attribute holding one instance or an array of instances (NGSI-LD 4.5.7). Each instance is
// expanded and validated like an attribute of a fragment; it is recorded now.
Result<std::vector<model::HistoryInstance>> instancesOf(const Json& body, const ld::Context& ctx, const std::string& id,
                                                        Micros now) {
  std::vector<model::HistoryInstance> out;
  for (const auto& m : body.GetObject()) {
    std::string_view name = asView(m.name);
    if (name == "id" || name == "type" || name == "@context" || name == "scope") continue;
    auto attr = model::expandAttributeName(name, ctx);
    if (!attr) return attr.status();
    const Json* list = &m.value;
    if (!m.value.IsArray()) list = nullptr;
    const rapidjson::SizeType n = list ? list->Size() : 1;
    for (rapidjson::SizeType i = 0; i < n; ++i) {
      const Json& inst = list ? (*list)[i] : m.value;
      JsonDocument fragment;
      auto& a = fragment.GetAllocator();
      fragment.SetObject();
      fragment.AddMember(Json(m.name, a), Json(inst, a), a);
      auto expanded = model::expandFragment(fragment, ctx, id);
      if (!expanded) return expanded.status();
      const Json* attrs = model::attrsOf(static_cast<const Json&>(*expanded));
      const Json* instances = attrs ? findMember(*attrs, *attr) : nullptr;
      if (!instances || !instances->IsArray())
        return badRequestData("attribute " + std::string(name) + " has no instance");
      for (const auto& one : instances->GetArray()) {
        model::HistoryInstance h = model::historyInstanceOf(*attr, one);
        h.recordedAt = now;
        out.push_back(std::move(h));
      }
    }
  }
  return out;
}

// The expanded types of a temporal payload as a JSON array ("" when it has none).
Result<std::string> typesOf(const Json& body, const ld::Context& ctx) {
  const Json* type = findMember(body, "type");
  if (!type) return std::string();
  std::vector<std::string> names;
  if (type->IsString())
    names.emplace_back(asView(*type));
  else if (type->IsArray()) {
    for (const auto& t : type->GetArray()) {
      if (!t.IsString()) return badRequestData("type must be a string or an array of strings");
      names.emplace_back(asView(t));
    }
  } else {
    return badRequestData("type must be a string or an array of strings");
  }
  JsonDocument out;
  out.SetArray();
  for (const auto& n : names) {
    auto iri = model::expandTypeName(n, ctx);
    if (!iri) return iri.status();
    out.PushBack(jsonString(*iri, out.GetAllocator()), out.GetAllocator());
  }
  return toJsonString(out);
}

// Whether `id` has a history in the tenant.
bool hasHistory(Call& call, store::TemporalStore& t, const std::string& id) {
  store::InstanceQuery q;
  q.attrs = {""};  // no attribute: only the entity's existence is looked up
  return t.history(call.tenant(), id, q).isOk();
}

// What the attribute-level operations (6.21, 6.22) address: the store, the entity id and the
// expanded attribute name, from the path.
struct AttributeTarget {
  store::TemporalStore* store;
  std::string id;
  std::string attr;
};

Result<AttributeTarget> attributeTarget(Call& call) {
  auto t = temporalStore(call);
  if (!t) return t.status();
  const std::string& id = call.pathParam("entityId");
  ALLMENDE_RETURN_IF_ERROR(checkId(id));
  auto attr = model::expandAttributeName(call.pathParam("attrId"), call.context());
  if (!attr) return attr.status();
  return AttributeTarget{*t, id, std::move(attr).value()};
}

// The {instanceId} of the path; ResourceNotFound when it names no instance.
Result<int64_t> instanceIdOfPath(const Call& call) {
  int64_t iid = instanceIdOf(call.pathParam("instanceId"));
  if (!iid) return notFound("no attribute instance " + call.pathParam("instanceId"));
  return iid;
}

}  // namespace

http::Response createTemporal(Call& call) {
  // NGSI-LD 6.18.3.1: creates the temporal representation, or adds to it (201 / 204).
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.resolveTenant(true));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.parseBody());
  auto t = temporalStore(call);
  if (!t) return problemResponse(t.status());
  const Json& body = call.body();
  if (!body.IsObject()) return problemResponse(badRequestData("a temporal entity must be a JSON object"));
  const Json* id = findMember(body, "id");
  if (!id || !id->IsString()) return problemResponse(badRequestData("a temporal entity needs an id"));
  std::string entityId(asView(*id));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(checkId(entityId));
  auto types = typesOf(body, call.context());
  if (!types) return problemResponse(types.status());
  if (types->empty() || *types == "[]") return problemResponse(badRequestData("a temporal entity needs a type"));
  auto instances = instancesOf(body, call.context(), entityId, call.now());
  if (!instances) return problemResponse(instances.status());
  const bool existed = hasHistory(call, **t, entityId);
  Status st = (*t)->appendInstances(call.tenant(), entityId, *types, *instances);
  if (!st.isOk()) return problemResponse(st);
  if (existed) return emptyResponse(204);
  http::Response r = emptyResponse(201);
  r.setHeader("Location", "/ngsi-ld/v1/temporal/entities/" + http::percentEncode(entityId, ":"));
  return r;
}

http::Response appendTemporal(Call& call) {
  // NGSI-LD 6.20.3.1: adds attribute instances to an existing temporal representation.
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.resolveTenant(false));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.parseBody());
  auto t = temporalStore(call);
  if (!t) return problemResponse(t.status());
  const std::string& id = call.pathParam("entityId");
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(checkId(id));
  if (!call.body().IsObject()) return problemResponse(badRequestData("the payload must be a JSON object"));
  auto instances = instancesOf(call.body(), call.context(), id, call.now());
  if (!instances) return problemResponse(instances.status());
  if (!hasHistory(call, **t, id)) return problemResponse(notFound("no temporal representation of entity " + id));
  Status st = (*t)->appendInstances(call.tenant(), id, "", *instances);
  return st.isOk() ? emptyResponse(204) : problemResponse(st);
}

http::Response deleteTemporal(Call& call) {
  // NGSI-LD 6.19.3.2
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.resolveTenant(false));
  auto t = temporalStore(call);
  if (!t) return problemResponse(t.status());
  const std::string& id = call.pathParam("entityId");
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(checkId(id));
  Status st = (*t)->deleteHistory(call.tenant(), id, "", std::nullopt, 0);
  return st.isOk() ? emptyResponse(204) : problemResponse(st);
}

http::Response deleteTemporalAttribute(Call& call) {
  // NGSI-LD 6.21.3.1: the default instances, those of datasetId, or all (deleteAll=true).
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.resolveTenant(false));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.resolveContextFromLink());
  auto target = attributeTarget(call);
  if (!target) return problemResponse(target.status());
  const std::string* all = call.param("deleteAll");
  if (all && *all != "true" && *all != "false")
    return problemResponse(badRequestData("deleteAll must be true or false"));
  std::optional<std::string> datasetId;
  if (!(all && *all == "true")) {
    const std::string* ds = call.param("datasetId");
    datasetId = ds ? *ds : "";
  }
  Status st = target->store->deleteHistory(call.tenant(), target->id, target->attr, datasetId, 0);
  return st.isOk() ? emptyResponse(204) : problemResponse(st);
}

http::Response modifyTemporalInstance(Call& call) {
  // NGSI-LD 6.22.3.1: the instance's content is replaced by the payload (one attribute).
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.resolveTenant(false));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.parseBody());
  auto target = attributeTarget(call);
  if (!target) return problemResponse(target.status());
  auto iid = instanceIdOfPath(call);
  if (!iid) return problemResponse(iid.status());
  const std::string& attr = target->attr;
  const Json& body = call.body();
  if (!body.IsObject()) return problemResponse(badRequestData("the payload must be a JSON object"));
  // The payload is a fragment with this attribute, or the instance itself.
  JsonDocument wrapped;
  const Json* source = &body;
  if (!findMember(body, call.pathParam("attrId")) && !findMember(body, attr)) {
    wrapped.SetObject();
    wrapped.AddMember(jsonString(call.pathParam("attrId"), wrapped.GetAllocator()), Json(body, wrapped.GetAllocator()),
                      wrapped.GetAllocator());
    source = &wrapped;
  }
  auto instances = instancesOf(*source, call.context(), target->id, call.now());
  if (!instances) return problemResponse(instances.status());
  if (instances->size() != 1 || (*instances)[0].attr != attr) {
    return problemResponse(badRequestData("the payload must hold exactly one instance of " + call.pathParam("attrId")));
  }
  Status st = target->store->modifyInstance(call.tenant(), target->id, attr, *iid, (*instances)[0], call.now());
  return st.isOk() ? emptyResponse(204) : problemResponse(st);
}

http::Response deleteTemporalInstance(Call& call) {
  // NGSI-LD 6.22.3.2
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.resolveTenant(false));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.resolveContextFromLink());
  auto target = attributeTarget(call);
  if (!target) return problemResponse(target.status());
  auto iid = instanceIdOfPath(call);
  if (!iid) return problemResponse(iid.status());
  Status st = target->store->deleteHistory(call.tenant(), target->id, target->attr, std::nullopt, *iid);
  return st.isOk() ? emptyResponse(204) : problemResponse(st);
}

}  // namespace allmende::api
