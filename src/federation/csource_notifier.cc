#include "federation/csource_notifier.h"

namespace allmende::federation {

CSourceNotifier::CSourceNotifier() = default;

CSourceNotifier::~CSourceNotifier() { stop(); }

void CSourceNotifier::setTransport(std::unique_ptr<notify::Transport> transport) { transport_ = std::move(transport); }

notify::OutcomeFn CSourceNotifier::outcomeCallback() {
  return [this](const notify::Delivery& d, notify::Outcome outcome, const std::string&) { onOutcome(d, outcome); };
}

void CSourceNotifier::send(const std::string& tenant, const std::string& subscriptionId, const std::string& uri,
                           notify::RenderedNotification message) {
  if (!transport_) return;
  notify::Delivery d;
  d.lane = uri;  // one lane per endpoint: notifications arrive in the order of the changes
  d.uri = uri;
  d.message = std::move(message);
  d.subscriptionKey = key(tenant, subscriptionId);
  transport_->submit(std::move(d));
}

void CSourceNotifier::onOutcome(const notify::Delivery& d, notify::Outcome outcome) {
  const Micros now = systemClock().now();
  std::lock_guard<std::mutex> lock(mu_);
  RegistrationStatus& s = status_[d.subscriptionKey];
  ++s.timesSent;
  if (outcome == notify::Outcome::kDelivered) {
    s.lastSuccess = now;
  } else {
    ++s.timesFailed;
    s.lastFailure = now;
  }
}

RegistrationStatus CSourceNotifier::status(const std::string& tenant, const std::string& subscriptionId) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = status_.find(key(tenant, subscriptionId));
  return it == status_.end() ? RegistrationStatus{} : it->second;
}

void CSourceNotifier::forget(const std::string& tenant, const std::string& subscriptionId) {
  std::lock_guard<std::mutex> lock(mu_);
  status_.erase(key(tenant, subscriptionId));
}

void CSourceNotifier::stop() {
  if (transport_) transport_->stop();
}

}  // namespace allmende::federation
