// soak: `make soak` (issue 7; not in CI). Runs the real server under a steady mixed load for a
// long time and prints, once per interval, the throughput, the latency percentiles and the
// server's resident memory; at the end, the memory growth after the warm-up (target < 5 %).
//
//   soak BINARY [--minutes M (30)] [--interval S (60)] [--connections C (8)] [--warmup-minutes W (5)]
//
// The load (closed loop, each connection picks the next request at random): 40 % single creates
// of new entities (the store grows all the time), 25 % updates of 1,000 subscribed entities
// (each notified to a local receiver), 5 % batch upserts of 50, 20 % retrievals by id, 10 %
// queries by type and q.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "receiver.h"

using namespace allmende::testing;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string binary;
  double minutes = 30;
  double interval = 60;
  int connections = 8;
  double warmupMinutes = 5;
};

const std::vector<std::pair<std::string, std::string>> kJson = {{"Content-Type", "application/json"}};
constexpr int kUpdated = 1000;

long rssKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

struct Window {
  std::mutex mu;
  std::vector<double> latenciesMs;  // GUARDED_BY(mu)
  long errors = 0;                  // GUARDED_BY(mu)
};

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

std::string probe(const std::string& id, int n) {
  return R"({"id": ")" + id + R"(", "type": "SoakProbe", "n": {"type": "Property", "value": )" + std::to_string(n) +
         R"(}, "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [11.5, 48.1]}}})";
}

void client(int port, int index, std::atomic<bool>& stop, Window& window) {
  HttpClient http(port);
  std::mt19937 random(static_cast<unsigned>(index) * 7919u + 1);
  std::uniform_int_distribution<int> pick(0, 99), updated(0, kUpdated - 1);
  long created = 0;
  while (!stop) {
    int what = pick(random);
    auto start = Clock::now();
    HttpResult r;
    bool ok;
    if (what < 40) {
      std::string id = "urn:ngsi-ld:SoakProbe:c" + std::to_string(index) + "-" + std::to_string(created++);
      r = http.request("POST", "/ngsi-ld/v1/entities", kJson, probe(id, what));
      ok = r.status == 201;
    } else if (what < 65) {
      r = http.request("PATCH",
                       "/ngsi-ld/v1/entities/urn:ngsi-ld:Watched:" + std::to_string(updated(random)) + "/attrs", kJson,
                       R"({"n": {"type": "Property", "value": )" + std::to_string(what) + "}}");
      ok = r.status == 204;
    } else if (what < 70) {
      std::string body = "[";
      for (int k = 0; k < 50; ++k) {
        body += (k ? "," : "") +
                probe("urn:ngsi-ld:SoakProbe:b" + std::to_string(index) + "-" + std::to_string(updated(random)), k);
      }
      r = http.request("POST", "/ngsi-ld/v1/entityOperations/upsert", kJson, body + "]");
      ok = r.status == 201 || r.status == 204;
    } else if (what < 90) {
      r = http.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Watched:" + std::to_string(updated(random)));
      ok = r.status == 200;
    } else {
      r = http.request("GET", "/ngsi-ld/v1/entities?type=Watched&q=n%3E50&limit=20");
      ok = r.status == 200;
    }
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    std::lock_guard<std::mutex> lock(window.mu);
    window.latenciesMs.push_back(ms);
    if (!ok) ++window.errors;
  }
}

Options parse(int argc, char** argv) {
  Options o;
  o.binary = argc > 1 ? argv[1] : "build/allmende";
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    double v = std::atof(argv[i + 1]);
    if (k == "--minutes") o.minutes = v;
    if (k == "--interval") o.interval = v;
    if (k == "--connections") o.connections = static_cast<int>(v);
    if (k == "--warmup-minutes") o.warmupMinutes = v;
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  TempDir dir;
  Receiver receiver;
  ServerProcess server(o.binary, dir.path());
  if (!server.ok()) {
    std::fprintf(stderr, "soak: the server did not start\n");
    return 1;
  }
  {
    HttpClient setup(server.port());
    setup.request("POST", "/ngsi-ld/v1/subscriptions", kJson,
                  R"({"type": "Subscription", "entities": [{"type": "Watched"}], "watchedAttributes": ["n"],
                      "notification": {"endpoint": {"uri": ")" +
                      receiver.url() + R"("}}})");
    for (int b = 0; b < kUpdated / 100; ++b) {
      std::string body = "[";
      for (int k = 0; k < 100; ++k) {
        body += (k ? "," : "") + std::string(R"({"id": "urn:ngsi-ld:Watched:)") + std::to_string(b * 100 + k) +
                R"(", "type": "Watched", "n": {"type": "Property", "value": 0}})";
      }
      setup.request("POST", "/ngsi-ld/v1/entityOperations/upsert", kJson, body + "]");
    }
  }
  std::printf("soak: %g minutes, %d connections, report every %g s, memory target: growth < 5 %% after %g min\n",
              o.minutes, o.connections, o.interval, o.warmupMinutes);
  std::printf("%8s %10s %9s %9s %9s %8s %9s %14s\n", "minute", "req/s", "p50 ms", "p99 ms", "max ms", "errors",
              "RSS MiB", "notifications");
  std::fflush(stdout);
  Window window;
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < o.connections; ++c)
    clients.emplace_back(client, server.port(), c, std::ref(stop), std::ref(window));

  const auto begin = Clock::now();
  const auto end = begin + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.minutes * 60));
  std::vector<long> warmRss;  // the samples after the warm-up
  auto next = begin;
  auto lastReport = begin;
  while (Clock::now() < end) {
    next += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.interval));
    std::this_thread::sleep_until(std::min(next, end));
    std::vector<double> lat;
    long errors;
    {
      std::lock_guard<std::mutex> lock(window.mu);
      lat.swap(window.latenciesMs);
      errors = window.errors;
      window.errors = 0;
    }
    const auto now = Clock::now();
    double elapsed = std::chrono::duration<double>(now - begin).count();
    double span = std::chrono::duration<double>(now - lastReport).count();
    lastReport = now;
    long rss = rssKiB(server.pid());
    if (elapsed >= o.warmupMinutes * 60) warmRss.push_back(rss);
    double p50 = percentile(lat, 0.50), p99 = percentile(lat, 0.99);
    double max = lat.empty() ? 0 : *std::max_element(lat.begin(), lat.end());
    std::printf("%8.1f %10.0f %9.2f %9.2f %9.1f %8ld %9.1f %14zu\n", elapsed / 60, lat.size() / span, p50, p99, max,
                errors, rss / 1024.0, receiver.count());
    std::fflush(stdout);
  }
  stop = true;
  for (auto& t : clients) t.join();
  if (!warmRss.empty()) {
    // The allocator's arenas and SQLite's page caches make single samples swing by several
    // per cent either way: growth is the median of the last samples over the median of the
    // first ones after the warm-up (up to 5 each, at most a third of them).
    size_t k = std::clamp<size_t>(warmRss.size() / 3, 1, 5);
    auto median = [](std::vector<long> v) {
      std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
      return v[v.size() / 2];
    };
    long first = median({warmRss.begin(), warmRss.begin() + static_cast<long>(k)});
    long last = median({warmRss.end() - static_cast<long>(k), warmRss.end()});
    auto [lo, hi] = std::minmax_element(warmRss.begin(), warmRss.end());
    double growth = 100.0 * static_cast<double>(last - first) / static_cast<double>(first);
    std::printf("soak: RSS after the warm-up %.1f-%.1f MiB; median of the first %zu samples %.1f MiB, of the last %zu "
                "%.1f MiB: %+.1f %% (target < 5 %%) %s\n",
                *lo / 1024.0, *hi / 1024.0, k, first / 1024.0, k, last / 1024.0, growth, growth < 5 ? "OK" : "EXCEEDED");
    return growth < 5 ? 0 : 2;
  }
  std::printf("soak: run shorter than the warm-up (%g min); no memory verdict\n", o.warmupMinutes);
  return 0;
}
