// Distributed batch operations (NGSI-LD 5.6.7 - 5.6.10, 5.6.20 with the registration modes of
// 4.3.6): each entity of a batch goes where a write of that entity alone would go
// (distributedWrite), but every destination gets one batch: the broker itself, and each
// registration the entities it covers. The answers are put back together per entity into one
// BatchOperationResult (5.2.16).
#include <algorithm>
#include <map>
#include <optional>

#include "api/distributed.h"
#include "api/distributed_parts.h"
#include "api/problem.h"
#include "federation/forward.h"
#include "model/expand.h"

namespace allmende::api {

using federation::Forwarder;
using federation::Mode;
using federation::Operation;
using federation::Registration;
using federation::SourceAnswer;
using federation::SourceRequest;

namespace {

// One destination of a batch: the broker (registration null) or a context source.
struct Destination {
  const Registration* registration = nullptr;
  JsonDocument items;  // the batch sent there
  Destination() { items.SetArray(); }
};

// What became of one entity at one destination.
struct PartResult {
  bool ok = false;
  bool created = false;
  int status = 0;              // the failure's HTTP status
  std::string problem;         // the failure as ProblemDetails JSON
  std::string registrationId;  // "" = the broker itself
};

// Everything that became of one entity id.
struct EntityResults {
  std::vector<PartResult> parts;
};

bool isBodyless(Operation op) { return op == Operation::kDeleteBatch; }

// The @context an entity of the batch is expanded with: its own (application/ld+json) or the call's.
const ld::Context* contextOf(Call& call, const Json& item, std::shared_ptr<const ld::Context>& own) {
  const Json* ctx = item.IsObject() ? findMember(item, "@context") : nullptr;
  if (!ctx) return &call.context();
  auto r = call.services().contexts.resolve(*ctx);
  if (!r) return nullptr;
  own = *r;
  return own.get();
}

// What a write of `item` touches: its id, types and attributes (expanded).
federation::RequestSelector itemSelector(const Json& item, const std::string& id, const ld::Context& ctx) {
  federation::RequestSelector s;
  s.ids.push_back(id);
  if (!item.IsObject()) return s;
  if (const Json* t = findMember(item, "type")) {
    auto add = [&](const Json& v) {
      if (!v.IsString()) return;
      if (auto iri = model::expandTypeName(asView(v), ctx)) s.types.push_back(*iri);
    };
    if (t->IsArray()) {
      for (const auto& v : t->GetArray()) add(v);
    } else {
      add(*t);
    }
  }
  for (const auto& m : item.GetObject()) {
    if (isEntityMember(asView(m.name))) continue;
    if (auto iri = model::expandAttributeName(asView(m.name), ctx)) s.attrs.push_back(*iri);
  }
  return s;
}

std::string problemOf(int status, const std::string& detail) {
  ErrorType type = status == 404                  ? ErrorType::kResourceNotFound
                   : status >= 500 || status == 0 ? ErrorType::kServiceUnavailable
                                                  : ErrorType::kBadRequestData;
  return problemJson(Status(type, detail));
}

// Reads one destination's answer to its batch into per-entity results: 201 with the ids
// (created), 204 (all done), 207 with success/errors, anything else fails every entity sent.
void readAnswer(int status, const std::string& body, const std::string& transportError, const Destination& d,
                const std::string& registrationId, std::map<std::string, EntityResults>& results) {
  std::vector<std::string> sent;
  for (const auto& item : d.items.GetArray()) {
    const Json* id = item.IsString() ? &item : (item.IsObject() ? findMember(item, "id") : nullptr);
    sent.push_back(id && id->IsString() ? std::string(asView(*id)) : "");
  }
  auto all = [&](PartResult p) {
    p.registrationId = registrationId;
    for (const auto& id : sent) results[id].parts.push_back(p);
  };
  JsonDocument doc;
  bool json = status != 0 && parseJson(body, doc).isOk();
  if (status == 204 || (status == 201 && !(json && doc.IsArray()))) {
    all({.ok = true});
    return;
  }
  if (status == 201) {
    all({.ok = true});
    for (const auto& id : doc.GetArray()) {
      if (!id.IsString()) continue;
      auto& parts = results[std::string(asView(id))].parts;
      if (!parts.empty()) parts.back().created = true;
    }
    return;
  }
  if (status == 207 && json && doc.IsObject()) {
    if (const Json* ok = findMember(doc, "success"); ok && ok->IsArray()) {
      for (const auto& id : ok->GetArray()) {
        if (id.IsString())
          results[std::string(asView(id))].parts.push_back({.ok = true, .registrationId = registrationId});
      }
    }
    if (const Json* errors = findMember(doc, "errors"); errors && errors->IsArray()) {
      for (const auto& e : errors->GetArray()) {
        const Json* id = e.IsObject() ? findMember(e, "entityId") : nullptr;
        const Json* error = e.IsObject() ? findMember(e, "error") : nullptr;
        PartResult p{.registrationId = registrationId};
        const Json* st = error && error->IsObject() ? findMember(*error, "status") : nullptr;
        p.status = st && st->IsInt() ? st->GetInt() : 400;
        p.problem = error && error->IsObject() ? toJsonString(*error) : problemOf(p.status, "failed");
        results[id && id->IsString() ? std::string(asView(*id)) : ""].parts.push_back(std::move(p));
      }
    }
    return;
  }
  PartResult p;
  p.status = status;
  if (status == 0) {
    p.problem = problemOf(0, transportError);
  } else if (json && doc.IsObject()) {
    p.problem = body;
  } else {
    p.problem = problemOf(status, "context source answered " + std::to_string(status));
  }
  all(std::move(p));
}

// The batch answer (NGSI-LD 5.2.16, 6.14 - 6.17, 6.31) from the per-entity results, in the order
// of `ids` (the request's). An entity succeeded when every destination did it; a 404 next to
// another destination's success is no failure (that holder had no part of it).
http::Response batchAnswer(Operation op, const std::vector<std::string>& ids,
                           std::map<std::string, EntityResults>& results) {
  JsonBuffer buf;
  JsonWriter w(buf);
  std::vector<std::string> ok, created;
  std::vector<std::pair<std::string, const PartResult*>> failed;
  for (const auto& id : ids) {
    auto& parts = results[id].parts;
    bool anyOk = std::any_of(parts.begin(), parts.end(), [](const PartResult& p) { return p.ok; });
    const PartResult* failure = nullptr;
    bool wasCreated = false;
    for (const auto& p : parts) {
      wasCreated = wasCreated || p.created;
      if (p.ok || failure) continue;
      if (p.status == 404 && anyOk) continue;
      failure = &p;
    }
    if (failure || parts.empty()) {
      failed.emplace_back(id, failure);
    } else {
      ok.push_back(id);
      if (wasCreated) created.push_back(id);
    }
  }
  http::Response r;
  if (failed.empty()) {
    if (op == Operation::kCreateBatch || (op == Operation::kUpsertBatch && !created.empty())) {
      w.StartArray();
      for (const auto& id : op == Operation::kCreateBatch ? ok : created) w.String(id);
      w.EndArray();
      r.status = 201;
    } else {
      return emptyResponse(204);
    }
  } else {
    w.StartObject();
    w.Key("success");
    w.StartArray();
    for (const auto& id : ok) w.String(id);
    w.EndArray();
    w.Key("errors");
    w.StartArray();
    for (const auto& [id, p] : failed) {
      w.StartObject();
      w.Key("entityId");
      w.String(id);
      // NGSI-LD 5.2.17 BatchEntityError: registrationId names the context source that failed.
      if (p && !p->registrationId.empty()) {
        w.Key("registrationId");
        w.String(p->registrationId);
      }
      w.Key("error");
      std::string problem = p ? p->problem : problemOf(500, "no answer for this entity");
      w.RawValue(problem.data(), problem.size(), rapidjson::kObjectType);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    r.status = 207;
  }
  r.setHeader("Content-Type", "application/json");
  r.body = std::string(buf.GetString(), buf.GetSize());
  return r;
}

}  // namespace

http::Response distributedBatch(Call& call, Operation op, HandlerFn local) {
  const Forwarder* fwd = call.services().forwarder;
  if (!fwd) return local(call);
  if (!call.resolveTenant(true).isOk() || !fwd->anyRegistration(call.tenant())) return local(call);
  if (!call.parseBody().isOk() || !call.body().IsArray() ||
      call.body().Size() > call.services().options.maxBatchEntities) {
    return local(call);  // the handler answers the error
  }
  const Json& items = call.body();
  Destination mine;
  std::vector<Registration> targets;  // every registration that gets a part, once
  std::vector<Destination> remote;    // in the order of `targets`
  std::vector<std::string> ids;       // the request's entity ids, in order
  bool forwarded = false;
  for (const auto& item : items.GetArray()) {
    JsonAllocator& la = mine.items.GetAllocator();
    const Json* idv = isBodyless(op) ? &item : (item.IsObject() ? findMember(item, "id") : nullptr);
    std::shared_ptr<const ld::Context> own;
    const ld::Context* ctx = contextOf(call, item, own);
    if (!idv || !idv->IsString() || !ctx || (!isBodyless(op) && !item.IsObject())) {
      mine.items.PushBack(Json(item, la), la);  // the local handler reports what is wrong
      continue;
    }
    std::string id(asView(*idv));
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    federation::RequestSelector sel = itemSelector(item, id, *ctx);
    if (isBodyless(op)) addStoredTypes(call, id, sel);
    auto matched = distributedTargets(call, op, sel);
    if (!matched) return problemResponse(matched.status());
    std::erase_if(*matched, [](const Registration& r) { return r.mode == Mode::kAuxiliary; });
    bool runLocal = true;
    std::vector<std::string> exclusiveAttrs;
    for (const Registration& r : *matched) {
      // NGSI-LD 4.3.6.3: an exclusive source gets only the attributes it registers.
      std::optional<JsonDocument> part;
      std::vector<std::string> attrs = federation::registeredAttrs(r, sel);
      if (r.mode == Mode::kRedirect) {
        runLocal = false;  // NGSI-LD 4.3.6.4: the broker holds nothing of it
      } else if (r.mode == Mode::kExclusive && !isBodyless(op) && !attrs.empty()) {
        size_t kept = 0;
        part = entityWith(
            item, *ctx,
            [&](const std::string& iri) { return std::find(attrs.begin(), attrs.end(), iri) != attrs.end(); }, kept);
        if (kept == 0 && op != Operation::kCreateBatch) continue;
        exclusiveAttrs.insert(exclusiveAttrs.end(), attrs.begin(), attrs.end());
      }
      auto at = std::find_if(targets.begin(), targets.end(), [&](const Registration& t) { return t.id == r.id; });
      size_t k = static_cast<size_t>(at - targets.begin());
      if (at == targets.end()) {
        targets.push_back(r);
        remote.emplace_back();
      }
      JsonAllocator& ra = remote[k].items.GetAllocator();
      remote[k].items.PushBack(part ? Json(*part, ra) : Json(item, ra), ra);
      forwarded = true;
    }
    if (!runLocal) continue;
    if (!exclusiveAttrs.empty()) {
      size_t kept = 0;
      JsonDocument rest = entityWith(
          item, *ctx,
          [&](const std::string& iri) {
            return std::find(exclusiveAttrs.begin(), exclusiveAttrs.end(), iri) == exclusiveAttrs.end();
          },
          kept);
      if (kept > 0 || op == Operation::kCreateBatch) mine.items.PushBack(Json(rest, la), la);
    } else {
      mine.items.PushBack(Json(item, la), la);
    }
  }
  if (!forwarded) return local(call);

  // All sources at once; the broker's own part meanwhile waits (it runs after, on this thread).
  SourceRequest base;
  base.method = "POST";
  base.path = call.request().rawPath.empty() ? call.request().path : call.request().rawPath;
  base.query = forwardedParams(call);
  base.headers = forwardedHeaders(call, true);
  std::vector<SourceRequest> requests;
  for (const auto& d : remote) {
    requests.push_back(base);
    requests.back().body = toJsonString(d.items);
  }
  std::map<std::string, EntityResults> results;
  std::vector<SourceAnswer> answers = fwd->send(targets, requests, call.request().header("via"));
  for (size_t i = 0; i < answers.size(); ++i) {
    const SourceAnswer& a = answers[i];
    if (a.response) {
      readAnswer(a.response->status, a.response->body, "", remote[i], a.registration->id, results);
    } else {
      readAnswer(0, "", a.response.status().detail(), remote[i], a.registration->id, results);
    }
  }
  if (!mine.items.Empty()) {
    call.request().body = toJsonString(mine.items);  // the handler parses the request again
    http::Response own = local(call);
    // The broker refused its part as a whole (quota, tenant): that answer, unless sources did
    // some of the batch already -- then those entities are reported as done (acknowledged writes).
    bool remoteDone = std::any_of(results.begin(), results.end(), [](const auto& r) {
      return std::any_of(r.second.parts.begin(), r.second.parts.end(), [](const PartResult& p) { return p.ok; });
    });
    if (own.status >= 400 && own.status != 207 && !remoteDone) return own;
    readAnswer(own.status, own.body, "", mine, "", results);
    for (const auto& item : mine.items.GetArray()) {  // entities without a usable id
      const Json* idv = item.IsString() ? &item : (item.IsObject() ? findMember(item, "id") : nullptr);
      std::string id = idv && idv->IsString() ? std::string(asView(*idv)) : "";
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    }
  }
  return batchAnswer(op, ids, results);
}

}  // namespace allmende::api
