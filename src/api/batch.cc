// Batch entity operations (NGSI-LD 5.6.7 - 5.6.10, 5.6.20, 5.7.2; HTTP binding 6.14 - 6.17,
// 6.23): every entity succeeds or fails on its own, all valid ones commit in one transaction.
#include <functional>

#include "api/entity_query.h"
#include "api/handlers.h"
#include "api/output.h"
#include "api/problem.h"
#include "model/entity.h"
#include "model/expand.h"
#include "model/mutation.h"

namespace allmende::api {

namespace {

// The outcome per entity, in request order.
struct Outcome {
  std::string entityId;
  Status status;
  bool created = false;
};

// An entity of the batch, expanded with its own @context (application/ld+json) or the request's.
Result<JsonDocument> expandBatchEntity(Call& call, const Json& body, bool fragment) {
  std::shared_ptr<const ld::Context> own;
  if (const Json* ctx = body.IsObject() ? findMember(body, "@context") : nullptr) {
    auto r = call.services().contexts.resolve(*ctx);
    if (!r) return r.status();
    own = *r;
  }
  const ld::Context& ctx = own ? *own : call.context();
  if (!fragment) return model::expandEntity(body, ctx);
  const Json* id = findMember(body, "id");
  if (!id || !id->IsString()) return badRequestData("entity id is missing or not a string");
  auto f = model::expandFragment(body, ctx, asView(*id));
  if (!f) return f;
  f->AddMember("id", Json(*id, f->GetAllocator()), f->GetAllocator());
  return f;
}

Status readBatchArray(Call& call) {
  ALLMENDE_RETURN_IF_ERROR(call.resolveTenant(true));
  ALLMENDE_RETURN_IF_ERROR(call.parseBody());
  if (!call.body().IsArray()) return badRequestData("a batch operation needs a JSON array");
  if (call.body().Size() > call.services().options.maxBatchEntities) {
    return badRequestData("more than " + std::to_string(call.services().options.maxBatchEntities) +
                          " entities in one batch");
  }
  return Status::ok();
}

using BatchMutation = std::function<Result<JsonDocument>(const Json* current, const Json& input, Outcome& outcome)>;

// Expands every entity, writes the valid ones in one store call, and collects the outcomes.
std::vector<Outcome> runBatch(Call& call, bool fragments, const BatchMutation& mutate) {
  const Json& items = call.body();
  std::vector<Outcome> outcomes(items.Size());
  std::vector<JsonDocument> inputs(items.Size());
  std::vector<store::WriteOp> ops;
  std::vector<size_t> opIndex;
  for (rapidjson::SizeType i = 0; i < items.Size(); ++i) {
    const Json* id = items[i].IsObject() ? findMember(items[i], "id") : nullptr;
    outcomes[i].entityId = id && id->IsString() ? std::string(asView(*id)) : "";
    auto input = expandBatchEntity(call, items[i], fragments);
    if (!input) {
      outcomes[i].status = input.status();
      continue;
    }
    inputs[i] = std::move(input).value();
    Outcome* outcome = &outcomes[i];
    const JsonDocument* in = &inputs[i];
    ops.push_back({outcomes[i].entityId, [&mutate, in, outcome](const Json* cur) -> Result<store::WriteEffect> {
                     auto next = mutate(cur, *in, *outcome);
                     if (!next) return next.status();
                     store::WriteEffect eff;
                     eff.kind = store::WriteEffect::Kind::kUpsert;
                     eff.entity = std::move(next).value();
                     return eff;
                   }});
    opIndex.push_back(i);
  }
  auto results = call.services().store.write(call.tenant(), std::move(ops));
  for (size_t k = 0; k < results.size(); ++k) outcomes[opIndex[k]].status = results[k];
  return outcomes;
}

// NGSI-LD 5.2.16 BatchOperationResult as a 207 answer, or `allOk` when nothing failed.
http::Response batchResponse(const std::vector<Outcome>& outcomes, const std::function<http::Response()>& allOk) {
  bool anyError = false;
  for (const auto& o : outcomes) anyError = anyError || !o.status.isOk();
  if (!anyError) return allOk();
  std::string body = "{\"success\":[";
  bool first = true;
  for (const auto& o : outcomes) {
    if (!o.status.isOk()) continue;
    if (!first) body += ",";
    body += toJsonString(Json(rapidjson::StringRef(o.entityId.c_str())));
    first = false;
  }
  body += "],\"errors\":[";
  first = true;
  for (const auto& o : outcomes) {
    if (o.status.isOk()) continue;
    if (!first) body += ",";
    body += "{\"entityId\":" + toJsonString(Json(rapidjson::StringRef(o.entityId.c_str()))) +
            ",\"error\":" + problemJson(o.status) + "}";
    first = false;
  }
  body += "]}";
  http::Response r;
  r.status = 207;
  r.setHeader("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

http::Response idArray(int status, const std::vector<Outcome>& outcomes, bool onlyCreated) {
  std::string body = "[";
  bool first = true;
  for (const auto& o : outcomes) {
    if (onlyCreated && !o.created) continue;
    if (!first) body += ",";
    body += toJsonString(Json(rapidjson::StringRef(o.entityId.c_str())));
    first = false;
  }
  http::Response r;
  r.status = status;
  r.setHeader("Content-Type", "application/json");
  r.body = body + "]";
  return r;
}

}  // namespace

http::Response batchCreate(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(readBatchArray(call));
  Micros now = call.now();
  auto outcomes = runBatch(call, false, [now](const Json* cur, const Json& in, Outcome&) {
    return model::createEntity(cur, in, now);
  });
  return batchResponse(outcomes, [&] { return idArray(201, outcomes, false); });
}

http::Response batchUpsert(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(readBatchArray(call));
  bool update = hasOption(call.param("options"), "update");
  Micros now = call.now();
  auto outcomes = runBatch(call, false, [now, update](const Json* cur, const Json& in, Outcome& o) {
    o.created = cur == nullptr;
    return model::upsertEntity(cur, in, now, update);
  });
  // NGSI-LD 6.15.3.1: 201 with the ids of the created entities, 204 when all existed.
  return batchResponse(outcomes, [&] {
    bool anyCreated = false;
    for (const auto& o : outcomes) anyCreated = anyCreated || o.created;
    return anyCreated ? idArray(201, outcomes, true) : emptyResponse(204);
  });
}

http::Response batchUpdate(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(readBatchArray(call));
  bool noOverwrite = hasOption(call.param("options"), "noOverwrite");
  Micros now = call.now();
  auto outcomes = runBatch(call, true, [now, noOverwrite](const Json* cur, const Json& in, Outcome&) {
    return model::appendAttributes(cur, in, now, noOverwrite, nullptr);
  });
  return batchResponse(outcomes, [] { return emptyResponse(204); });
}

http::Response batchMerge(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(readBatchArray(call));
  Micros now = call.now();
  auto outcomes = runBatch(call, true, [now](const Json* cur, const Json& in, Outcome&) {
    return model::mergeEntity(cur, in, now);
  });
  return batchResponse(outcomes, [] { return emptyResponse(204); });
}

http::Response batchDelete(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(readBatchArray(call));
  const Json& ids = call.body();
  std::vector<Outcome> outcomes(ids.Size());
  std::vector<store::WriteOp> ops;
  std::vector<size_t> opIndex;
  for (rapidjson::SizeType i = 0; i < ids.Size(); ++i) {
    if (!ids[i].IsString() || !model::isUri(asView(ids[i]))) {
      outcomes[i].entityId = ids[i].IsString() ? std::string(asView(ids[i])) : "";
      outcomes[i].status = badRequestData("entity id must be a URI string");
      continue;
    }
    outcomes[i].entityId = std::string(asView(ids[i]));
    ops.push_back({outcomes[i].entityId, [](const Json* cur) -> Result<store::WriteEffect> {
                     if (!cur) return notFound("entity not found");
                     store::WriteEffect eff;
                     eff.kind = store::WriteEffect::Kind::kDelete;
                     return eff;
                   }});
    opIndex.push_back(i);
  }
  auto results = call.services().store.write(call.tenant(), std::move(ops));
  for (size_t k = 0; k < results.size(); ++k) outcomes[opIndex[k]].status = results[k];
  return batchResponse(outcomes, [] { return emptyResponse(204); });
}

}  // namespace allmende::api
