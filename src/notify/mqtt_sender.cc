// The only file of notify/ that includes libmosquitto.
#include "notify/mqtt_sender.h"

#include <arpa/inet.h>
#include <mosquitto.h>
#include <netdb.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace allmende::notify {

namespace {

struct MqttUrl {
  std::string host;
  int port = 1883;
  std::string topic;
  bool secure = false;
};

bool parseMqttUrl(std::string_view uri, MqttUrl& out) {
  if (uri.substr(0, 7) == "mqtt://") {
    uri.remove_prefix(7);
  } else if (uri.substr(0, 8) == "mqtts://") {
    uri.remove_prefix(8);
    out.port = 8883;
    out.secure = true;
  } else {
    return false;
  }
  size_t slash = uri.find('/');
  if (slash == std::string_view::npos || slash + 1 >= uri.size()) return false;  // a topic is required
  std::string_view authority = uri.substr(0, slash);
  out.topic = std::string(uri.substr(slash + 1));
  if (authority.find('@') != std::string_view::npos) return false;
  size_t colon = authority.rfind(':');
  out.host = std::string(authority.substr(0, colon));
  if (colon != std::string_view::npos) out.port = std::atoi(std::string(authority.substr(colon + 1)).c_str());
  return !out.host.empty() && out.port > 0 && out.port < 65536;
}

std::string option(const Delivery& d, std::string_view key, std::string fallback) {
  for (const auto& [k, v] : d.notifierInfo) {
    if (k == key) return v;
  }
  return fallback;
}

// NGSI-LD MQTT binding: {"metadata": {headers}, "body": notification}.
std::string mqttPayload(const Delivery& d) {
  std::string out = "{\"metadata\":{\"Content-Type\":" +
                    toJsonString(Json(d.message.contentType.c_str(), d.message.contentType.size()));
  for (const auto& [k, v] : d.message.headers) {
    out += "," + toJsonString(Json(k.c_str(), k.size())) + ":" + toJsonString(Json(v.c_str(), v.size()));
  }
  out += "},\"body\":" + d.message.body + "}";
  return out;
}

class MqttSender final : public Transport {
 public:
  MqttSender(const RetryPolicy& retry, const std::string& caFile, OutcomeFn outcome,
             std::shared_ptr<const EgressPolicy> egress)
      : retry_(retry), caFile_(caFile), outcome_(std::move(outcome)), egress_(std::move(egress)) {
    mosquitto_lib_init();
    thread_ = std::thread([this] { run(); });
  }
  ~MqttSender() override { stop(); }

  void submit(Delivery d) override {
    std::lock_guard<std::mutex> lock(mu_);
    MqttUrl url;
    if (!parseMqttUrl(d.uri, url)) {
      outcome_(d, Outcome::kFailed, "invalid mqtt URI");
      return;
    }
    std::string key = (url.secure ? "s:" : "") + url.host + ":" + std::to_string(url.port) + "#" +
                      option(d, "MQTT-Version", "mqtt3.1.1");
    auto& b = brokers_[key];
    if (!b) {
      b = std::make_unique<Broker>();
      b->owner = this;
      b->url = url;
      b->version = option(d, "MQTT-Version", "mqtt3.1.1");
    }
    b->queue.push_back({std::move(d), url.topic});
    cv_.notify_one();
  }

  void stop() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
    for (auto& [key, b] : brokers_) {
      if (!b->client) continue;
      mosquitto_disconnect(b->client);
      // Not forced: a cancelled network thread may hold one of the client's mutexes, which
      // mosquitto_destroy then destroys locked (ThreadSanitizer). The disconnect ends its loop.
      mosquitto_loop_stop(b->client, false);
      mosquitto_destroy(b->client);
    }
    brokers_.clear();
  }

 private:
  struct Item {
    Delivery delivery;
    std::string topic;
  };
  struct Broker {
    MqttSender* owner = nullptr;
    MqttUrl url;
    std::string version;
    mosquitto* client = nullptr;
    bool connected = false;  // GUARDED_BY(owner->mu_), set from events
    std::deque<Item> queue;  // GUARDED_BY(owner->mu_)
    int inFlightMid = -1;    // GUARDED_BY(owner->mu_): the published, unacknowledged head
    Micros sentAt = 0, retryAt = 0;
    int attempts = 0;
    bool down = false;
    std::string address;  // the resolved address connected to (passed the egress policy)
    std::string refusal;  // GUARDED_BY(owner->mu_): why this broker may not be used; "" = it may
  };

  // libmosquitto calls these on a client's network thread while it holds its own locks; they
  // only post an event, applied under mu_ by run(). Taking mu_ here would invert the order of
  // run(), which calls libmosquitto under mu_ (a deadlock ThreadSanitizer found).
  enum class EventKind { kConnected, kDisconnected, kPublished };
  struct Event {
    Broker* broker;
    EventKind kind;
    int value;            // kConnected: the connect result; kPublished: the message id
    std::string refusal;  // kConnected: why the broker may not be used ("" = it may)
  };
  static void onConnect(mosquitto* client, void* obj, int rc) {
    auto* b = static_cast<Broker*>(obj);
    std::string mismatch = rc == 0 && b->url.secure ? checkCertificateName(client, b->url.host) : "";
    if (!mismatch.empty()) {
      mosquitto_disconnect(client);
      rc = -1;
    }
    post(obj, EventKind::kConnected, rc, std::move(mismatch));
  }
  static void onDisconnect(mosquitto*, void* obj, int) { post(obj, EventKind::kDisconnected, 0); }
  static void onPublish(mosquitto*, void* obj, int mid) { post(obj, EventKind::kPublished, mid); }
  static void post(void* obj, EventKind kind, int value, std::string refusal = {}) {
    auto* b = static_cast<Broker*>(obj);
    MqttSender* self = b->owner;
    {
      std::lock_guard<std::mutex> lock(self->eventsMu_);
      self->events_.push_back({b, kind, value, std::move(refusal)});
    }
    self->cv_.notify_one();
  }

  // Requires mu_.
  void applyEvents() {
    std::vector<Event> events;
    {
      std::lock_guard<std::mutex> lock(eventsMu_);
      events.swap(events_);
    }
    for (const Event& e : events) {
      Broker& b = *e.broker;
      switch (e.kind) {
        case EventKind::kConnected:
          if (!e.refusal.empty()) b.refusal = e.refusal;
          b.connected = e.value == 0;
          break;
        case EventKind::kDisconnected:
          b.connected = false;
          break;
        case EventKind::kPublished:
          if (e.value != b.inFlightMid || b.queue.empty()) break;
          outcome_(b.queue.front().delivery, Outcome::kDelivered, {});
          b.queue.pop_front();
          b.inFlightMid = -1;
          b.attempts = 0;
          b.down = false;
          break;
      }
    }
  }

  bool eventsWaiting() {
    std::lock_guard<std::mutex> lock(eventsMu_);
    return !events_.empty();
  }

  // mqtts connects to the checked address, not the name, so libmosquitto cannot verify the
  // certificate's name; it still verifies the chain, and this checks the name before anything
  // is published. "" = the certificate names `host`.
  static std::string checkCertificateName(mosquitto* client, const std::string& host) {
    auto* ssl = static_cast<SSL*>(mosquitto_ssl_get(client));
    X509* cert = ssl ? SSL_get_peer_certificate(ssl) : nullptr;
    if (!cert) return "TLS: the broker sent no certificate";
    in6_addr ignored;
    bool literal = inet_pton(AF_INET, host.c_str(), &ignored) == 1 || inet_pton(AF_INET6, host.c_str(), &ignored) == 1;
    int ok = literal ? X509_check_ip_asc(cert, host.c_str(), 0)
                     : X509_check_host(cert, host.c_str(), host.size(), 0, nullptr);
    X509_free(cert);
    return ok == 1 ? "" : "TLS: the broker's certificate does not name " + host;
  }

  // The first resolved address of the broker that the egress policy allows, or the refusal.
  Result<std::string> resolve(const MqttUrl& url) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (int rc = getaddrinfo(url.host.c_str(), nullptr, &hints, &found); rc != 0) {
      return Status(ErrorType::kServiceUnavailable, std::string("resolve: ") + gai_strerror(rc));
    }
    Status refusal = Status(ErrorType::kServiceUnavailable, "resolve: no address");
    std::string chosen;
    for (addrinfo* a = found; a && chosen.empty(); a = a->ai_next) {
      char text[INET6_ADDRSTRLEN] = {};
      const void* raw = a->ai_family == AF_INET6
                            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr)
                            : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr);
      if (!inet_ntop(a->ai_family, raw, text, sizeof text)) continue;
      Status st = egress_ ? egress_->check(url.host, text) : Status::ok();
      if (st.isOk()) {
        chosen = text;
      } else {
        refusal = st;
      }
    }
    freeaddrinfo(found);
    if (chosen.empty()) return refusal;
    return chosen;
  }

  // Requires mu_. Fails when the broker's name does not resolve to an allowed address.
  Status open(Broker& b) {
    // SSRF: connect to the address that was checked, so the name is not resolved again.
    Result<std::string> address = resolve(b.url);
    if (!address) return address.status();
    b.address = *address;
    b.client = mosquitto_new(nullptr, true, &b);
    if (b.version == "mqtt5.0") mosquitto_int_option(b.client, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    mosquitto_connect_callback_set(b.client, onConnect);
    mosquitto_disconnect_callback_set(b.client, onDisconnect);
    mosquitto_publish_callback_set(b.client, onPublish);
    mosquitto_reconnect_delay_set(b.client, 1, 10, true);
    if (b.url.secure) {
      // mqtts: the broker's certificate and host name are verified (the system's CAs, or caFile).
      int rc = mosquitto_tls_set(b.client, caFile_.empty() ? nullptr : caFile_.c_str(),
                                 caFile_.empty() ? "/etc/ssl/certs" : nullptr, nullptr, nullptr, nullptr);
      if (rc != MOSQ_ERR_SUCCESS) spdlog::error("mqtts: {}", mosquitto_strerror(rc));
      mosquitto_tls_insecure_set(b.client, true);  // the name is checked in onConnect
    }
    mosquitto_connect_async(b.client, b.address.c_str(), b.url.port, 30);
    mosquitto_loop_start(b.client);
    return Status::ok();
  }

  // Requires mu_. The head of the queue failed: retry after a backoff, or give up (at once when
  // `final`).
  void failHead(Broker& b, const std::string& error, Micros now, bool final = false) {
    b.inFlightMid = -1;
    ++b.attempts;
    if (final || b.down || b.attempts >= retry_.maxAttempts) {
      outcome_(b.queue.front().delivery, Outcome::kFailed, error);
      b.queue.pop_front();
      b.attempts = 0;
      b.down = true;
      return;
    }
    outcome_(b.queue.front().delivery, Outcome::kRetrying, error);
    Micros backoff = retry_.firstBackoff;
    for (int i = 1; i < b.attempts && backoff < retry_.maxBackoff; ++i) backoff *= 2;
    b.retryAt = now + std::min(backoff, retry_.maxBackoff);
  }

  // Requires mu_.
  void step(Broker& b, Micros now) {
    if (b.queue.empty()) return;
    if (!b.refusal.empty()) return failHead(b, b.refusal, now, true);
    if (!b.client) {
      if (now < b.retryAt) return;
      Status st = open(b);
      // Refused by the egress policy: for good (until a restart); unresolvable: retried.
      if (!st.isOk() && st.type() == ErrorType::kBadRequestData) b.refusal = st.detail();
      if (!st.isOk()) return failHead(b, st.detail(), now, !b.refusal.empty());
    }
    if (b.inFlightMid >= 0) {
      if (now - b.sentAt > retry_.timeout) failHead(b, "no acknowledgement from the broker", now);
      return;
    }
    if (now < b.retryAt) return;
    if (!b.connected) {
      if (b.sentAt == 0) b.sentAt = now;
      if (now - b.sentAt > retry_.timeout) {
        b.sentAt = now;
        failHead(b, "cannot connect to the MQTT broker", now);
      }
      return;
    }
    Item& head = b.queue.front();
    std::string payload = mqttPayload(head.delivery);
    int qos = std::atoi(option(head.delivery, "MQTT-QoS", "0").c_str());
    int mid = 0;
    b.sentAt = now;
    int rc = mosquitto_publish(b.client, &mid, head.topic.c_str(), static_cast<int>(payload.size()), payload.data(),
                               qos < 0 || qos > 2 ? 0 : qos, false);
    if (rc != MOSQ_ERR_SUCCESS) return failHead(b, mosquitto_strerror(rc), now);
    b.inFlightMid = mid;
  }

  void run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      // A publish event may arrive before mosquitto_publish returned its mid: events are
      // applied here, after step() recorded the mid, so it is matched all the same.
      applyEvents();
      const Micros now = systemClock().now();
      for (auto& [key, b] : brokers_) step(*b, now);
      cv_.wait_for(lock, std::chrono::milliseconds(20), [&] { return stopping_ || eventsWaiting(); });
    }
  }

  const RetryPolicy retry_;
  const std::string caFile_;
  const OutcomeFn outcome_;
  const std::shared_ptr<const EgressPolicy> egress_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                                             // GUARDED_BY(mu_)
  std::unordered_map<std::string, std::unique_ptr<Broker>> brokers_;  // GUARDED_BY(mu_)
  // Taken after mu_ or alone (never around a libmosquitto call).
  std::mutex eventsMu_;
  std::vector<Event> events_;  // GUARDED_BY(eventsMu_)
  std::thread thread_;
};

}  // namespace

std::unique_ptr<Transport> makeMqttSender(const RetryPolicy& retry, const std::string& caFile, OutcomeFn outcome,
                                          std::shared_ptr<const EgressPolicy> egress) {
  return std::make_unique<MqttSender>(retry, caFile, std::move(outcome), std::move(egress));
}

}  // namespace allmende::notify
