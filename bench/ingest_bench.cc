// make bench: IoT ingestion throughput, MQTT publish -> stored attribute (issue "IoT ingestion").
// Starts Mosquitto on a free loopback port and the real server with its MQTT agent, registers
// `devices` devices, publishes `messages` QoS 1 measurements round-robin from one libmosquitto
// client, and waits (bounded) until the devices' `accepted` counters add up to all of them.
#include <arpa/inet.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

#include "harness.h"
#include "receiver.h"

using namespace allmende::testing;
using Clock = std::chrono::steady_clock;

namespace {

bool accepting(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

int64_t acceptedTotal(HttpClient& c) {
  HttpResult r = c.request("GET", "/admin/v1/devices");
  rapidjson::Document d;
  d.Parse(r.body);
  int64_t total = 0;
  if (!d.IsArray()) return -1;
  for (const auto& dev : d.GetArray()) total += dev["accepted"].GetInt64() + dev["rejected"].GetInt64();
  return total;
}

std::atomic<int64_t> acked{0};

long long realtimeMicros() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

// Publish -> notification at an HTTP subscriber, one measurement at a time.
void latency(HttpClient& c, mosquitto* pub, int samples) {
  Receiver receiver;
  HttpResult sub =
      c.request("POST", "/ngsi-ld/v1/subscriptions", {{"Content-Type", "application/json"}},
                R"({"type": "Subscription", "entities": [{"id": "urn:ngsi-ld:Sensor:d0", "type": "Sensor"}],
                                "watchedAttributes": ["temperature"], "notification": {"format": "keyValues",
                                "endpoint": {"uri": ")" +
                    receiver.url() + R"("}}})");
  if (sub.status != 201) {
    std::printf("ingest latency: cannot subscribe (%d)\n", sub.status);
    return;
  }
  std::vector<long long> micros;
  for (int i = 0; i < samples; ++i) {
    std::string payload = R"({"t": )" + std::to_string(1000 + i) + "}";
    long long t0 = realtimeMicros();
    mosquitto_publish(pub, nullptr, "allmende/ingest/@default/d0", static_cast<int>(payload.size()), payload.data(), 1,
                      false);
    if (!receiver.waitFor(static_cast<size_t>(i) + 1, 5000)) break;
    micros.push_back(receiver.requests()[static_cast<size_t>(i)].receivedMicros - t0);
  }
  if (micros.empty()) return;
  std::sort(micros.begin(), micros.end());
  std::printf(
      "ingest latency MQTT publish -> HTTP notification (%zu samples, one at a time): p50 %.2f ms, p99 %.2f ms\n",
      micros.size(), micros[micros.size() / 2] / 1000.0, micros[micros.size() * 99 / 100] / 1000.0);
}

void registerDevices(HttpClient& c, int devices) {
  for (int i = 0; i < devices; ++i) {
    std::string id = "d" + std::to_string(i);
    c.request(
        "POST", "/admin/v1/devices", {{"Content-Type", "application/json"}},
        R"({"id": ")" + id + R"(", "entity": {"id": "urn:ngsi-ld:Sensor:)" + id +
            R"(", "type": "Sensor"}, "mapping": {"format": "flat", "fields": [{"source": "t", "attribute": "temperature", "unitCode": "CEL"}]}})");
  }
}

int64_t acceptedOf(HttpClient& c, const std::string& id) {
  rapidjson::Document d;
  d.Parse(c.request("GET", "/admin/v1/devices/" + id).body);
  return d.IsObject() && d.HasMember("accepted") ? d["accepted"].GetInt64() + d["rejected"].GetInt64() : -1;
}

// --attach (bench/ingest_instructions): a server and broker already running (the server under
// callgrind); registers the devices if asked, publishes `messages` round-robin and returns once
// the device of the last message has counted it (messages of one connection arrive in order),
// polling only that device so that the polls cost the server little.
int attach(int serverPort, int brokerPort, int messages, int devices, bool registerFirst) {
  HttpClient c(serverPort);
  if (registerFirst) {
    registerDevices(c, devices);
    sleep(1);  // the agent's subscription is older than the registrations
  }
  std::string last = "d" + std::to_string((messages - 1) % devices);
  int64_t expected = acceptedOf(c, last) + 1;
  mosquitto_lib_init();
  mosquitto* pub = mosquitto_new(nullptr, true, nullptr);
  mosquitto_max_inflight_messages_set(pub, 1000);
  if (mosquitto_connect(pub, "127.0.0.1", brokerPort, 30) != MOSQ_ERR_SUCCESS) return 1;
  mosquitto_loop_start(pub);
  for (int i = 0; i < messages; ++i) {
    std::string topic = "allmende/ingest/@default/d" + std::to_string(i % devices);
    std::string payload = R"({"t": )" + std::to_string(i % 40) + ".5}";
    mosquitto_publish(pub, nullptr, topic.c_str(), static_cast<int>(payload.size()), payload.data(), 1, false);
  }
  for (int i = 0; i < 6000 && acceptedOf(c, last) < expected; ++i) usleep(200000);
  bool done = acceptedOf(c, last) >= expected;
  mosquitto_disconnect(pub);
  mosquitto_loop_stop(pub, true);
  mosquitto_destroy(pub);
  return done ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 7 && std::string(argv[1]) == "--attach") {
    return attach(std::atoi(argv[2]), std::atoi(argv[3]), std::atoi(argv[4]), std::atoi(argv[5]),
                  std::string(argv[6]) == "register");
  }
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: ingest_bench ALLMENDE_BINARY [messages] [devices]\n"
                 "       ingest_bench --attach SERVER_PORT BROKER_PORT messages devices register|no\n");
    return 2;
  }
  int messages = argc > 2 ? std::atoi(argv[2]) : 100000;
  int devices = argc > 3 ? std::atoi(argv[3]) : 1000;
  TempDir dir;
  ::chmod(dir.path().c_str(), 0755);
  int port = freePort();
  {
    std::ofstream conf(dir.path() + "/mosquitto.conf");
    conf << "allow_anonymous true\npersistence false\nmax_inflight_messages 1000\nmax_queued_messages 1000000\n"
         << "listener " << port << " 127.0.0.1\n";
  }
  pid_t broker = fork();
  if (broker == 0) {
    std::string conf = dir.path() + "/mosquitto.conf";
    int null = ::open("/dev/null", 1);
    dup2(null, 2);
    execl("/usr/sbin/mosquitto", "mosquitto", "-c", conf.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  for (int i = 0; i < 100 && !accepting(port); ++i) usleep(50000);
  int rc = 1;
  {
    ServerProcess server(argv[1], dir.path() + "/data",
                         {"--mqtt-ingest-host", "127.0.0.1", "--mqtt-ingest-port", std::to_string(port)});
    HttpClient c(server.port());
    registerDevices(c, devices);
    usleep(500000);  // the agent's subscription
    mosquitto_lib_init();
    mosquitto* pub = mosquitto_new("ingest-bench", true, nullptr);
    mosquitto_max_inflight_messages_set(pub, 1000);
    mosquitto_publish_callback_set(pub, [](mosquitto*, void*, int) { acked.fetch_add(1); });
    mosquitto_connect(pub, "127.0.0.1", port, 30);
    mosquitto_loop_start(pub);
    auto start = Clock::now();
    for (int i = 0; i < messages; ++i) {
      std::string topic = "allmende/ingest/@default/d" + std::to_string(i % devices);
      std::string payload = R"({"t": )" + std::to_string(i % 40) + ".5}";
      mosquitto_publish(pub, nullptr, topic.c_str(), static_cast<int>(payload.size()), payload.data(), 1, false);
    }
    int64_t done = 0;
    for (int i = 0; i < 1200 && done < messages; ++i) {
      usleep(100000);
      done = acceptedTotal(c);
    }
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf(
        "ingest: %d QoS 1 messages from MQTT publish to stored attribute, %d devices: %.0f measurements/s"
        " (%lld stored, broker acknowledged %lld, %.1f s)\n",
        messages, devices, done / seconds, static_cast<long long>(done), static_cast<long long>(acked.load()), seconds);
    rc = done == messages ? 0 : 1;
    latency(c, pub, 500);
    mosquitto_disconnect(pub);
    mosquitto_loop_stop(pub, true);
    mosquitto_destroy(pub);
  }
  ::kill(broker, SIGTERM);
  waitpid(broker, nullptr, 0);
  return rc;
}
