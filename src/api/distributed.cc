#include "api/distributed.h"

#include <algorithm>
#include <functional>
#include <optional>

#include "api/distributed_parts.h"
#include "api/problem.h"
#include "federation/forward.h"
#include "federation/merge.h"
#include "model/expand.h"

namespace allmende::api {

using federation::Forwarder;
using federation::Registration;
using federation::SourceAnswer;
using federation::SourceRequest;

namespace {

// Representation and paging parameters: the broker asks every source for the normalized form
// with system attributes (what merging needs) and does paging itself.
bool ownParameter(std::string_view name) {
  return name == "limit" || name == "offset" || name == "count" || name == "options" || name == "format" ||
         name == "pick" || name == "omit" || name == "lang" || name == "geometryProperty" || name == "local" ||
         name == "attrs";
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ",") + s;
  return out;
}

// The query of a source's request: the call's filters, the attributes the registration
// provides (NGSI-LD 4.3.6: only what it registers is asked of it), normalized form with sysAttrs.
std::vector<std::pair<std::string, std::string>> forwardedQuery(const Call& call, const Registration& r,
                                                                const federation::RequestSelector& sel, size_t limit,
                                                                bool keepFilters) {
  std::vector<std::pair<std::string, std::string>> q;
  if (keepFilters) {
    for (const auto& [k, v] : call.request().query) {
      if (!ownParameter(k)) q.emplace_back(k, v);
    }
  }
  std::vector<std::string> attrs = federation::registeredAttrs(r, sel);
  if (!attrs.empty()) {
    q.emplace_back("attrs", joined(attrs));
  } else if (auto* a = call.param("attrs"); a && keepFilters) {
    q.emplace_back("attrs", *a);
  }
  if (limit > 0) q.emplace_back("limit", std::to_string(limit));
  q.emplace_back("options", "sysAttrs");
  return q;
}

// One entity as a source sent it (compacted with the call's @context) -> internal form with its
// system times.
Result<JsonDocument> receivedEntity(const Json& e, const ld::Context& ctx) {
  auto expanded = model::expandEntity(e, ctx);
  if (!expanded) return expanded.status();
  federation::restoreSystemTimes(e, *expanded, [&ctx](std::string_view name) {
    auto iri = model::expandAttributeName(name, ctx);
    return iri ? *iri : std::string(name);
  });
  return expanded;
}

// The entities of one source's answer (an array for queries, an object for a retrieval); a
// failure or an unexpected answer becomes a warning. `notFoundIsEmpty`: 404 means "has none".
std::vector<JsonDocument> entitiesOf(const SourceAnswer& a, const ld::Context& ctx, bool notFoundIsEmpty,
                                     std::vector<std::string>& warnings) {
  std::vector<JsonDocument> out;
  if (!a.response) {
    warnings.push_back(Forwarder::warning(a));
    return out;
  }
  if (notFoundIsEmpty && a.response->status == 404) return out;
  if (a.response->status != 200) {
    warnings.push_back(Forwarder::warning(a));
    return out;
  }
  JsonDocument doc;
  if (!parseJson(a.response->body, doc).isOk() || !(doc.IsArray() || doc.IsObject())) {
    SourceAnswer bad{a.registration, Status(ErrorType::kServiceUnavailable, "answer is not NGSI-LD JSON")};
    warnings.push_back(Forwarder::warning(bad));
    return out;
  }
  auto take = [&](const Json& e) {
    auto entity = receivedEntity(e, ctx);
    if (entity) {
      out.push_back(std::move(entity).value());
    } else {
      SourceAnswer bad{a.registration,
                       Status(ErrorType::kServiceUnavailable, "invalid entity: " + entity.status().detail())};
      warnings.push_back(Forwarder::warning(bad));
    }
  };
  if (doc.IsArray()) {
    for (const auto& e : doc.GetArray()) take(e);
  } else {
    take(doc);
  }
  return out;
}

// Type names of a type selection ("A,B", "(A;B)|C"): every name it mentions.
std::vector<std::string> typeNames(const std::string& selection) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : selection + ",") {
    if (c == ',' || c == ';' || c == '|' || c == '(' || c == ')') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else if (c != ' ') {
      cur += c;
    }
  }
  return out;
}

}  // namespace

federation::Headers forwardedHeaders(const Call& call, bool withBody) {
  federation::Headers h{{"Accept", "application/json"}};
  if (auto link = call.request().header("link"); !link.empty()) h.emplace_back("Link", std::string(link));
  if (withBody) {
    auto type = call.request().header("content-type");
    h.emplace_back("Content-Type", type.empty() ? "application/json" : std::string(type));
  }
  return h;
}

bool isEntityMember(std::string_view name) {
  return name == "id" || name == "type" || name == "scope" || name == "@context" || name == "createdAt" ||
         name == "modifiedAt";
}

JsonDocument entityWith(const Json& entity, const ld::Context& ctx, const std::function<bool(const std::string&)>& keep,
                        size_t& kept) {
  JsonDocument out;
  out.SetObject();
  kept = 0;
  for (const auto& m : entity.GetObject()) {
    std::string_view name = asView(m.name);
    if (!isEntityMember(name)) {
      auto iri = model::expandAttributeName(name, ctx);
      if (!iri || !keep(*iri)) continue;
      ++kept;
    }
    out.AddMember(Json(m.name, out.GetAllocator()), Json(m.value, out.GetAllocator()), out.GetAllocator());
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> forwardedParams(const Call& call) {
  std::vector<std::pair<std::string, std::string>> q;
  for (const auto& [k, v] : call.request().query) {
    if (k != "local") q.emplace_back(k, v);
  }
  return q;
}

void addStoredTypes(Call& call, const std::string& id, federation::RequestSelector& sel) {
  auto stored = call.services().store.getEntity(call.tenant(), id);
  if (!stored) return;
  const Json* t = findMember(*stored, "type");
  if (t && t->IsString()) sel.types.emplace_back(asView(*t));
  if (t && t->IsArray()) {
    for (const auto& v : t->GetArray()) {
      if (v.IsString()) sel.types.emplace_back(asView(v));
    }
  }
}

Result<std::vector<Registration>> distributedTargets(const Call& call, federation::Operation op,
                                                     const federation::RequestSelector& selector) {
  const Forwarder* fwd = call.services().forwarder;
  if (!fwd) return std::vector<Registration>{};
  const std::string* local = call.param("local");
  if (!fwd->mayForward(local ? *local : "", call.request().header("via"))) return std::vector<Registration>{};
  return fwd->targets(call.tenant(), op, selector);
}

federation::RequestSelector selectorOf(const QueryFilters& filters, const ld::Context& ctx) {
  federation::RequestSelector s;
  for (const Selector& sel : filters.selectors) {
    for (const auto& id : sel.ids) s.ids.push_back(id);
    if (!sel.idPattern.empty()) s.idPattern = sel.idPattern;
    for (const auto& t : typeNames(sel.type)) {
      auto iri = model::expandTypeName(t, ctx);
      if (iri) s.types.push_back(*iri);
    }
  }
  for (const auto& a : filters.attrs) {
    auto iri = model::expandAttributeName(a, ctx);
    if (iri) s.attrs.push_back(*iri);
  }
  if (!filters.scopeQ.empty()) s.scopeQ = filters.scopeQ;
  return s;
}

Result<MergedPage> queryDistributed(Call& call, store::EntityQuery q, const std::vector<Registration>& targets,
                                    bool queryObject) {
  const Forwarder& fwd = *call.services().forwarder;
  const size_t cap = fwd.options().maxEntitiesPerSource;
  const size_t offset = q.offset, limit = q.limit;
  auto filters = queryObject ? filtersFromQueryObject(call.body()) : filtersFromParams(call);
  if (!filters) return filters.status();
  federation::RequestSelector sel = selectorOf(*filters, call.context());

  // The sources' answers are awaited while nothing else runs on this thread; the local query
  // comes first so its entities lead the merged order.
  q.offset = 0;
  q.limit = cap;
  q.count = false;
  auto local = call.services().store.queryEntities(call.tenant(), q);
  if (!local) return local.status();

  // Each source gets the call's own request (GET with its parameters, or POST with its Query
  // body) with its registered attributes and the broker's paging.
  SourceRequest base;
  base.method = queryObject ? "POST" : "GET";
  base.path = queryObject ? "/ngsi-ld/v1/entityOperations/query" : "/ngsi-ld/v1/entities";
  base.headers = forwardedHeaders(call, queryObject);
  if (queryObject) base.body = call.request().body;
  std::vector<SourceRequest> requests;
  for (const Registration& r : targets) {
    requests.push_back(base);
    requests.back().query = forwardedQuery(call, r, sel, cap, !queryObject);
  }
  std::vector<SourceAnswer> answers = fwd.send(targets, requests, call.request().header("via"));

  MergedPage page;
  federation::EntityMerger merger;
  merger.add(std::move(local->entities), federation::Precedence::kInclusive);
  for (const SourceAnswer& a : answers) {
    auto entities = entitiesOf(a, call.context(), false, page.warnings);
    merger.add(std::move(entities), federation::precedenceOf(a.registration->mode));
  }
  std::vector<JsonDocument> merged = merger.take();
  page.total = merged.size();
  for (size_t i = offset; i < merged.size() && i < offset + limit; ++i) page.entities.push_back(std::move(merged[i]));
  return page;
}

Result<MergedPage> retrieveDistributed(Call& call, const std::string& id, const std::vector<Registration>& targets) {
  const Forwarder& fwd = *call.services().forwarder;
  MergedPage page;
  federation::EntityMerger merger;
  auto local = call.services().store.getEntity(call.tenant(), id);
  if (local) {
    std::vector<JsonDocument> one;
    one.push_back(std::move(local).value());
    merger.add(std::move(one), federation::Precedence::kInclusive);
  } else if (local.status().type() != ErrorType::kResourceNotFound) {
    return local.status();
  }
  federation::RequestSelector sel;
  sel.ids.push_back(id);
  if (auto* a = call.param("attrs")) {
    for (const auto& name : splitList(*a)) {
      auto iri = model::expandAttributeName(name, call.context());
      if (iri) sel.attrs.push_back(*iri);
    }
  }
  SourceRequest base;
  base.method = "GET";
  base.path = "/ngsi-ld/v1/entities/" + http::percentEncode(id, ":");
  base.headers = forwardedHeaders(call, false);
  std::vector<SourceRequest> requests;
  for (const Registration& r : targets) {
    requests.push_back(base);
    requests.back().query = forwardedQuery(call, r, sel, 0, false);
  }
  std::vector<SourceAnswer> answers = fwd.send(targets, requests, call.request().header("via"));
  for (const SourceAnswer& a : answers) {
    auto entities = entitiesOf(a, call.context(), true, page.warnings);
    merger.add(std::move(entities), federation::precedenceOf(a.registration->mode));
  }
  page.entities = merger.take();
  page.total = page.entities.size();
  return page;
}

void addWarnings(http::Response& r, const std::vector<std::string>& warnings) {
  for (const auto& w : warnings) r.setHeader("NGSILD-Warning", w);
}

}  // namespace allmende::api

// ---------------------------------------------------------------------------------------------
// Writes

namespace allmende::api {

namespace {

// What one write touches: its entity, types and attributes (expanded).
federation::RequestSelector writeSelector(const Call& call, const std::string& id) {
  federation::RequestSelector s;
  s.ids.push_back(id);
  const Json& body = call.body();
  if (body.IsObject()) {
    if (const Json* t = findMember(body, "type")) {
      auto add = [&](const Json& v) {
        if (!v.IsString()) return;
        auto iri = model::expandTypeName(asView(v), call.context());
        if (iri) s.types.push_back(*iri);
      };
      if (t->IsArray()) {
        for (const auto& v : t->GetArray()) add(v);
      } else {
        add(*t);
      }
    }
    if (!call.pathParamIf("attrId")) {
      for (const auto& m : body.GetObject()) {
        if (isEntityMember(asView(m.name))) continue;
        auto iri = model::expandAttributeName(asView(m.name), call.context());
        if (iri) s.attrs.push_back(*iri);
      }
    }
  }
  if (const std::string* attr = call.pathParamIf("attrId")) {
    auto iri = model::expandAttributeName(*attr, call.context());
    if (iri) s.attrs.push_back(*iri);
  }
  return s;
}

// The body with only the attributes for which `keep(iri)` holds (entity members stay).
std::string bodyWith(const Call& call, const std::function<bool(const std::string&)>& keep, size_t& kept) {
  return toJsonString(entityWith(call.body(), call.context(), keep, kept));
}

struct PartOutcome {
  std::string registrationId;  // "" = local
  int status = 0;              // HTTP status, 0 = no answer
  std::string body;            // the answer (ProblemDetails on failure)
  std::string reason;          // transport failure
};

bool succeeded(const PartOutcome& o) { return o.status >= 200 && o.status < 300; }

http::Response combine(const std::string& id, std::vector<PartOutcome>& parts, http::Response* localResponse) {
  size_t ok = 0;
  for (const auto& p : parts) ok += succeeded(p) ? 1 : 0;
  // A delete or update of an entity that one holder (the broker or a source) does not have,
  // done by another, is a success: that 404 only says the holder has no part of it.
  if (ok > 0) {
    if (localResponse && localResponse->status == 404) localResponse = nullptr;
    std::erase_if(parts, [](const PartOutcome& p) { return p.status == 404; });
  }
  if (ok == parts.size()) {
    if (localResponse) return *localResponse;
    http::Response r = emptyResponse(parts.front().status == 201 ? 201 : 204);
    if (r.status == 201) r.setHeader("Location", "/ngsi-ld/v1/entities/" + http::percentEncode(id, ":"));
    return r;
  }
  if (ok == 0) {
    if (localResponse) return *localResponse;
    const PartOutcome& first = parts.front();
    if (first.status == 0) {
      return problemResponse(Status(ErrorType::kServiceUnavailable, first.reason));
    }
    http::Response r;
    r.status = first.status;
    r.setHeader("Content-Type", "application/json");
    r.body = first.body;
    return r;
  }
  // Partly done: 207 with the failed parts (NGSI-LD 6.3.17: by registration).
  JsonBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("success");
  w.StartArray();
  for (const auto& p : parts) {
    if (succeeded(p)) w.String(p.registrationId.empty() ? "local" : p.registrationId.c_str());
  }
  w.EndArray();
  w.Key("errors");
  w.StartArray();
  for (const auto& p : parts) {
    if (succeeded(p)) continue;
    w.StartObject();
    w.Key("registrationId");
    w.String(p.registrationId.empty() ? "local" : p.registrationId.c_str());
    w.Key("status");
    w.Int(p.status);
    w.Key("detail");
    std::string detail = p.status == 0 ? p.reason : p.body;
    w.String(detail.c_str(), static_cast<rapidjson::SizeType>(detail.size()));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  http::Response r;
  r.status = 207;
  r.setHeader("Content-Type", "application/json");
  r.body = buf.GetString();
  return r;
}

}  // namespace

http::Response distributedWrite(Call& call, federation::Operation op, HandlerFn local) {
  const Forwarder* fwd = call.services().forwarder;
  if (!fwd) return local(call);
  // Tenant, body and @context as the handler will read them (it reads them again).
  bool hasBody = op != federation::Operation::kDeleteEntity && op != federation::Operation::kDeleteAttrs;
  if (!call.resolveTenant(hasBody).isOk()) return local(call);
  // Most tenants register nothing: then the write costs no second parse of its body.
  if (!fwd->anyRegistration(call.tenant())) return local(call);
  if (hasBody) {
    if (!call.parseBody().isOk() || !call.body().IsObject()) return local(call);
  } else if (!call.resolveContextFromLink().isOk()) {
    return local(call);
  }
  std::string id;
  if (const std::string* p = call.pathParamIf("entityId")) {
    id = *p;
  } else if (const Json* v = findMember(call.body(), "id"); v && v->IsString()) {
    id = std::string(asView(*v));
  }
  if (id.empty()) return local(call);
  federation::RequestSelector sel = writeSelector(call, id);
  if (!hasBody) addStoredTypes(call, id, sel);
  auto targets = distributedTargets(call, op, sel);
  if (!targets) return problemResponse(targets.status());
  std::erase_if(*targets, [](const Registration& r) { return r.mode == federation::Mode::kAuxiliary; });
  if (targets->empty()) return local(call);

  // Which part goes where.
  bool runLocal = true;
  std::vector<std::string> exclusiveAttrs;  // claimed by exclusive registrations
  std::vector<SourceRequest> requests;
  SourceRequest base;
  base.method = call.request().method;
  base.path = call.request().rawPath.empty() ? call.request().path : call.request().rawPath;
  for (const auto& [k, v] : call.request().query) {
    if (k != "local") base.query.emplace_back(k, v);
  }
  base.headers = forwardedHeaders(call, hasBody);
  base.body = call.request().body;
  std::vector<Registration> sent;
  for (const Registration& r : *targets) {
    SourceRequest req = base;
    std::vector<std::string> attrs = federation::registeredAttrs(r, sel);
    if (r.mode == federation::Mode::kRedirect) {
      runLocal = false;  // NGSI-LD 4.3.6.4: the broker holds nothing of it
    } else if (r.mode == federation::Mode::kExclusive && hasBody && !call.pathParamIf("attrId") && !attrs.empty()) {
      // NGSI-LD 4.3.6.3: only the registered attributes go to the exclusive source.
      size_t kept = 0;
      req.body = bodyWith(
          call, [&](const std::string& iri) { return std::find(attrs.begin(), attrs.end(), iri) != attrs.end(); },
          kept);
      if (kept == 0 && op != federation::Operation::kCreateEntity) continue;
      exclusiveAttrs.insert(exclusiveAttrs.end(), attrs.begin(), attrs.end());
    } else if (r.mode == federation::Mode::kExclusive) {
      exclusiveAttrs.insert(exclusiveAttrs.end(), attrs.begin(), attrs.end());
      // An attribute-level write or delete of a registered attribute is the source's alone.
      if (call.pathParamIf("attrId") || op == federation::Operation::kDeleteAttrs) runLocal = false;
    }
    sent.push_back(r);
    requests.push_back(std::move(req));
  }
  std::vector<PartOutcome> parts;
  for (const SourceAnswer& a : fwd->send(sent, requests, call.request().header("via"))) {
    PartOutcome o;
    o.registrationId = a.registration->id;
    if (a.response) {
      o.status = a.response->status;
      o.body = a.response->body;
    } else {
      o.reason = a.response.status().detail();
    }
    parts.push_back(std::move(o));
  }
  std::optional<http::Response> localResponse;
  if (runLocal && hasBody && !exclusiveAttrs.empty() && !call.pathParamIf("attrId")) {
    size_t kept = 0;
    std::string rest = bodyWith(
        call,
        [&](const std::string& iri) {
          return std::find(exclusiveAttrs.begin(), exclusiveAttrs.end(), iri) == exclusiveAttrs.end();
        },
        kept);
    if (kept == 0 && op != federation::Operation::kCreateEntity) {
      runLocal = false;
    } else {
      call.request().body = rest;  // the handler parses the request again
    }
  }
  if (runLocal) {
    localResponse = local(call);
    parts.insert(parts.begin(), PartOutcome{"", localResponse->status, localResponse->body, ""});
  }
  return combine(id, parts, localResponse ? &*localResponse : nullptr);
}

http::Response distributedTemporal(Call& call, federation::Operation op, HandlerFn local) {
  const Forwarder* fwd = call.services().forwarder;
  if (!fwd) return local(call);
  bool retrieval = call.pathParamIf("entityId") != nullptr;
  bool post = call.request().method == "POST";
  if (!call.resolveTenant(false).isOk() || !fwd->anyRegistration(call.tenant())) return local(call);
  if (post ? !call.parseBody().isOk() : !call.resolveContextFromLink().isOk()) return local(call);
  federation::RequestSelector sel;
  if (retrieval) {
    sel.ids.push_back(*call.pathParamIf("entityId"));
  } else {
    auto filters = post ? filtersFromQueryObject(call.body()) : filtersFromParams(call);
    if (!filters) return local(call);
    sel = selectorOf(*filters, call.context());
  }
  auto targets = distributedTargets(call, op, sel);
  if (!targets || targets->empty()) return local(call);
  http::Response mine = local(call);
  if (mine.status != 200 && !(retrieval && mine.status == 404)) return mine;

  SourceRequest base;
  base.method = call.request().method;
  base.path = call.request().rawPath.empty() ? call.request().path : call.request().rawPath;
  for (const auto& [k, v] : call.request().query) {
    if (k != "local") base.query.emplace_back(k, v);
  }
  base.headers = forwardedHeaders(call, post);
  base.body = call.request().body;
  std::vector<SourceRequest> requests(targets->size(), base);
  std::vector<SourceAnswer> answers = fwd->send(*targets, requests, call.request().header("via"));

  JsonDocument merged;
  if (mine.status == 200) {
    if (!parseJson(mine.body, merged).isOk()) return mine;
  } else {
    merged.SetArray();
  }
  if (merged.IsObject()) {  // a retrieval: work on a list of one
    JsonDocument list;
    list.SetArray();
    list.PushBack(Json(merged, list.GetAllocator()), list.GetAllocator());
    merged.Swap(list);
  }
  JsonAllocator& a = merged.GetAllocator();
  std::vector<std::string> warnings;
  for (const SourceAnswer& ans : answers) {
    if (!ans.response || (ans.response->status != 200 && ans.response->status != 404)) {
      warnings.push_back(Forwarder::warning(ans));
      continue;
    }
    if (ans.response->status == 404) continue;
    JsonDocument theirs;
    if (!parseJson(ans.response->body, theirs).isOk()) {
      warnings.push_back(
          Forwarder::warning({ans.registration, Status(ErrorType::kServiceUnavailable, "answer is not JSON")}));
      continue;
    }
    auto mergeOne = [&](const Json& e) {
      const Json* id = findMember(e, "id");
      if (!e.IsObject() || !id || !id->IsString()) return;
      for (auto& m : merged.GetArray()) {
        const Json* mid = findMember(m, "id");
        if (mid && mid->IsString() && asView(*mid) == asView(*id)) {
          federation::mergeTemporalEntity(m, e, a);
          return;
        }
      }
      merged.PushBack(Json(e, a), a);
    };
    if (theirs.IsArray()) {
      for (const auto& e : theirs.GetArray()) mergeOne(e);
    } else {
      mergeOne(theirs);
    }
  }
  if (retrieval) {
    if (merged.Empty()) {
      addWarnings(mine, warnings);
      return mine;  // the local 404
    }
    JsonDocument one;
    one.CopyFrom(merged[0], one.GetAllocator());
    merged.Swap(one);
  }
  http::Response r = call.jsonResponse(200, toJsonString(merged));
  for (const auto& [k, v] : mine.headers) {
    if (k == "Content-Range" || k == "NGSILD-Results-Count") r.setHeader(k, v);
  }
  addWarnings(r, warnings);
  return r;
}

}  // namespace allmende::api
