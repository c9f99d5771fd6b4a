#include "ingest/mqtt_agent.h"

#include <mosquitto.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "ingest/ingestor.h"

namespace allmende::ingest {

namespace {

constexpr size_t kMaxQueued = 100000;  // messages waiting for the writer; beyond, the broker waits

std::once_flag libInit;

}  // namespace

IngestService::~IngestService() { stop(); }

Status IngestService::start() {
  worker_ = std::thread([this] { work(); });
  if (options_.host.empty()) return Status::ok();
  std::call_once(libInit, [] { mosquitto_lib_init(); });
  mosq_ = mosquitto_new(options_.clientId.c_str(), false, this);  // persistent session: QoS 1 kept for us
  if (!mosq_) return Status(ErrorType::kInternalError, "mosquitto_new failed");
  mosquitto_connect_callback_set(mosq_, &IngestService::onConnect);
  mosquitto_message_callback_set(mosq_, &IngestService::onMessage);
  mosquitto_reconnect_delay_set(mosq_, 1, 30, true);
  if (!options_.username.empty()) {
    mosquitto_username_pw_set(mosq_, options_.username.c_str(), options_.password.c_str());
  }
  if (!options_.caFile.empty() &&
      mosquitto_tls_set(mosq_, options_.caFile.c_str(), nullptr, nullptr, nullptr, nullptr) != MOSQ_ERR_SUCCESS) {
    return Status(ErrorType::kBadRequestData, "cannot use the MQTT CA file " + options_.caFile);
  }
  // connect_async: the loop thread keeps retrying when the broker is not there yet.
  int rc = mosquitto_connect_async(mosq_, options_.host.c_str(), options_.port, 30);
  if (rc != MOSQ_ERR_SUCCESS)
    spdlog::warn("ingest: MQTT connect to {}:{}: {}", options_.host, options_.port, mosquitto_strerror(rc));
  rc = mosquitto_loop_start(mosq_);
  if (rc != MOSQ_ERR_SUCCESS)
    return Status(ErrorType::kInternalError, std::string("mosquitto_loop_start: ") + mosquitto_strerror(rc));
  spdlog::info("ingest: MQTT agent for {}:{} topics {}/+/+", options_.host, options_.port, options_.topicPrefix);
  return Status::ok();
}

void IngestService::stop() {
  if (mosq_) {
    mosquitto_disconnect(mosq_);
    // Not forced: a cancelled network thread may hold one of the client's mutexes, which
    // mosquitto_destroy then destroys locked (ThreadSanitizer). The disconnect ends its loop.
    mosquitto_loop_stop(mosq_, false);
    mosquitto_destroy(mosq_);
    mosq_ = nullptr;
  }
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void IngestService::onConnect(mosquitto* m, void* self, int rc) {
  auto* s = static_cast<IngestService*>(self);
  if (rc != 0) {
    spdlog::warn("ingest: MQTT broker refused the connection: {}", mosquitto_connack_string(rc));
    return;
  }
  std::string topic = s->options_.topicPrefix + "/+/+";
  // Several nodes: a shared subscription (MQTT 5 4.8.2, also offered to 3.1.1 clients by
  // Mosquitto) hands each message to one member of the group, not to every node.
  if (!s->options_.shareGroup.empty()) topic = "$share/" + s->options_.shareGroup + "/" + topic;
  mosquitto_subscribe(m, nullptr, topic.c_str(), 1);
}

void IngestService::onMessage(mosquitto*, void* self, const mosquitto_message* msg) {
  auto* s = static_cast<IngestService*>(self);
  std::string_view topic(msg->topic);
  std::string_view prefix = s->options_.topicPrefix;
  if (topic.substr(0, prefix.size()) != prefix || topic.size() <= prefix.size() + 1) return;
  topic.remove_prefix(prefix.size() + 1);
  size_t slash = topic.find('/');
  if (slash == std::string_view::npos) return;
  std::string tenant(topic.substr(0, slash));
  if (tenant == "@default") tenant.clear();
  Message message{std::move(tenant), std::string(topic.substr(slash + 1)),
                  std::string(static_cast<const char*>(msg->payload), static_cast<size_t>(msg->payloadlen))};
  std::unique_lock lock(s->mutex_);
  // Back-pressure: the network loop waits, so the broker holds what we cannot take yet.
  s->cv_.wait(lock, [s] { return s->queue_.size() < kMaxQueued || s->stopping_; });
  s->queue_.push_back(std::move(message));
  s->cv_.notify_all();
}

void IngestService::work() {
  auto lastFlush = std::chrono::steady_clock::now();
  for (;;) {
    std::deque<Message> batch;
    {
      std::unique_lock lock(mutex_);
      cv_.wait_for(lock, std::chrono::milliseconds(500), [this] { return !queue_.empty() || stopping_; });
      if (queue_.empty() && stopping_) break;
      batch.swap(queue_);
    }
    cv_.notify_all();
    if (!batch.empty()) ingestor_.ingestMany(batch.begin(), batch.end());
    if (std::chrono::steady_clock::now() - lastFlush > std::chrono::seconds(1)) {
      Status st = ingestor_.devices().flushHealth();
      if (!st.isOk()) spdlog::warn("ingest: cannot store device health: {}", st.toString());
      // Registrations made by the `allmende device` CLI next to the running server.
      st = ingestor_.devices().refresh();
      if (!st.isOk()) spdlog::warn("ingest: cannot read the device registry: {}", st.toString());
      lastFlush = std::chrono::steady_clock::now();
    }
  }
  (void)ingestor_.devices().flushHealth();
}

}  // namespace allmende::ingest
