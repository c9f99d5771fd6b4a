#include "api/tenant_archive.h"

#include <limits>

#include "api/open_dataset.h"
#include "auth/base64url.h"
#include "federation/csource_subscription.h"
#include "federation/registration_json.h"
#include "federation/registration_store.h"
#include "ingest/mapping.h"
#include "notify/matcher.h"
#include "notify/subscription.h"
#include "twin/run_queue.h"

namespace allmende::api {

namespace {

// Instances per history line: a long history takes several lines, none of them huge.
constexpr size_t kInstancesPerLine = 1000;

std::string str(const Json& o, std::string_view m) {
  const Json* v = findMember(o, m);
  return v && v->IsString() ? std::string(asView(*v)) : std::string();
}
int64_t num(const Json& o, std::string_view m) {
  const Json* v = findMember(o, m);
  return v && v->IsInt64() ? v->GetInt64() : 0;
}
Status bad(const std::string& kind, const std::string& why) {
  return badRequestData("archive " + kind + " line: " + why);
}

void addStr(Json& o, const char* name, std::string_view v, JsonAllocator& a) {
  o.AddMember(Json(name, a), jsonString(v, a), a);
}
void addInt(Json& o, const char* name, int64_t v, JsonAllocator& a) { o.AddMember(Json(name, a), Json(v), a); }

// One archive line, {"kind": K, K: {...}}; `fill(object, allocator)` writes the object's members.
template <class Fill>
void writeLine(const LineSink& out, const char* kind, Fill&& fill) {
  JsonDocument d;
  auto& a = d.GetAllocator();
  Json o(rapidjson::kObjectType);
  fill(o, a);
  d.SetObject();
  d.AddMember("kind", Json(kind, a), a);
  d.AddMember(Json(kind, a), o, a);
  out(toJsonString(d) + "\n");
}

Json instanceJson(const store::StoredInstance& i, JsonAllocator& a) {
  Json o(rapidjson::kObjectType);
  addInt(o, "instanceId", i.instanceId, a);
  addStr(o, "attr", i.h.attr, a);
  if (!i.h.datasetId.empty()) addStr(o, "datasetId", i.h.datasetId, a);
  if (i.h.observedAt) addInt(o, "observedAt", *i.h.observedAt, a);
  addInt(o, "recordedAt", i.h.recordedAt, a);
  addInt(o, "modifiedAt", i.modifiedAt, a);
  if (i.h.number) o.AddMember("number", Json(*i.h.number), a);
  if (!i.h.doc.empty()) addStr(o, "doc", i.h.doc, a);
  if (i.h.deleted) o.AddMember("deleted", true, a);
  return o;
}

Result<store::StoredInstance> instanceFrom(const Json& o) {
  if (!o.IsObject() || !findMember(o, "instanceId") || str(o, "attr").empty()) return bad("history", "bad instance");
  store::StoredInstance i;
  i.instanceId = num(o, "instanceId");
  i.h.attr = str(o, "attr");
  i.h.datasetId = str(o, "datasetId");
  if (const Json* t = findMember(o, "observedAt"); t && t->IsInt64()) i.h.observedAt = t->GetInt64();
  i.h.recordedAt = num(o, "recordedAt");
  i.modifiedAt = num(o, "modifiedAt");
  if (const Json* n = findMember(o, "number"); n && n->IsNumber()) i.h.number = n->GetDouble();
  i.h.doc = str(o, "doc");
  if (!i.h.doc.empty()) {
    JsonDocument check;
    if (!parseJson(i.h.doc, check).isOk() || !check.IsObject()) return bad("history", "an instance's doc is not JSON");
  }
  const Json* del = findMember(o, "deleted");
  i.h.deleted = del && del->IsTrue();
  return i;
}

void flushHistoryLine(const std::string& id, const std::string& types, std::vector<store::StoredInstance>& buf,
                      const LineSink& out) {
  writeLine(out, "history", [&](Json& h, JsonAllocator& a) {
    addStr(h, "id", id, a);
    addStr(h, "types", types, a);
    Json list(rapidjson::kArrayType);
    for (const auto& i : buf) list.PushBack(instanceJson(i, a), a);
    h.AddMember("instances", list, a);
  });
  buf.clear();
}

notify::ContextResolver resolverOf(Services& services) {
  return [&services](const Json& v) { return services.contexts.resolve(v); };
}

}  // namespace

Result<size_t> exportHistory(Services& services, const std::string& tenant, const LineSink& out) {
  store::TemporalStore* temporal = services.store.temporal();
  if (!temporal) return size_t{0};
  auto ids = temporal->historyIds(tenant);
  if (!ids) return ids.status();
  size_t count = 0;
  store::InstanceQuery all;
  all.limit = std::numeric_limits<uint32_t>::max();
  for (const auto& id : *ids) {
    auto h = temporal->history(tenant, id, all);
    if (!h) return h.status();
    std::vector<store::StoredInstance> buf;
    bool wrote = false;
    for (auto& attr : h->attrs) {
      for (auto& i : attr.instances) {
        buf.push_back(std::move(i));
        if (buf.size() == kInstancesPerLine) {
          count += buf.size();
          flushHistoryLine(id, h->types, buf, out);
          wrote = true;
        }
      }
    }
    // An id without instances still has a history (its types): one line keeps it.
    if (!buf.empty() || !wrote) {
      count += buf.size();
      flushHistoryLine(id, h->types, buf, out);
    }
  }
  return count;
}

Result<size_t> exportSubscriptions(Services& services, const std::string& tenant, const LineSink& out) {
  if (!services.notifications) return size_t{0};
  auto all = services.notifications->allSubscriptions();
  if (!all) return all.status();
  size_t count = 0;
  for (const auto& s : *all) {
    if (s.tenant != tenant) continue;
    writeLine(out, "subscription", [&](Json& o, JsonAllocator& a) {
      addStr(o, "id", s.id, a);
      addStr(o, "doc", s.doc, a);
    });
    ++count;
  }
  return count;
}

Result<size_t> exportDevices(Services& services, const std::string& tenant, const LineSink& out) {
  if (!services.devices) return size_t{0};
  size_t count = 0;
  for (const auto& dev : services.devices->listDevices(tenant)) {
    const store::DeviceRecord& r = dev.record;
    writeLine(out, "device", [&](Json& o, JsonAllocator& a) {
      addStr(o, "id", r.id, a);
      addStr(o, "entityId", r.entityId, a);
      addStr(o, "entityType", r.entityType, a);
      addStr(o, "mapping", r.mapping, a);
      addStr(o, "mqttUsername", r.mqttUsername, a);
      addStr(o, "passwordHash", r.passwordHash, a);  // PBKDF2 hash, never the password
      addInt(o, "expectedIntervalSeconds", r.expectedIntervalSeconds, a);
      addInt(o, "created", r.created, a);
    });
    ++count;
  }
  return count;
}

Result<size_t> exportDatasets(Services& services, const std::string& tenant, const LineSink& out) {
  if (!services.datasets) return size_t{0};
  auto list = services.datasets->list(tenant);
  if (!list) return list.status();
  for (const auto& r : *list) {
    writeLine(out, "dataset", [&](Json& o, JsonAllocator& a) {
      addStr(o, "id", r.id, a);
      addStr(o, "definition", r.definition, a);
      addInt(o, "created", r.created, a);
      addInt(o, "modified", r.modified, a);
    });
  }
  return list->size();
}

Result<size_t> exportContexts(Services& services, const std::string& tenant, const LineSink& out) {
  size_t count = 0;
  for (const auto& c : services.contexts.list(std::nullopt)) {
    if (c.kind == ld::ContextKind::kCached || c.owner != tenant) continue;
    writeLine(out, "context", [&](Json& o, JsonAllocator& a) {
      addStr(o, "localId", c.localId, a);
      addStr(o, "kind", ld::contextKindName(c.kind), a);
      addInt(o, "created", c.createdAt, a);
      addStr(o, "body", c.body, a);
    });
    ++count;
  }
  return count;
}

Result<size_t> exportTwin(Services& services, const std::string& tenant, const LineSink& out) {
  if (!services.twin) return 0;
  auto files = services.twin->tenantFiles(tenant);
  if (!files) return files.status();
  for (const auto& file : *files) {  // (path, bytes); clang 14 cannot capture structured bindings
    writeLine(out, "twinFile", [&](Json& o, JsonAllocator& a) {
      addStr(o, "path", file.first, a);
      addStr(o, "base64url", auth::base64UrlEncode(file.second), a);
    });
  }
  return files->size();
}

namespace {

Result<size_t> exportCSources(Services& services, store::CSourceKind kind, const char* lineKind,
                              const std::string& tenant, const LineSink& out) {
  if (!services.csources) return size_t{0};
  auto records = services.csources->list(kind, tenant);
  if (!records) return records.status();
  for (const auto& r : *records) {
    writeLine(out, lineKind, [&](Json& o, JsonAllocator& a) {
      addStr(o, "id", r.id, a);
      addStr(o, "doc", r.doc, a);
    });
  }
  return records->size();
}

}  // namespace

Result<size_t> exportCSourceRegistrations(Services& services, const std::string& tenant, const LineSink& out) {
  return exportCSources(services, store::CSourceKind::kRegistration, "csourceRegistration", tenant, out);
}

Result<size_t> exportCSourceSubscriptions(Services& services, const std::string& tenant, const LineSink& out) {
  return exportCSources(services, store::CSourceKind::kSubscription, "csourceSubscription", tenant, out);
}

Result<bool> readPartLine(const std::string& kind, const Json& l, ArchiveParts& parts) {
  const Json* o = findMember(l, kind);
  if (kind != "history" && kind != "subscription" && kind != "device" && kind != "dataset" && kind != "context" &&
      kind != "twinFile" && kind != "csourceRegistration" && kind != "csourceSubscription") {
    return false;
  }
  if (!o || !o->IsObject()) return bad(kind, "no \"" + kind + "\" object");
  if (kind == "csourceRegistration" || kind == "csourceSubscription") {
    store::CSourceRecord r{"", str(*o, "id"), str(*o, "doc")};
    if (r.id.empty() || r.doc.empty()) return bad(kind, "needs id and doc");
    // The same reading as at start, so that an archive stores nothing the broker cannot load.
    bool registration = kind == "csourceRegistration";
    Status st = Status::ok();
    if (registration) {
      if (auto reg = federation::fromInternalJson("", r.doc); !reg) st = reg.status();
    } else if (auto sub = federation::csourceSubscriptionFromJson("", r.doc); !sub) {
      st = sub.status();
    }
    if (!st.isOk()) return bad(kind, r.id.substr(0, 64) + ": " + st.detail());
    (registration ? parts.csourceRegistrations : parts.csourceSubscriptions).push_back(std::move(r));
    return true;
  }
  if (kind == "history") {
    HistoryPart h{str(*o, "id"), str(*o, "types"), {}};
    const Json* list = findMember(*o, "instances");
    if (h.id.empty() || !list || !list->IsArray()) return bad(kind, "needs id and instances");
    for (const auto& i : list->GetArray()) {
      auto inst = instanceFrom(i);
      if (!inst) return inst.status();
      h.instances.push_back(std::move(inst).value());
    }
    parts.historyInstances += h.instances.size();
    parts.history.push_back(std::move(h));
  } else if (kind == "subscription") {
    store::StoredSubscription s{"", str(*o, "id"), str(*o, "doc")};
    if (s.id.empty() || s.doc.empty()) return bad(kind, "needs id and doc");
    parts.subscriptions.push_back(std::move(s));
  } else if (kind == "device") {
    store::DeviceRecord r;
    r.id = str(*o, "id");
    r.entityId = str(*o, "entityId");
    r.entityType = str(*o, "entityType");
    r.mapping = str(*o, "mapping");
    r.mqttUsername = str(*o, "mqttUsername");
    r.passwordHash = str(*o, "passwordHash");
    r.expectedIntervalSeconds = num(*o, "expectedIntervalSeconds");
    r.created = num(*o, "created");
    if (r.id.empty() || r.entityId.empty()) return bad(kind, "needs id and entityId");
    // The same checks as the device API's, so that an archive stores no mapping it would refuse.
    JsonDocument mapping;
    if (!parseJson(r.mapping.empty() ? "{}" : r.mapping, mapping).isOk()) return bad(kind, "mapping is not JSON");
    auto m = ingest::parseMapping(mapping);
    if (!m) return bad(kind, "device " + r.id.substr(0, 64) + ": " + m.status().detail());
    parts.devices.push_back(std::move(r));
  } else if (kind == "dataset") {
    store::DatasetRecord r{"", str(*o, "id"), str(*o, "definition"), num(*o, "created"), num(*o, "modified")};
    if (r.id.empty() || r.definition.empty()) return bad(kind, "needs id and definition");
    JsonDocument definition;
    if (!validDatasetId(r.id) || !parseJson(r.definition, definition).isOk()) return bad(kind, "bad dataset");
    auto d = parseDataset(r.id, definition);
    if (!d) return bad(kind, "dataset " + r.id.substr(0, 64) + ": " + d.status().detail());
    parts.datasets.push_back(std::move(r));
  } else if (kind == "twinFile") {
    std::string path = str(*o, "path");
    auto bytes = auth::base64UrlDecode(str(*o, "base64url"));
    if (!twin::RunQueue::isTenantFilePath(path))
      return bad(kind, "not a file of a scenario or run: '" + path.substr(0, 80) + "'");
    if (!bytes) return bad(kind, "the content of " + path + " is not base64url");
    parts.twinFiles.emplace_back(std::move(path), std::move(*bytes));
  } else {
    ld::ContextInfo c;
    c.localId = str(*o, "localId");
    c.kind = str(*o, "kind") == "ImplicitlyCreated" ? ld::ContextKind::kImplicitlyCreated : ld::ContextKind::kHosted;
    c.createdAt = num(*o, "created");
    c.body = str(*o, "body");
    if (c.localId.empty() || c.body.empty()) return bad(kind, "needs localId and body");
    parts.contexts.push_back(std::move(c));
  }
  return true;
}

Status restoreParts(Services& services, const std::string& tenant, const ArchiveParts& parts) {
  for (auto c : parts.contexts) {
    c.owner = tenant;
    ALLMENDE_RETURN_IF_ERROR(services.contexts.restore(std::move(c)));
  }
  if (store::TemporalStore* temporal = services.store.temporal()) {
    // The entities were written already and left history of their current state: the first
    // line of an id replaces it, the following ones add to it.
    const std::string* previous = nullptr;
    for (const auto& h : parts.history) {
      bool first = previous == nullptr || *previous != h.id;
      ALLMENDE_RETURN_IF_ERROR(temporal->restoreHistory(tenant, h.id, h.types, h.instances, first));
      previous = &h.id;
    }
  }
  for (auto d : parts.devices) {
    if (!services.devices)
      return Status(ErrorType::kOperationNotSupported, "the archive has devices: ingestion is off");
    d.tenant = tenant;
    ALLMENDE_RETURN_IF_ERROR(services.devices->createDevice(d));
  }
  for (auto r : parts.datasets) {
    if (!services.datasets)
      return Status(ErrorType::kOperationNotSupported, "the archive has datasets: open data is off");
    r.tenant = tenant;
    ALLMENDE_RETURN_IF_ERROR(services.datasets->put(r));
  }
  if (!parts.twinFiles.empty()) {
    if (!services.twin) {
      return Status(ErrorType::kOperationNotSupported,
                    "the archive has flood scenarios and runs: the digital twin is off (--no-twin)");
    }
    ALLMENDE_RETURN_IF_ERROR(services.twin->restoreTenantFiles(tenant, parts.twinFiles));
  }
  if (!parts.csourceRegistrations.empty() || !parts.csourceSubscriptions.empty()) {
    if (!services.registrations || !services.csources) {
      return Status(ErrorType::kOperationNotSupported,
                    "the archive has context source registrations: they are not enabled on this server");
    }
    for (const auto& r : parts.csourceRegistrations) {
      auto reg = federation::fromInternalJson(tenant, r.doc);
      if (!reg) return reg.status();
      ALLMENDE_RETURN_IF_ERROR(services.registrations->create(*reg));  // through the cache
    }
    for (auto r : parts.csourceSubscriptions) {
      r.tenant = tenant;
      ALLMENDE_RETURN_IF_ERROR(services.csources->put(store::CSourceKind::kSubscription, r, true));
    }
  }
  for (auto s : parts.subscriptions) {
    if (!services.notifications) {
      return Status(ErrorType::kOperationNotSupported, "the archive has subscriptions: subscriptions are off");
    }
    s.tenant = tenant;
    auto sub = notify::loadSubscription(tenant, s.doc, resolverOf(services));
    if (!sub) return sub.status();
    ALLMENDE_RETURN_IF_ERROR(services.notifications->putSubscription(s, true));
    if (services.subscriptionIndex) services.subscriptionIndex->put(*sub);
  }
  return Status::ok();
}

Status deleteTenantParts(Services& services, const std::string& tenant) {
  if (services.notifications) {
    auto all = services.notifications->allSubscriptions();
    if (!all) return all.status();
    for (const auto& s : *all) {
      if (s.tenant != tenant) continue;
      if (services.subscriptionIndex) services.subscriptionIndex->remove(tenant, s.id);
      ALLMENDE_RETURN_IF_ERROR(services.notifications->deleteSubscription(tenant, s.id));
    }
  }
  if (services.csources) {
    auto subs = services.csources->list(store::CSourceKind::kSubscription, tenant);
    if (!subs) return subs.status();
    for (const auto& r : *subs) {
      ALLMENDE_RETURN_IF_ERROR(services.csources->remove(store::CSourceKind::kSubscription, tenant, r.id));
    }
  }
  if (services.registrations) {
    auto regs = services.registrations->list(tenant);
    if (!regs) return regs.status();
    for (const auto& r : *regs) ALLMENDE_RETURN_IF_ERROR(services.registrations->remove(tenant, r.id));
  }
  if (services.devices) {
    for (const auto& d : services.devices->listDevices(tenant)) {
      ALLMENDE_RETURN_IF_ERROR(services.devices->deleteDevice(tenant, d.record.id));
    }
  }
  if (services.datasets) ALLMENDE_RETURN_IF_ERROR(services.datasets->removeTenant(tenant));
  for (const auto& c : services.contexts.list(std::nullopt)) {
    if (c.kind != ld::ContextKind::kCached && c.owner == tenant) {
      ALLMENDE_RETURN_IF_ERROR(services.contexts.remove(c.localId));
    }
  }
  return Status::ok();
}

Status deleteTenantHistory(Services& services, const std::string& tenant) {
  store::TemporalStore* temporal = services.store.temporal();
  return temporal ? temporal->deleteTenantHistory(tenant) : Status::ok();
}

}  // namespace allmende::api
