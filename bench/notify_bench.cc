// notify_bench: the subscription figures of `make bench` (issue "subscriptions", benchmark).
// Starts its own server (temporary data directory) and a local HTTP receiver (tests/api/
// receiver.h), and prints:
//   - notification latency from the 2xx of an update to arrival at the receiver, p50 / p99, at
//     1,000 updates/s spread over 100 entities with one subscription each (open loop);
//   - notification throughput of matched updates with one subscription and one receiver;
//   - write throughput with 0 and with 10,000 non-matching subscriptions in the tenant.
// usage: notify_bench ALLMENDE_BINARY [seconds]
#include <rapidjson/document.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include "harness.h"
#include "receiver.h"

using namespace allmende::testing;

namespace {

const std::vector<std::pair<std::string, std::string>> kJson = {{"Content-Type", "application/json"}};

long long nowMicros() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

double percentile(std::vector<long long> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))] / 1000.0;
}

std::string subscription(const std::string& selector, const std::string& uri) {
  return R"({"type": "Subscription", "entities": [)" + selector +
         R"(], "notification": {"format": "keyValues", "endpoint": {"uri": ")" + uri + R"("}}})";
}

// Runs `fn(thread, client)` on `threads` threads with their own connection.
void parallel(int port, int threads, const std::function<void(int, HttpClient&)>& fn) {
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      HttpClient c(port);
      fn(t, c);
    });
  }
  for (auto& t : ts) t.join();
}

void latency(const std::string& binary, double seconds) {
  TempDir dir;
  Receiver receiver;
  ServerProcess server(binary, dir.path());
  HttpClient client(server.port());
  constexpr int kEntities = 100, kRate = 1000, kThreads = 4;
  for (int i = 0; i < kEntities; ++i) {
    std::string id = "urn:ngsi-ld:LatProbe:" + std::to_string(i);
    client.request("POST", "/ngsi-ld/v1/subscriptions", kJson,
                   subscription(R"({"id": ")" + id + R"(", "type": "LatProbe"})", receiver.url()));
    client.request("POST", "/ngsi-ld/v1/entities", kJson, R"({"id": ")" + id + R"(", "type": "LatProbe", "n": -1})");
  }
  receiver.waitFor(kEntities);
  receiver.clear();
  std::mutex mu;
  std::map<long long, long long> acked;  // value -> 2xx time
  const long long start = nowMicros() + 100000;
  const long long total = static_cast<long long>(seconds * kRate);
  parallel(server.port(), kThreads, [&](int t, HttpClient& c) {
    for (long long k = t; k < total; k += kThreads) {
      long long due = start + k * 1000000 / kRate;
      long long wait = due - nowMicros();
      if (wait > 0) std::this_thread::sleep_for(std::chrono::microseconds(wait));
      std::string id = "urn:ngsi-ld:LatProbe:" + std::to_string(k % kEntities);
      HttpResult r =
          c.request("PATCH", "/ngsi-ld/v1/entities/" + id + "/attrs", kJson, "{\"n\": " + std::to_string(k) + "}");
      long long at = nowMicros();
      if (r.status == 204) {
        std::lock_guard<std::mutex> lock(mu);
        acked[k] = at;
      }
    }
  });
  receiver.waitFor(acked.size(), 30000);
  std::vector<long long> lat;
  for (const auto& r : receiver.requests()) {
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    auto it = acked.find(d["data"][0]["n"].GetInt64());
    if (it != acked.end()) lat.push_back(std::max(0LL, r.receivedMicros - it->second));
  }
  std::printf("%-44s p50 %.2f ms  p99 %.2f ms  (%zu updates at %d/s, %zu notified)\n",
              "notification latency, 100 subscriptions", percentile(lat, 0.5), percentile(lat, 0.99), acked.size(),
              kRate, lat.size());
}

void throughput(const std::string& binary, double seconds) {
  TempDir dir;
  Receiver receiver;
  ServerProcess server(binary, dir.path());
  HttpClient client(server.port());
  client.request("POST", "/ngsi-ld/v1/subscriptions", kJson, subscription(R"({"type": "TputProbe"})", receiver.url()));
  std::atomic<long long> updates{0};
  const long long start = nowMicros();
  const long long end = start + static_cast<long long>(seconds * 1e6);
  parallel(server.port(), 2, [&](int t, HttpClient& c) {
    for (int round = 0; nowMicros() < end; ++round) {
      std::string body = "[";
      for (int i = 0; i < 100; ++i) {
        body += std::string(i ? "," : "") + R"({"id": "urn:ngsi-ld:TputProbe:)" + std::to_string(t * 100 + i) +
                R"(", "type": "TputProbe", "n": )" + std::to_string(round) + "}";
      }
      body += "]";
      HttpResult r = c.request("POST", "/ngsi-ld/v1/entityOperations/upsert", kJson, body + "");
      if (r.status == 201 || r.status == 204) updates += 100;
    }
  });
  bool all = receiver.waitFor(static_cast<size_t>(updates.load()), 120000);
  auto got = receiver.requests();
  long long last = got.empty() ? start : got.back().receivedMicros;
  double rate = got.size() / ((last - start) / 1e6);
  std::printf("%-44s %10.0f notifications/s  (%lld updates, %zu notified%s)\n", "notification throughput, 1 receiver",
              rate, updates.load(), got.size(), all ? "" : ", INCOMPLETE");
}

double writeRate(int port, double seconds) {
  std::atomic<long long> done{0};
  const long long end = nowMicros() + static_cast<long long>(seconds * 1e6);
  parallel(port, 8, [&](int t, HttpClient& c) {
    for (long long k = 0; nowMicros() < end; ++k) {
      std::string id = "urn:ngsi-ld:WriteProbe:" + std::to_string(t * 25 + k % 25);
      if (c.request("PATCH", "/ngsi-ld/v1/entities/" + id + "/attrs", kJson, "{\"n\": " + std::to_string(k) + "}")
              .status == 204)
        ++done;
    }
  });
  return done / seconds;
}

// A server with 200 WriteProbe entities and, when `subscriptions`, 10,000 subscriptions that
// match none of the writes: half on other types, half on other entities of the written type
// (the per-device subscription pattern).
std::unique_ptr<ServerProcess> writeServer(const std::string& binary, const std::string& dir, bool subscriptions) {
  auto server = std::make_unique<ServerProcess>(binary, dir);
  HttpClient client(server->port());
  for (int i = 0; i < 200; ++i) {
    client.request("POST", "/ngsi-ld/v1/entities", kJson,
                   R"({"id": "urn:ngsi-ld:WriteProbe:)" + std::to_string(i) + R"(", "type": "WriteProbe", "n": 0})");
  }
  if (!subscriptions) return server;
  parallel(server->port(), 8, [&](int t, HttpClient& c) {
    for (int i = t; i < 10000; i += 8) {
      std::string sel = i % 2
                            ? R"({"type": "Other)" + std::to_string(i % 100) + R"("})"
                            : R"({"id": "urn:ngsi-ld:WriteProbe:x)" + std::to_string(i) + R"(", "type": "WriteProbe"})";
      c.request("POST", "/ngsi-ld/v1/subscriptions", kJson, subscription(sel, "http://127.0.0.1:9/none"));
    }
  });
  return server;
}

void writeRatio(const std::string& binary, double seconds) {
  TempDir dirA, dirB;
  auto without = writeServer(binary, dirA.path(), false);
  auto with = writeServer(binary, dirB.path(), true);
  // Alternating one-second windows, so that other load on the machine hits both alike.
  double a = 0, b = 0;
  int windows = std::max(1, static_cast<int>(seconds));
  for (int k = 0; k < windows; ++k) {
    a += writeRate(without->port(), 1);
    b += writeRate(with->port(), 1);
  }
  a /= windows;
  b /= windows;
  std::printf("%-44s %10.0f updates/s with 0, %.0f with 10,000 subscriptions: ratio %.2f\n",
              "write throughput vs non-matching subscriptions", a, b, b > 0 ? a / b : 0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: notify_bench ALLMENDE_BINARY [seconds]\n");
    return 2;
  }
  double seconds = argc > 2 ? std::atof(argv[2]) : 5;
  latency(argv[1], seconds);
  throughput(argv[1], seconds);
  writeRatio(argv[1], seconds);
  return 0;
}
