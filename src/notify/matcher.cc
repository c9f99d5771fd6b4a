#include "notify/matcher.h"

#include <algorithm>
#include <mutex>

#include "notify/notification.h"

namespace allmende::notify {

namespace {

const Json* attrsOf(const Json* e) { return e ? findMember(*e, "attrs") : nullptr; }

template <typename T>
void erase(std::vector<T>& v, const Subscription* s) {
  v.erase(std::remove_if(v.begin(), v.end(), [&](const T& p) { return p.get() == s; }), v.end());
}

bool selectorMatches(const Subscription::Selector& sel, const Json& e) {
  std::string_view id = asView(e["id"]);
  if (!sel.id.empty() && sel.id != id) return false;
  if (sel.idPattern && !std::regex_search(id.begin(), id.end(), *sel.idPattern)) return false;
  if (sel.type && !query::evaluate(*sel.type, e["type"])) return false;
  return true;
}

bool geoMatches(const geo::GeoFilter& g, const Json& e) {
  const Json* attrs = findMember(e, "attrs");
  const Json* attr = attrs ? findMember(*attrs, g.query().geoproperty) : nullptr;
  if (!attr || !attr->IsArray()) return false;
  for (const auto& inst : attr->GetArray()) {
    const Json* v = findMember(inst, "value");
    if (v && g.matches(*v)) return true;
  }
  return false;
}

bool watches(const Subscription& s, std::string_view attr) {
  return s.watched.empty() || std::find(s.watched.begin(), s.watched.end(), attr) != s.watched.end();
}

bool triggered(const Subscription& s, const ChangeEvents& ev) {
  if (ev.entity & s.triggers & (kEntityCreated | kEntityDeleted)) return true;
  bool anyWatched = false;
  for (const auto& [attr, kind] : ev.attributes) {
    if (!watches(s, attr)) continue;
    anyWatched = true;
    if (s.triggers & kind) return true;
  }
  // entityUpdated: any change, or with watchedAttributes a change of a watched one.
  return (ev.entity & s.triggers & kEntityUpdated) && (s.watched.empty() || anyWatched);
}

}  // namespace

ChangeEvents changeEventsOf(const Json* before, const Json* after) {
  ChangeEvents ev;
  if (!after) {
    ev.entity = kEntityDeleted;
    return ev;
  }
  const Json* was = attrsOf(before);
  const Json* now = attrsOf(after);
  ev.entity = before ? kEntityUpdated : kEntityCreated;
  if (now && now->IsObject()) {
    for (auto it = now->MemberBegin(); it != now->MemberEnd(); ++it) {
      const Json* old = was ? findMember(*was, asView(it->name)) : nullptr;
      if (!old)
        ev.attributes.emplace_back(std::string(asView(it->name)), kAttributeCreated);
      else if (*old != it->value)
        ev.attributes.emplace_back(std::string(asView(it->name)), kAttributeUpdated);
    }
  }
  if (was && was->IsObject()) {
    for (auto it = was->MemberBegin(); it != was->MemberEnd(); ++it) {
      if (!now || !findMember(*now, asView(it->name)))
        ev.attributes.emplace_back(std::string(asView(it->name)), kAttributeDeleted);
    }
  }
  return ev;
}

bool notifies(const Subscription& s, const ChangeEvents& events, const Json& entity, Micros now) {
  if (!s.notifiesAt(now) || s.timeInterval > 0) return false;
  return triggered(s, events) && filterMatches(s, entity);
}

bool filterMatches(const Subscription& s, const Json& entity) {
  if (!s.selectors.empty() && std::none_of(s.selectors.begin(), s.selectors.end(),
                                           [&](const auto& sel) { return selectorMatches(sel, entity); }))
    return false;
  if (s.scopeQ) {
    static const Json kEmpty(rapidjson::kArrayType);
    const Json* scope = findMember(entity, "scope");
    if (!query::evaluate(*s.scopeQ, scope ? *scope : kEmpty)) return false;
  }
  if (s.geoQ && !geoMatches(*s.geoQ, entity)) return false;
  // Linked-entity terms of q match nothing here: the matcher runs inside the write path.
  if (s.q && !query::evaluate(*s.q, entity)) return false;
  return true;
}

namespace {
bool byIdOnly(const Subscription& s) {
  return !s.selectors.empty() &&
         std::all_of(s.selectors.begin(), s.selectors.end(), [](const auto& sel) { return !sel.id.empty(); });
}
}  // namespace

void SubscriptionIndex::unlink(TenantIndex& t, const Subscription& s) {
  for (const auto& sel : s.selectors) {
    auto it = t.byEntity.find(sel.id);
    if (it != t.byEntity.end()) erase(it->second, &s);
  }
  for (const auto& type : s.typeIris) {
    auto it = t.byType.find(type);
    if (it != t.byType.end()) erase(it->second, &s);
  }
  for (const auto& a : s.watched) {
    auto it = t.byAttr.find(a);
    if (it != t.byAttr.end()) erase(it->second, &s);
  }
  erase(t.unindexed, &s);
}

void SubscriptionIndex::put(SubscriptionPtr s) {
  std::unique_lock lock(mu_);
  TenantIndex& t = tenants_[s->tenant];
  auto old = t.byId.find(s->id);
  if (old != t.byId.end()) unlink(t, *old->second);
  if (byIdOnly(*s)) {
    for (const auto& sel : s->selectors) {
      auto& list = t.byEntity[sel.id];
      if (std::find(list.begin(), list.end(), s) == list.end()) list.push_back(s);
    }
  } else if (!s->typeIris.empty()) {
    for (const auto& type : s->typeIris) t.byType[type].push_back(s);
  } else if (s->selectors.empty() && !s->watched.empty()) {
    for (const auto& a : s->watched) t.byAttr[a].push_back(s);
  } else {
    t.unindexed.push_back(s);
  }
  t.byId[s->id] = std::move(s);
}

bool SubscriptionIndex::remove(const store::TenantId& tenant, const std::string& id) {
  std::unique_lock lock(mu_);
  auto t = tenants_.find(tenant);
  if (t == tenants_.end()) return false;
  auto it = t->second.byId.find(id);
  if (it == t->second.byId.end()) return false;
  unlink(t->second, *it->second);
  t->second.byId.erase(it);
  return true;
}

SubscriptionPtr SubscriptionIndex::find(const store::TenantId& tenant, const std::string& id) const {
  std::shared_lock lock(mu_);
  auto t = tenants_.find(tenant);
  if (t == tenants_.end()) return nullptr;
  auto it = t->second.byId.find(id);
  return it == t->second.byId.end() ? nullptr : it->second;
}

std::vector<SubscriptionPtr> SubscriptionIndex::list(const store::TenantId& tenant) const {
  std::vector<SubscriptionPtr> out;
  {
    std::shared_lock lock(mu_);
    auto t = tenants_.find(tenant);
    if (t == tenants_.end()) return out;
    for (const auto& [id, s] : t->second.byId) out.push_back(s);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->id < b->id; });
  return out;
}

std::vector<SubscriptionPtr> SubscriptionIndex::periodic() const {
  std::vector<SubscriptionPtr> out;
  std::shared_lock lock(mu_);
  for (const auto& [tenant, t] : tenants_) {
    for (const auto& [id, s] : t.byId) {
      if (s->timeInterval > 0) out.push_back(s);
    }
  }
  return out;
}

size_t SubscriptionIndex::size() const {
  std::shared_lock lock(mu_);
  size_t n = 0;
  for (const auto& [tenant, t] : tenants_) n += t.byId.size();
  return n;
}

void SubscriptionIndex::match(const store::TenantId& tenant, const Json* before, const Json* after, Micros now,
                              std::vector<store::OutboxEntry>& out) const {
  const Json* entity = after ? after : before;
  if (!entity) return;
  std::vector<const Subscription*> candidates;
  std::optional<ChangeEvents> events;
  std::shared_lock lock(mu_);
  auto t = tenants_.find(tenant);
  if (t == tenants_.end()) return;
  const TenantIndex& idx = t->second;
  auto add = [&](const std::vector<SubscriptionPtr>& list) {
    for (const auto& s : list) {
      if (std::find(candidates.begin(), candidates.end(), s.get()) == candidates.end()) candidates.push_back(s.get());
    }
  };
  if (!idx.byEntity.empty()) {
    auto it = idx.byEntity.find(std::string(asView((*entity)["id"])));
    if (it != idx.byEntity.end()) add(it->second);
  }
  for (const Json* e : {before, after}) {
    const Json* types = e ? findMember(*e, "type") : nullptr;
    if (!types || !types->IsArray()) continue;
    for (const auto& type : types->GetArray()) {
      auto it = idx.byType.find(std::string(asView(type)));
      if (it != idx.byType.end()) add(it->second);
    }
  }
  if (!idx.byAttr.empty()) {
    events = changeEventsOf(before, after);
    for (const auto& [attr, kind] : events->attributes) {
      auto it = idx.byAttr.find(attr);
      if (it != idx.byAttr.end()) add(it->second);
    }
  }
  add(idx.unindexed);
  if (candidates.empty()) return;
  if (!events) events = changeEventsOf(before, after);
  for (const Subscription* s : candidates) {
    if (!notifies(*s, *events, *entity, now)) continue;
    out.push_back({s->id, std::string(asView((*entity)["id"])), renderData(*s, before, after, now)});
  }
}

}  // namespace allmende::notify
