// federation_bench: the distributed-operations figures of `make bench` (issue 12, benchmark).
// Starts its own servers on loopback (temporary data directories) and prints:
//   - latency of a query answered from the local store vs the same query answered by one
//     registered remote source (forwarded, parsed, merged, rendered), as p50 of each and ratio;
//   - throughput of a query merged from 3 sources (closed loop, several connections) next to the
//     local query's throughput measured the same way, and their ratio.
// Both figures are measured in one run on the same machine, so the ratios travel; the absolute
// numbers depend on the machine's load.
// usage: federation_bench ALLMENDE_BINARY [seconds per throughput figure]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <thread>

#include "harness.h"

using namespace allmende::testing;

namespace {

using Clock = std::chrono::steady_clock;
const std::vector<std::pair<std::string, std::string>> kJson = {{"Content-Type", "application/json"}};

struct Node {
  explicit Node(const std::string& binary) : server(binary, dir.path()) {}
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server.port()); }
  TempDir dir;
  ServerProcess server;
};

bool seed(Node& n, const std::string& type, int count, const std::string& prefix) {
  HttpClient c(n.server.port());
  std::string batch = "[";
  for (int i = 0; i < count; ++i) {
    batch += std::string(i ? "," : "") + R"({"id": "urn:ngsi-ld:)" + type + ":" + prefix + std::to_string(i) +
             R"(", "type": ")" + type + R"(", "temperature": {"type": "Property", "value": )" + std::to_string(i) +
             R"(, "observedAt": "2026-01-01T10:00:00Z"}, "name": {"type": "Property", "value": "room )" +
             std::to_string(i) + R"("}})";
  }
  batch += "]";
  HttpResult r = c.request("POST", "/ngsi-ld/v1/entityOperations/upsert", kJson, batch);
  if (r.status != 201 && r.status != 204) {
    std::fprintf(stderr, "seeding failed: %d %s\n", r.status, r.body.c_str());
    return false;
  }
  return true;
}

bool registerSource(Node& broker, const std::string& id, const Node& source, const std::string& type) {
  HttpClient c(broker.server.port());
  HttpResult r = c.request("POST", "/ngsi-ld/v1/csourceRegistrations", kJson,
                           R"({"id": ")" + id + R"(", "type": "ContextSourceRegistration",
                               "information": [{"entities": [{"type": ")" +
                               type + R"("}]}], "endpoint": ")" + source.url() + R"(", "mode": "inclusive"})");
  if (r.status != 201) {
    std::fprintf(stderr, "registration failed: %d %s\n", r.status, r.body.c_str());
    return false;
  }
  return true;
}

double p50Micros(int port, const std::string& target, int n) {
  HttpClient c(port);
  std::vector<double> us;
  for (int i = 0; i < n; ++i) {
    auto t0 = Clock::now();
    HttpResult r = c.request("GET", target);
    auto t1 = Clock::now();
    if (r.status != 200) {
      std::fprintf(stderr, "%s: %d %s\n", target.c_str(), r.status, r.body.substr(0, 200).c_str());
      return -1;
    }
    us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  std::sort(us.begin(), us.end());
  return us[us.size() / 2];
}

double throughput(int port, const std::string& target, int connections, double seconds) {
  std::atomic<long> done{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> ts;
  for (int t = 0; t < connections; ++t) {
    ts.emplace_back([&] {
      HttpClient c(port);
      while (!stop) {
        if (c.request("GET", target).status == 200) ++done;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : ts) t.join();
  return static_cast<double>(done) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: federation_bench ALLMENDE_BINARY [seconds]\n");
    return 2;
  }
  const std::string binary = argv[1];
  const double seconds = argc > 2 ? std::atof(argv[2]) : 5;
  constexpr int kEntities = 50;  // per answer
  Node a(binary), b(binary), c1(binary), c2(binary);
  if (!a.server.ok() || !b.server.ok() || !c1.server.ok() || !c2.server.ok()) return 1;
  // A holds Room locally; B holds Remote (registered at A); Wide is spread over B, C1, C2.
  if (!seed(a, "Room", kEntities, "a") || !seed(b, "Remote", kEntities, "b")) return 1;
  for (Node* n : {&b, &c1, &c2}) {
    if (!seed(*n, "Wide", kEntities / 3 + 1, std::to_string(n->server.port()) + "-")) return 1;
  }
  if (!registerSource(a, "urn:ngsi-ld:ContextSourceRegistration:b", b, "Remote")) return 1;
  int i = 0;
  for (Node* n : {&b, &c1, &c2}) {
    if (!registerSource(a, "urn:ngsi-ld:ContextSourceRegistration:w" + std::to_string(i++), *n, "Wide")) return 1;
  }
  const std::string local = "/ngsi-ld/v1/entities?type=Room&limit=100";
  const std::string remote = "/ngsi-ld/v1/entities?type=Remote&limit=100";
  const std::string wide = "/ngsi-ld/v1/entities?type=Wide&limit=100";
  std::printf("Allmende federation benchmark, %d entities per answer, loopback\n", kEntities);
  p50Micros(a.server.port(), local, 50);  // warm-up
  p50Micros(a.server.port(), remote, 50);
  double l = p50Micros(a.server.port(), local, 500);
  double r = p50Micros(a.server.port(), remote, 500);
  std::printf("query latency p50: local %.0f us, one remote source %.0f us, ratio %.2f\n", l, r, r / l);
  const int conns = 8;
  double tl = throughput(a.server.port(), local, conns, seconds);
  double tw = throughput(a.server.port(), wide, conns, seconds);
  std::printf("query throughput (%d connections): local %.0f/s, merged from 3 sources %.0f/s, ratio %.2f\n", conns, tl,
              tw, tw / tl);
  return 0;
}
