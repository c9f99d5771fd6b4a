// The notifier: drains the outbox (rows the store wrote in the transactions of the changes),
// renders each row as a Notification of its subscription and hands it to the transport of the
// endpoint; completes a row once delivered or given up, and keeps the delivery status of every
// subscription (timesSent, timesFailed, lastNotification, lastSuccess, lastFailure; 5.2.12).
// Rows not completed when the process dies are delivered again after the restart (at least once,
// in order per entity and endpoint).
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/egress.h"
#include "notify/matcher.h"
#include "notify/transport.h"
#include "store/notification_store.h"

namespace allmende::notify {

struct NotifierOptions {
  size_t claimBatch = 1024;      // outbox rows read at once
  size_t maxInFlight = 100'000;  // rows held in memory (claimed, not completed)
  size_t lanesPerEndpoint = 4;   // parallel connections per endpoint (an entity always uses the same)
  RetryPolicy retry;
  std::string caFile;                 // extra trusted CAs for https endpoints (PEM), "" = system only
  // SSRF: the addresses endpoints may resolve to (common/egress.h); null = any.
  std::shared_ptr<const EgressPolicy> egress;
  Micros idleWake = 20'000;           // the drain loop also runs this often (completions, timeInterval)
  Micros completionPeriod = 100'000;  // delivered rows are removed from the outbox this often
};

struct DeliveryStatus {
  uint64_t timesSent = 0;    // attempts
  uint64_t timesFailed = 0;  // failed attempts
  std::optional<Micros> lastNotification, lastSuccess, lastFailure;
};

// Makes a transport for a scheme ("http", "mqtt"); the notifier owns what it returns.
using TransportFactory = std::function<std::unique_ptr<Transport>(const std::string& scheme, OutcomeFn outcome)>;

class Notifier {
 public:
  // `entities` (may be null) is read for periodic (timeInterval) notifications.
  Notifier(store::NotificationStore& outbox, const SubscriptionIndex& index, store::Store* entities,
           NotifierOptions options, TransportFactory transports = {});
  ~Notifier();

  void start();
  void stop();
  // Called after a commit that wrote outbox rows.
  void wake();

  DeliveryStatus status(const store::TenantId& tenant, const std::string& id) const;
  void forget(const store::TenantId& tenant, const std::string& id);

 private:
  void drainLoop();
  void dispatch(const store::OutboxRow& row, Micros now, std::vector<int64_t>& dropped);
  void submit(const Subscription& s, Delivery d);
  void onOutcome(const Delivery& d, Outcome outcome, const std::string& error);
  void periodic(Micros now);
  Transport* transportFor(const std::string& uri);

  store::NotificationStore& outbox_;
  const SubscriptionIndex& index_;
  store::Store* entities_;
  const NotifierOptions options_;
  TransportFactory factory_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;                                      // GUARDED_BY(mu_)
  bool stopping_ = false;                                   // GUARDED_BY(mu_)
  std::vector<int64_t> completed_;                          // GUARDED_BY(mu_)
  size_t inFlight_ = 0;                                     // GUARDED_BY(mu_)
  std::unordered_map<std::string, DeliveryStatus> status_;  // GUARDED_BY(mu_)

  // Drain thread only.
  std::unordered_map<std::string, Micros> lastPeriodic_;                    // timeInterval
  std::unordered_map<std::string, std::unique_ptr<Transport>> transports_;  // by scheme
  std::thread thread_;
};

// The key of a subscription in the notifier's maps.
std::string subscriptionKey(const store::TenantId& tenant, const std::string& id);

}  // namespace allmende::notify
