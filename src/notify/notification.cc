#include "notify/notification.h"

#include "geo/geo_query.h"
#include "ld/core_context.h"
#include "model/entity.h"

namespace allmende::notify {

namespace {

constexpr std::string_view kContextRel = "http://www.w3.org/ns/json-ld#context";

void writeTypes(const Json& types, const ld::Context& ctx, JsonWriter& w) {
  if (types.IsArray() && types.Size() == 1) {
    w.String(ctx.compactIri(asView(types[0])));
    return;
  }
  w.StartArray();
  if (types.IsArray()) {
    for (const auto& t : types.GetArray()) w.String(ctx.compactIri(asView(t)));
  }
  w.EndArray();
}

bool isGeoJson(const Subscription& s) { return s.endpoint.accept == "application/geo+json"; }
bool isJsonLd(const Subscription& s) { return s.endpoint.accept == "application/ld+json"; }

// The previous-value member for an attribute kind (NGSI-LD 5.2.14 showChanges), or nullptr.
const char* previousMember(std::string_view valueMember) {
  if (valueMember == "value") return "previousValue";
  if (valueMember == "object") return "previousObject";
  if (valueMember == "languageMap") return "previousLanguageMap";
  if (valueMember == "valueList") return "previousValueList";
  return nullptr;
}

// Adds the previous values of the attributes whose default instance changed to the rendered
// entity `text` (normalized or concise; keyValues has no place for them).
std::string withPreviousValues(const Subscription& s, const Json& before, const Json& after, std::string text) {
  const Json* was = findMember(before, "attrs");
  const Json* now = findMember(after, "attrs");
  if (!was || !now) return text;
  JsonDocument doc;
  if (!parseJson(text, doc).isOk() || !doc.IsObject()) return text;
  auto& a = doc.GetAllocator();
  bool changed = false;
  for (auto it = now->MemberBegin(); it != now->MemberEnd(); ++it) {
    const Json* old = findMember(*was, asView(it->name));
    if (!old || *old == it->value || !old->IsArray() || old->Empty()) continue;
    const Json& oldInst = (*old)[0];
    if (findMember(oldInst, "datasetId")) continue;  // only the default instance
    const Json* kind = findMember(oldInst, "type");
    std::string_view member = kind && kind->IsString() ? model::valueMemberOf(asView(*kind)) : std::string_view();
    const char* prev = previousMember(member);
    const Json* oldValue = member.empty() ? nullptr : findMember(oldInst, member);
    Json* rendered = findMember(doc, s.context->compactIri(asView(it->name)));
    if (!prev || !oldValue || !rendered) continue;
    if (!rendered->IsObject()) {  // concise: a bare value becomes {"value": ...}
      Json wrapped(rapidjson::kObjectType);
      wrapped.AddMember("value", Json(*rendered, a), a);
      *rendered = wrapped;
    }
    rendered->RemoveMember(prev);
    rendered->AddMember(Json(prev, a), Json(*oldValue, a), a);
    changed = true;
  }
  return changed ? toJsonString(doc) : text;
}

}  // namespace

std::string renderData(const Subscription& s, const Json* before, const Json* after, Micros now) {
  JsonBuffer buf;
  JsonWriter w(buf);
  if (after) {
    if (isGeoJson(s)) {
      model::renderFeature(*after, *s.context, s.render, std::string(geo::kDefaultGeoProperty), w);
    } else {
      model::renderEntity(*after, *s.context, s.render, w);
      if (s.showChanges && before && s.render.format != model::Format::kKeyValues) {
        return withPreviousValues(s, *before, *after, std::string(buf.GetString(), buf.GetSize()));
      }
    }
  } else {
    // NGSI-LD 5.2.12 entityDeleted: the entity is gone; its id, type and deletedAt are notified.
    w.StartObject();
    w.Key("id");
    const Json& id = (*before)["id"];
    w.String(id.GetString(), id.GetStringLength());
    w.Key("type");
    writeTypes((*before)["type"], *s.context, w);
    w.Key("deletedAt");
    w.String(formatDateTime(now));
    w.EndObject();
  }
  return std::string(buf.GetString(), buf.GetSize());
}

RenderedNotification renderNotification(const Subscription& s, const std::string& notificationId,
                                        const std::vector<std::string>& data, Micros notifiedAt) {
  RenderedNotification n;
  std::string& b = n.body;
  b.reserve(256 + (data.empty() ? 0 : data[0].size() * data.size()));
  b += "{\"id\":";
  b += toJsonString(Json(notificationId.c_str(), static_cast<rapidjson::SizeType>(notificationId.size())));
  b += ",\"type\":\"Notification\",\"subscriptionId\":";
  b += toJsonString(Json(s.id.c_str(), static_cast<rapidjson::SizeType>(s.id.size())));
  b += ",\"notifiedAt\":\"" + formatDateTime(notifiedAt) + "\",\"data\":";
  b += isGeoJson(s) ? "{\"type\":\"FeatureCollection\",\"features\":[" : "[";
  for (size_t i = 0; i < data.size(); ++i) {
    if (i) b += ',';
    b += data[i];
  }
  b += isGeoJson(s) ? "]}" : "]";
  // NGSI-LD 6.3.6 / 5.3.1: ld+json carries the @context in the body, json and geo+json in a Link.
  if (isJsonLd(s)) {
    b += ",\"@context\":" + (s.contextJson == "null" ? "\"" + std::string(ld::kCoreContextUrl) + "\"" : s.contextJson);
    n.contentType = "application/ld+json";
  } else {
    n.contentType = s.endpoint.accept;
    std::string url = s.contextUrl.empty() ? std::string(ld::kCoreContextUrl) : s.contextUrl;
    n.headers.emplace_back("Link",
                           "<" + url + ">; rel=\"" + std::string(kContextRel) + "\"; type=\"application/ld+json\"");
  }
  b += "}";
  // NGSI-LD 6.3.14: notifications about a tenant's entities name the tenant.
  if (!s.tenant.empty()) n.headers.emplace_back("NGSILD-Tenant", s.tenant);
  for (const auto& kv : s.endpoint.receiverInfo) n.headers.push_back(kv);
  return n;
}

RenderedNotification renderNotification(const Subscription& s, const store::OutboxRow& row, Micros notifiedAt) {
  return renderNotification(s, "urn:ngsi-ld:Notification:" + std::to_string(row.seq), {row.payload}, notifiedAt);
}

}  // namespace allmende::notify
