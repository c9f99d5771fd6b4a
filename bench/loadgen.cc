// loadgen: the HTTP load generator of `make bench`. Closed loop (each connection sends its next
// request when the answer arrived) or open loop at a fixed rate (latency measured from the
// scheduled send time, so a stall is not hidden by coordinated omission).
//
//   loadgen --port P [--connections C] [--seconds S | --requests N] [--rate R] [--method M]
//           [--path T] [--body B | --body-file F] [--header "Name: value"]... [--expect STATUS]
//
// --body-file may hold several bodies separated by lines "--8<--", used in turn.
// In --path and --body, {n} is replaced by a counter unique across connections and {r} by a
// random number in [0, --range). Prints one JSON line with the figures.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

using Clock = std::chrono::steady_clock;
using allmende::testing::HttpClient;
using allmende::testing::HttpResult;

namespace {

struct Options {
  int port = 0;
  int connections = 16;
  double seconds = 10;
  long requests = 0;  // 0 = run for `seconds`
  double rate = 0;    // 0 = closed loop
  std::string method = "GET";
  std::string path = "/health";
  std::vector<std::string> bodies{""};  // request n uses bodies[n % size]
  std::vector<std::pair<std::string, std::string>> headers;
  int expect = 0;  // 0 = any 2xx
  long range = 1000000;
};

std::string expand(const std::string& t, long n, long r) {
  std::string out;
  out.reserve(t.size() + 16);
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '{' && i + 2 < t.size() && t[i + 2] == '}' && (t[i + 1] == 'n' || t[i + 1] == 'r')) {
      out += std::to_string(t[i + 1] == 'n' ? n : r);
      i += 2;
    } else {
      out.push_back(t[i]);
    }
  }
  return out;
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--port") o.port = std::stoi(v);
    else if (k == "--connections") o.connections = std::stoi(v);
    else if (k == "--seconds") o.seconds = std::stod(v);
    else if (k == "--requests") o.requests = std::stol(v);
    else if (k == "--rate") o.rate = std::stod(v);
    else if (k == "--method") o.method = v;
    else if (k == "--path") o.path = v;
    else if (k == "--body") o.bodies = {v};
    else if (k == "--body-file") {
      // Several bodies are separated by lines "--8<--".
      std::ifstream f(v);
      o.bodies.assign(1, "");
      for (std::string line; std::getline(f, line);) {
        if (line == "--8<--") o.bodies.emplace_back();
        else o.bodies.back() += line + "\n";
      }
    } else if (k == "--header") {
      size_t c = v.find(':');
      o.headers.emplace_back(v.substr(0, c), v.substr(c + 2));
    } else if (k == "--expect") o.expect = std::stoi(v);
    else if (k == "--range") o.range = std::stol(v);
    else return false;
  }
  return o.port > 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) {
    std::fprintf(stderr, "usage: loadgen --port P [options] (see bench/loadgen.cc)\n");
    return 2;
  }
  std::atomic<long> counter{0};
  std::atomic<long> errors{0};
  std::vector<std::vector<double>> latencies(o.connections);  // microseconds
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  std::vector<std::thread> threads;
  for (int c = 0; c < o.connections; ++c) {
    threads.emplace_back([&, c] {
      HttpClient client(o.port);
      std::mt19937_64 rng(c * 7919 + 1);
      double interval = o.rate > 0 ? o.connections / o.rate : 0;  // seconds between sends
      auto next = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(interval * c / o.connections));
      auto& lat = latencies[c];
      for (;;) {
        long n = counter.fetch_add(1);
        if (o.requests > 0 ? n >= o.requests : Clock::now() >= deadline) break;
        if (o.rate > 0) {
          std::this_thread::sleep_until(next);
        }
        auto sent = o.rate > 0 ? next : Clock::now();
        long r = static_cast<long>(rng() % static_cast<unsigned long>(o.range));
        HttpResult res = client.request(o.method, expand(o.path, n, r), o.headers, expand(o.bodies[static_cast<size_t>(n) % o.bodies.size()], n, r));
        auto done = Clock::now();
        bool ok = o.expect ? res.status == o.expect : res.status >= 200 && res.status < 300;
        if (!ok) {
          if (errors.fetch_add(1) < 3) std::fprintf(stderr, "loadgen: status %d %s\n", res.status, res.body.substr(0, 300).c_str());
        }
        lat.push_back(std::chrono::duration<double, std::micro>(done - sent).count());
        if (o.rate > 0) next += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(interval));
      }
    });
  }
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<size_t>(p * all.size()))]; };
  std::printf("{\"requests\":%zu,\"errors\":%ld,\"seconds\":%.3f,\"rps\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}\n",
              all.size(), errors.load(), elapsed, all.size() / elapsed, pct(0.5) / 1000, pct(0.99) / 1000,
              all.empty() ? 0.0 : all.back() / 1000);
  return errors.load() > 0 ? 1 : 0;
}
