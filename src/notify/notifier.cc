#include "notify/notifier.h"

#include <spdlog/spdlog.h>

#include "notify/http_sender.h"
#include "notify/mqtt_sender.h"

namespace allmende::notify {

namespace {

constexpr size_t kMaxPeriodicEntities = 1000;  // entities in one periodic notification

// The transport of an endpoint: http and https share one.
std::string schemeOf(const std::string& uri) {
  std::string scheme = uri.substr(0, uri.find("://"));
  if (scheme == "https") return "http";
  return scheme == "mqtts" ? "mqtt" : scheme;
}

}  // namespace

std::string subscriptionKey(const store::TenantId& tenant, const std::string& id) { return tenant + '\n' + id; }

Notifier::Notifier(store::NotificationStore& outbox, const SubscriptionIndex& index, store::Store* entities,
                   NotifierOptions options, TransportFactory transports)
    : outbox_(outbox), index_(index), entities_(entities), options_(options), factory_(std::move(transports)) {
  if (!factory_) {
    factory_ = [this](const std::string& scheme, OutcomeFn outcome) -> std::unique_ptr<Transport> {
      if (scheme == "http" || scheme == "https")
        return makeHttpSender(options_.retry, options_.caFile, std::move(outcome), options_.egress);
      if (scheme == "mqtt") return makeMqttSender(options_.retry, options_.caFile, std::move(outcome), options_.egress);
      return nullptr;
    };
  }
}

Notifier::~Notifier() { stop(); }

void Notifier::start() {
  transportFor("http://");  // made now, not with the first notification (loading the CAs takes a while)
  thread_ = std::thread([this] { drainLoop(); });
}

void Notifier::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (auto& [scheme, t] : transports_) {
    if (t) t->stop();
  }
}

void Notifier::wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
  }
  cv_.notify_one();
}

DeliveryStatus Notifier::status(const store::TenantId& tenant, const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = status_.find(subscriptionKey(tenant, id));
  return it == status_.end() ? DeliveryStatus{} : it->second;
}

void Notifier::forget(const store::TenantId& tenant, const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  status_.erase(subscriptionKey(tenant, id));
}

void Notifier::drainLoop() {
  std::vector<int64_t> done;
  Micros lastCompletion = 0;
  for (;;) {
    size_t room = 0;
    // Completing rows takes the database's write lock: batched, and after claiming new rows.
    const bool completeNow = systemClock().now() - lastCompletion >= options_.completionPeriod;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::microseconds(options_.idleWake), [&] { return woken_ || stopping_; });
      if (stopping_) return;
      woken_ = false;
      if (completeNow || completed_.size() >= options_.claimBatch) done.swap(completed_);
      room = options_.maxInFlight > inFlight_ ? options_.maxInFlight - inFlight_ : 0;
    }
    const Micros now = systemClock().now();
    if (room > 0) {
      auto rows = outbox_.claimOutbox(std::min(room, options_.claimBatch));
      if (!rows) {
        spdlog::warn("notifier: cannot read the outbox: {}", rows.status().toString());
      } else {
        std::vector<int64_t> dropped;
        for (const auto& row : *rows) dispatch(row, now, dropped);
        std::lock_guard<std::mutex> lock(mu_);
        completed_.insert(completed_.end(), dropped.begin(), dropped.end());
        if (rows->size() == std::min(room, options_.claimBatch)) woken_ = true;  // more waiting
      }
    }
    if (!done.empty()) {
      Status st = outbox_.completeOutbox(done);
      // Not fatal: the rows are delivered again after a restart (at least once).
      if (!st.isOk()) spdlog::warn("notifier: cannot complete outbox rows: {}", st.toString());
      done.clear();
      lastCompletion = now;
    }
    periodic(now);
  }
}

Transport* Notifier::transportFor(const std::string& uri) {
  std::string scheme = schemeOf(uri);
  auto it = transports_.find(scheme);
  if (it == transports_.end()) {
    auto t = factory_(scheme, [this](const Delivery& d, Outcome o, const std::string& e) { onOutcome(d, o, e); });
    it = transports_.emplace(scheme, std::move(t)).first;
  }
  return it->second.get();
}

void Notifier::dispatch(const store::OutboxRow& row, Micros now, std::vector<int64_t>& dropped) {
  SubscriptionPtr s = index_.find(row.tenant, row.subscriptionId);
  // A subscription deleted, paused or expired since the change: its notification is not sent.
  if (!s || !s->notifiesAt(now)) {
    dropped.push_back(row.seq);
    return;
  }
  Delivery d;
  d.seq = row.seq;
  d.uri = s->endpoint.uri;
  // One lane per endpoint and entity hash: the order per entity holds, entities spread out. A
  // throttled subscription has a lane of its own, which spaces its notifications.
  d.lane = s->throttling > 0
               ? d.uri + "#throttled#" + subscriptionKey(s->tenant, s->id)
               : d.uri + '#' + std::to_string(std::hash<std::string>{}(row.entityId) % options_.lanesPerEndpoint);
  d.message = renderNotification(*s, row, now);
  submit(*s, std::move(d));
}

void Notifier::submit(const Subscription& s, Delivery d) {
  d.subscriptionKey = subscriptionKey(s.tenant, s.id);
  d.notifierInfo = s.endpoint.notifierInfo;
  // NGSI-LD 5.2.12 throttling: at least this long between two notifications. They are delayed,
  // not dropped: every change is still notified.
  d.spacing = s.throttling;
  Transport* t = transportFor(d.uri);
  if (!t) {
    onOutcome(d, Outcome::kFailed, "no transport for " + d.uri);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++inFlight_;
  }
  t->submit(std::move(d));
}

void Notifier::onOutcome(const Delivery& d, Outcome outcome, const std::string& error) {
  const Micros now = systemClock().now();
  std::lock_guard<std::mutex> lock(mu_);
  DeliveryStatus& st = status_[d.subscriptionKey];
  ++st.timesSent;
  st.lastNotification = now;
  if (outcome == Outcome::kDelivered) {
    st.lastSuccess = now;
  } else {
    ++st.timesFailed;
    st.lastFailure = now;
    spdlog::debug("notification to {} failed: {}", d.uri, error);
  }
  if (outcome != Outcome::kRetrying) {
    if (inFlight_ > 0) --inFlight_;
    if (d.seq > 0) completed_.push_back(d.seq);
  }
}

void Notifier::periodic(Micros now) {
  if (!entities_) return;
  for (const SubscriptionPtr& s : index_.periodic()) {
    if (!s->notifiesAt(now)) continue;
    std::string key = subscriptionKey(s->tenant, s->id);
    Micros& last = lastPeriodic_[key];
    if (last && now < last + s->timeInterval) continue;
    last = now;
    // Several nodes on one store: the one that claims the slot sends it.
    auto mine = outbox_.claimPeriodic(s->tenant, s->id, now, s->timeInterval);
    if (!mine) {
      spdlog::warn("periodic notification of {}: {}", s->id, mine.status().toString());
      continue;
    }
    if (!*mine) continue;
    store::EntityQuery q;
    q.typeIris = s->typeIris;
    q.limit = kMaxPeriodicEntities;
    q.match = [s](const Json& e) { return filterMatches(*s, e); };
    auto result = entities_->queryEntities(s->tenant, q);
    if (!result) {
      spdlog::warn("periodic notification of {}: {}", s->id, result.status().toString());
      continue;
    }
    if (result->entities.empty()) continue;
    std::vector<std::string> data;
    for (const auto& e : result->entities) data.push_back(renderData(*s, nullptr, &e, now));
    Delivery d;
    d.uri = s->endpoint.uri;
    d.lane = d.uri + "#periodic";
    d.message = renderNotification(*s, "urn:ngsi-ld:Notification:periodic:" + std::to_string(now), data, now);
    submit(*s, std::move(d));
  }
}

}  // namespace allmende::notify
