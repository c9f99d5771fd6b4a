// Delivery of context source notifications (NGSI-LD 5.3.2 CSourceNotification) to the endpoints
// of csourceSubscriptions, over the notifier's HTTP transport (notify/http_sender.h: retries with
// backoff, egress policy). Registrations change rarely; a notification is sent when the change is
// made and is not kept in the outbox (see docs/architecture.md "Federation").
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "federation/registration.h"
#include "notify/transport.h"

namespace allmende::federation {

class CSourceNotifier {
 public:
  // `transport` delivers (made by the caller: notify::makeHttpSender with `outcome()` as its
  // outcome callback, or a test double).
  CSourceNotifier();
  ~CSourceNotifier();
  void setTransport(std::unique_ptr<notify::Transport> transport);
  // The callback the transport reports to (keeps the delivery status per subscription).
  notify::OutcomeFn outcomeCallback();

  // Submits one notification of subscription (tenant, id); returns at once.
  void send(const std::string& tenant, const std::string& subscriptionId, const std::string& uri,
            notify::RenderedNotification message);
  // The delivery state of a subscription (zero when nothing was sent).
  RegistrationStatus status(const std::string& tenant, const std::string& subscriptionId) const;
  void forget(const std::string& tenant, const std::string& subscriptionId);
  void stop();

 private:
  static std::string key(const std::string& tenant, const std::string& id) { return tenant + '\n' + id; }
  void onOutcome(const notify::Delivery& d, notify::Outcome outcome);

  std::unique_ptr<notify::Transport> transport_;
  mutable std::mutex mu_;
  std::map<std::string, RegistrationStatus> status_;  // GUARDED_BY(mu_)
};

}  // namespace allmende::federation
