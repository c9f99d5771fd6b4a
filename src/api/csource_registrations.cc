// Context source registrations (NGSI-LD 5.9, 5.10; HTTP binding 6.8, 6.9): create, query,
// retrieve, update, delete. Terms are expanded with the request's @context on the way in and
// compacted with it on the way out, as for entities; each change is told to the tenant's
// csourceSubscriptions (api/csource_common.h).
#include <mutex>

#include "api/csource_common.h"
#include "api/handlers.h"
#include "api/problem.h"
#include "federation/forward.h"
#include "federation/registration_json.h"
#include "federation/registration_query.h"
#include "federation/registration_store.h"
#include "geo/geo_query.h"
#include "query/q.h"
#include "query/scope_query.h"
#include "query/type_selector.h"

namespace allmende::api {

namespace {

// Changes are serialised: the mode conflict check (4.3.6.3) sees the registrations as they are
// when the change is stored, and csourceSubscriptions hear of the changes in their order.
std::mutex changeMutex;

Status begin(Call& call, bool write) {
  ALLMENDE_RETURN_IF_ERROR(csourcesAvailable(call));
  ALLMENDE_RETURN_IF_ERROR(resolveCSourceTenant(call, write));
  return call.negotiate(false);
}

federation::TermFn expander(const Call& call) {
  return [&call](std::string_view t) { return call.context().expandTerm(t); };
}

federation::TermFn compactor(const Call& call) {
  return [&call](std::string_view iri) { return call.context().compactIri(iri); };
}

void write(const Call& call, JsonWriter& w, const federation::Registration& r) {
  federation::RenderOptions o;
  o.sysAttrs = csourceSysAttrs(call);
  // NGSI-LD 5.2.9 timesSent, timesFailed, lastSuccess, lastFailure: counted by the forwarder.
  std::optional<federation::RegistrationStatus> status;
  if (const federation::Forwarder* fwd = call.services().forwarder) status = fwd->status(r.ownerTenant, r.id);
  if (status) o.status = &*status;
  // writeRegistration closes the object; the @context goes in before that.
  JsonBuffer inner;
  JsonWriter iw(inner);
  federation::writeRegistration(iw, r, compactor(call), o);
  std::string text(inner.GetString(), inner.GetSize());
  std::string ctx = call.embeddedContext();
  if (!ctx.empty()) text.insert(text.size() - 1, ",\"@context\":" + ctx);
  w.RawValue(text.data(), text.size(), rapidjson::kObjectType);
}

Status checkConflicts(const Call& call, const federation::Registration& r) {
  auto others = call.services().registrations->list(call.tenant());
  if (!others) return others.status();
  return federation::checkModeConflicts(r, *others, call.now());
}

std::vector<std::string> commaList(const std::string& v) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at <= v.size()) {
    size_t end = std::min(v.find(',', at), v.size());
    if (end > at) out.push_back(v.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

Status timeQuery(const Call& call, federation::RegistrationQuery& q) {
  const std::string* rel = call.param("timerel");
  if (!rel) return Status::ok();
  federation::TimeQuery t;
  if (*rel == "before") {
    t.rel = federation::TimeQuery::Rel::kBefore;
  } else if (*rel == "after") {
    t.rel = federation::TimeQuery::Rel::kAfter;
  } else if (*rel == "between") {
    t.rel = federation::TimeQuery::Rel::kBetween;
  } else {
    return badRequestData("timerel must be before, after or between");
  }
  const std::string* at = call.param("timeAt");
  auto when = at ? parseDateTime(*at) : std::nullopt;
  if (!when) return badRequestData("timerel needs timeAt as a DateTime");
  t.at = *when;
  if (t.rel == federation::TimeQuery::Rel::kBetween) {
    const std::string* end = call.param("endTimeAt");
    auto e = end ? parseDateTime(*end) : std::nullopt;
    if (!e || *e <= t.at) return badRequestData("timerel=between needs endTimeAt, a DateTime after timeAt");
    t.endAt = *e;
  }
  if (const std::string* p = call.param("timeproperty")) {
    if (*p == "managementInterval") {
      t.management = true;
    } else if (*p != "observationInterval") {
      return badRequestData("timeproperty must be observationInterval or managementInterval");
    }
  }
  q.time = t;
  return Status::ok();
}

// NGSI-LD 6.8.3.2: the query parameters of Query Context Source Registrations.
Result<federation::RegistrationQuery> readQuery(const Call& call) {
  federation::RegistrationQuery q;
  query::ExpandFn expand = [&call](std::string_view t) { return call.context().expandTerm(t); };
  if (const std::string* id = call.param("id")) {
    q.selector.ids = commaList(*id);
    for (const auto& i : q.selector.ids) {
      if (i.find(':') == std::string::npos) return badRequestData("id: '" + i.substr(0, 80) + "' is not a URI");
    }
  }
  if (const std::string* p = call.param("idPattern")) {
    if (p->size() > 256) return Status(ErrorType::kTooComplexQuery, "idPattern longer than 256");
    try {
      std::regex re(*p, std::regex::ECMAScript);
    } catch (const std::regex_error&) {
      return badRequestData("invalid idPattern");
    }
    q.selector.idPattern = *p;
  }
  if (const std::string* t = call.param("type")) {
    auto sel = query::parseTypeSelector(*t, expand);
    if (!sel) return sel.status();
    q.types = std::move(*sel);
  }
  if (const std::string* a = call.param("attrs")) {
    for (const auto& name : commaList(*a)) q.selector.attrs.push_back(expand(name));
  }
  for (auto [name, slot] : {std::pair{"q", &q.q}, std::pair{"csf", &q.csf}}) {
    if (const std::string* text = call.param(name)) {
      auto parsed = query::parseQ(*text, expand);
      if (!parsed) return parsed.status();
      *slot = std::move(*parsed);
    }
  }
  if (const std::string* s = call.param("scopeQ")) {
    auto parsed = query::parseScopeQ(*s);
    if (!parsed) return parsed.status();
    q.scopeQ = std::move(*parsed);
  }
  const std::string* georel = call.param("georel");
  const std::string* geometry = call.param("geometry");
  const std::string* coordinates = call.param("coordinates");
  if (georel || geometry || coordinates) {
    if (!georel || !geometry || !coordinates)
      return badRequestData("a geo-query needs georel, geometry and coordinates");
    auto g = geo::parseGeoQuery(*georel, *geometry, *coordinates, std::string());
    if (!g) return g.status();
    q.geo.emplace(std::move(*g));
  }
  ALLMENDE_RETURN_IF_ERROR(timeQuery(call, q));
  return q;
}

Result<federation::Registration> find(const Call& call) {
  return call.services().registrations->get(call.tenant(), call.pathParam("registrationId"));
}

}  // namespace

http::Response createCSourceRegistration(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(begin(call, true));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.parseBody());
  auto r = federation::parseRegistration(call.body(), expander(call), call.tenant(), call.now());
  if (!r) return problemResponse(r.status());
  {
    std::lock_guard<std::mutex> lock(changeMutex);
    ALLMENDE_RETURN_IF_ERROR_RESPONSE(checkConflicts(call, *r));
    ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.services().registrations->create(*r));
    notifyRegistrationChange(call, nullptr, &*r);
  }
  http::Response res = emptyResponse(201);
  res.setHeader("Location", "/ngsi-ld/v1/csourceRegistrations/" + http::percentEncode(r->id, ":"));
  return res;
}

http::Response queryCSourceRegistrations(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(begin(call, false));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.resolveContextFromLink());
  size_t limit = 0, offset = 0;
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(csourcePage(call, limit, offset));
  auto q = readQuery(call);
  if (!q) return problemResponse(q.status());
  auto all = call.services().registrations->list(call.tenant());
  if (!all) return problemResponse(all.status());
  auto expand = [&call](std::string_view t) { return call.context().expandTerm(t); };
  JsonBuffer buf;
  JsonWriter w(buf);
  w.StartArray();
  size_t matched = 0;
  for (const auto& r : *all) {
    if (!federation::selects(*q, r, expand)) continue;
    if (matched >= offset && matched < offset + limit) write(call, w, r);
    ++matched;
  }
  w.EndArray();
  http::Response res = call.jsonResponse(200, std::string(buf.GetString(), buf.GetSize()));
  if (const std::string* c = call.param("count"); c && *c == "true") {
    res.setHeader("NGSILD-Results-Count", std::to_string(matched));
  }
  return res;
}

http::Response retrieveCSourceRegistration(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(begin(call, false));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.resolveContextFromLink());
  auto r = find(call);
  if (!r) return problemResponse(r.status());
  JsonBuffer buf;
  JsonWriter w(buf);
  write(call, w, *r);
  return call.jsonResponse(200, std::string(buf.GetString(), buf.GetSize()));
}

http::Response updateCSourceRegistration(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(begin(call, true));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.parseBody());
  std::lock_guard<std::mutex> lock(changeMutex);
  auto current = find(call);
  if (!current) return problemResponse(current.status());
  auto next = federation::patchRegistration(*current, call.body(), expander(call), call.now());
  if (!next) return problemResponse(next.status());
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(checkConflicts(call, *next));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.services().registrations->replace(*next));
  notifyRegistrationChange(call, &*current, &*next);
  return emptyResponse(204);
}

http::Response deleteCSourceRegistration(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(csourcesAvailable(call));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.resolveTenant(true));
  std::lock_guard<std::mutex> lock(changeMutex);
  auto current = find(call);
  if (!current) return problemResponse(current.status());
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.services().registrations->remove(call.tenant(), current->id));
  notifyRegistrationChange(call, &*current, nullptr);
  return emptyResponse(204);
}

}  // namespace allmende::api
