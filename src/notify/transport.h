// How notifications leave Allmende: a Transport per endpoint scheme (HTTP now, MQTT), behind one
// interface so the notifier does not know the protocol and tests can replace it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/time.h"
#include "notify/notification.h"

namespace allmende::notify {

// One notification to deliver. Deliveries with the same `lane` are delivered one after the other
// in submission order (so a lane per endpoint and entity keeps the order per entity); different
// lanes never wait for each other.
struct Delivery {
  int64_t seq = 0;  // outbox row (0: not from the outbox, e.g. periodic)
  std::string lane;
  std::string uri;  // endpoint.uri
  RenderedNotification message;
  std::string subscriptionKey;  // the notifier's key of the subscription
  Micros spacing = 0;           // throttling: at least this long after the lane's previous send
  std::vector<std::pair<std::string, std::string>> notifierInfo;  // transport options (MQTT QoS, ...)
};

enum class Outcome {
  kDelivered,  // the receiver accepted it (HTTP 2xx, MQTT published)
  kRetrying,   // this attempt failed; it will be tried again after a backoff
  kFailed,     // given up after the last attempt
};

// Called on the transport's thread for every attempt's outcome; must be quick.
using OutcomeFn = std::function<void(const Delivery& d, Outcome outcome, const std::string& error)>;

// Retries of a failed delivery: attempt n (from 1) waits firstBackoff * 2^(n-1), at most
// maxBackoff, up to maxAttempts attempts. Once an endpoint lane has given up on a notification,
// the endpoint counts as down: notifications queued for it are given up at once until the
// longest backoff has passed, then one is tried (a probe); while probes fail it stays down, the
// first success ends that. So a dead receiver holds no backlog in memory (HTTP; the MQTT
// transport gives each a single attempt instead).
struct RetryPolicy {
  int maxAttempts = 5;
  Micros firstBackoff = 100'000;
  Micros maxBackoff = 10'000'000;
  Micros timeout = 5'000'000;  // connect / send / response, per attempt
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Thread-safe; returns at once.
  virtual void submit(Delivery d) = 0;
  // Stops delivering; undelivered notifications stay in the outbox. Idempotent.
  virtual void stop() = 0;
};

}  // namespace allmende::notify
