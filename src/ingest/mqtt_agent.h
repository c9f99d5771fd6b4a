// The MQTT side of IoT ingestion (docs/ingestion.md): an agent subscribed with QoS 1 to
// `<prefix>/<tenant>/<device>` on a Mosquitto broker ("@default" = the default tenant), each
// message handed to the Ingestor; and the periodic flush of the device health counters.
//
// The agent uses a persistent session (clean session off, fixed client id), so the broker keeps
// QoS 1 messages for it while it is disconnected; libmosquitto reconnects with exponential
// backoff (1 s .. 30 s). Messages are written in batches by one worker thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"
#include "ingest/ingestor.h"

struct mosquitto;
struct mosquitto_message;

namespace allmende::ingest {

struct MqttIngestOptions {
  std::string host;  // "" = no MQTT agent
  int port = 1883;
  std::string username, password;  // the agent's own broker account, "" = anonymous
  std::string caFile;              // PEM CAs: the connection uses TLS
  std::string topicPrefix = "allmende/ingest";
  // The agent's MQTT client id (its persistent session at the broker): unique per node, since a
  // broker disconnects a client when another connects with the same id.
  std::string clientId = "allmende-ingest";
  // With several nodes: the shared-subscription group all nodes join, so that each message is
  // ingested by one node ("" = a plain subscription: every node would get every message).
  std::string shareGroup;
};

class IngestService {
 public:
  IngestService(Ingestor& ingestor, MqttIngestOptions options) : ingestor_(ingestor), options_(std::move(options)) {}
  ~IngestService();

  Status start();
  void stop();

 private:
  using Message = Payload;
  static void onConnect(mosquitto* m, void* self, int rc);
  static void onMessage(mosquitto* m, void* self, const mosquitto_message* msg);
  void work();

  Ingestor& ingestor_;
  MqttIngestOptions options_;
  mosquitto* mosq_ = nullptr;
  std::thread worker_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Message> queue_;  // GUARDED_BY(mutex_)
  bool stopping_ = false;      // GUARDED_BY(mutex_)
};

}  // namespace allmende::ingest
