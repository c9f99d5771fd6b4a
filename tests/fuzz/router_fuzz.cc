// The whole HTTP API: requests (method, target, headers, body) go to the real router over the
// real services -- SQLite store, @contexts, subscriptions, tenancy with access control, quotas
// and the audit log, devices and ingestion, open data, the twin's scenarios -- built once on a
// temporary data directory in LLVMFuzzerInitialize, in production mode (strict tenants, API keys
// and JWTs). Nothing leaves the process: remote @contexts are refused, the notifier and the
// twin's workers are not started.
//
// Input: a request as text, one header per line, a blank line, then the body:
//   POST /ngsi-ld/v1/entities?local=true
//   X-API-Key: <kAdminKey>
//   NGSILD-Tenant: fz
//
//   {"id": "urn:ngsi-ld:X:1", "type": "X"}
// An Authorization value "Bearer sign:<JOSE header>|<claims>" is replaced by a token the fuzz
// key signs (fuzz_jwt.h), so that seeds hold tokens that verify. Never crash; every answer is a
// valid HTTP status, and an error answer is a ProblemDetails (NGSI-LD 5.5.2) with that status.
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "api/router.h"
#include "api/services.h"
#include "app/open_data_setup.h"
#include "app/tenancy_setup.h"
#include "common/json.h"
#include "fuzz_input.h"
#include "fuzz_jwt.h"
#include "http/message.h"
#include "ingest/ingestor.h"
#include "ld/context_loader.h"
#include "ld/context_store.h"
#include "notify/matcher.h"
#include "notify/notifier.h"
#include "store/notification_store.h"
#include "store/sqlite/context_repository.h"
#include "store/sqlite/device_registry.h"
#include "store/sqlite/sqlite_store.h"
#include "twin/run_queue.h"

namespace {

using namespace allmende;

constexpr const char* kAdminKey = "alm_router-fuzz-platform-admin-key-000000";

// Remote @contexts are never fetched: a fuzzer must not reach the network.
class NoRemoteContexts : public ld::ContextLoader {
 public:
  Result<std::string> load(const std::string& url) override {
    return Status(ErrorType::kLdContextNotAvailable, "no remote @contexts in the fuzzer: " + url.substr(0, 80));
  }
};

// Everything the router works with, alive for the whole run.
struct World {
  std::string dir;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<ld::ContextStore> contexts;
  std::unique_ptr<ld::HostedContextRepository> hosted;
  std::unique_ptr<store::NotificationStore> notifications;
  notify::SubscriptionIndex subscriptions;
  std::unique_ptr<notify::Notifier> notifier;
  std::unique_ptr<api::Services> services;
  std::unique_ptr<app::Tenancy> tenancy;
  std::unique_ptr<store::DeviceRegistry> devices;
  std::unique_ptr<ingest::Ingestor> ingestor;
  std::unique_ptr<app::OpenData> openData;
  std::unique_ptr<twin::RunQueue> twin;
  std::unique_ptr<api::Router> router;
};

World* gWorld = nullptr;

// The data directory goes when the fuzzer exits (a crash leaves it for a look).
void removeDataDirectory() {
  std::error_code ec;
  if (gWorld) std::filesystem::remove_all(gWorld->dir, ec);
}

template <class T>
T take(Result<T> r, const char* what) {
  if (!r) {
    std::fprintf(stderr, "router_fuzz: cannot set up %s: %s\n", what, r.status().toString().c_str());
    std::abort();
  }
  return std::move(r).value();
}

void writeFile(const std::string& path, const std::string& text) {
  FILE* f = std::fopen(path.c_str(), "w");
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
}

// The request of the input, as the HTTP server makes it (http/server.cc toRequest): header names
// lower-cased, path and query percent-decoded. False when the first line is no "METHOD TARGET".
bool parseRequest(std::string_view text, http::Request& r) {
  auto line = [&text]() {
    size_t nl = text.find('\n');
    std::string_view l = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    return l;
  };
  std::string_view first = line();
  size_t sp = first.find(' ');
  if (sp == std::string_view::npos || sp == 0) return false;
  r.method = std::string(first.substr(0, sp));
  std::string_view target = first.substr(sp + 1);
  size_t q = target.find('?');
  r.rawPath = std::string(target.substr(0, q));
  if (!http::percentDecode(target.substr(0, q), r.path)) return false;  // the server answers 400 itself
  if (q != std::string_view::npos && !http::parseQueryString(target.substr(q + 1), r.query)) return false;
  for (std::string_view h = line(); !h.empty(); h = line()) {
    size_t colon = h.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    std::string name(h.substr(0, colon));
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = h.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    constexpr std::string_view kSign = "Bearer sign:";
    if (name == "authorization" && value.substr(0, kSign.size()) == kSign) {
      std::string_view jose = value.substr(kSign.size());
      size_t bar = jose.find('|');
      r.headers.emplace_back(
          name, "Bearer " +
                    fuzz::signedToken(jose.substr(0, bar), bar == std::string_view::npos ? "" : jose.substr(bar + 1)));
      continue;
    }
    r.headers.emplace_back(std::move(name), std::string(value));
  }
  r.body = std::string(text);
  r.remoteAddress = "127.0.0.1";
  return true;
}

void checkAnswer(const http::Response& a) {
  FUZZ_CHECK(a.status >= 200 && a.status <= 599);
  if (a.stream) {  // a streamed body (exports, temporal pages) is made as the server would send it
    std::string piece;
    for (int i = 0; i < 100000 && a.stream->next(piece) == http::BodySource::Step::kMore; ++i) piece.clear();
  }
  if (a.status < 400) return;
  std::string_view type;
  for (const auto& [name, value] : a.headers) {
    if (name == "Content-Type") type = value;
  }
  if (a.status == 405 || a.status == 304) return;
  // NGSI-LD 5.5.2 / RFC 9457: an error is a ProblemDetails whose status is the answer's.
  FUZZ_CHECK(type.find("json") != std::string_view::npos);
  JsonDocument d;
  FUZZ_CHECK(parseJson(a.body, d).isOk() && d.IsObject());
  const Json* type_ = findMember(d, "type");
  FUZZ_CHECK(type_ && type_->IsString());
  const Json* status = findMember(d, "status");
  FUZZ_CHECK(!status || (status->IsInt() && status->GetInt() == a.status));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char tmpl[] = "/tmp/allmende-router-fuzz-XXXXXX";
  if (!mkdtemp(tmpl)) std::abort();
  auto* w = new World;
  w->dir = tmpl;
  store::SqliteOptions so;
  so.path = w->dir + "/allmende.db";
  w->store = take(store::openSqliteStore(so), "the store");
  ld::ContextStore::Options co;
  co.baseUrl = "http://localhost:1026";
  w->contexts = std::make_unique<ld::ContextStore>(co, std::make_unique<NoRemoteContexts>());
  w->hosted = take(store::openSqliteContextRepository(so.path), "the hosted @contexts");
  if (!w->contexts->restoreHosted(*w->hosted).isOk()) std::abort();
  w->notifications = take(store::openSqliteNotificationStore(so.path), "the subscriptions");
  // Not started: notifications stay in the outbox.
  w->notifier = std::make_unique<notify::Notifier>(*w->notifications, w->subscriptions, w->store.get(),
                                                   notify::NotifierOptions{});
  w->store->setSubscriptionMatcher(&w->subscriptions);
  w->services = std::make_unique<api::Services>(api::Services{*w->store, *w->contexts, systemClock(), {}});
  api::Services& s = *w->services;
  s.notifications = w->notifications.get();
  s.subscriptionIndex = &w->subscriptions;
  s.notifier = w->notifier.get();
  writeFile(w->dir + "/admin.key", kAdminKey);
  writeFile(w->dir + "/jwks.json", fuzz::fuzzJwks());
  app::TenancyOptions to;
  to.production = true;
  to.adminKeyFile = w->dir + "/admin.key";
  to.jwksFile = w->dir + "/jwks.json";
  to.jwtIssuer = "https://idp.fuzz";
  to.jwtAudience = "allmende";
  w->tenancy = take(app::setupTenancy(to, so.path, s), "tenancy");
  w->devices = take(store::openSqliteDeviceRegistry(so.path), "the device registry");
  w->ingestor = std::make_unique<ingest::Ingestor>(*w->store, *w->devices, *w->contexts, systemClock());
  s.ingestor = w->ingestor.get();
  s.devices = w->devices.get();
  app::OpenDataOptions oo;
  oo.rps = 0;  // no per-client limit: every input is from 127.0.0.1
  w->openData = take(app::setupOpenData(oo, so.path, "", s), "open data");
  twin::RunQueueOptions ro;
  ro.dir = w->dir + "/twin";
  w->twin = take(twin::RunQueue::open(ro, s.clock), "the twin");  // workers not started: runs stay queued
  s.twin = w->twin.get();
  w->router = std::make_unique<api::Router>(s);
  // The tenant the seeds address.
  http::Request create;
  parseRequest(std::string("POST /admin/v1/tenants\nX-API-Key: ") + kAdminKey +
                   "\nContent-Type: application/json\n\n{\"name\": \"fz\", \"ags\": \"09162000\", \"template\": "
                   "\"small-town\"}",
               create);
  http::Response created = w->router->handle(create);
  if (created.status != 201) {
    std::fprintf(stderr, "router_fuzz: tenant fz: %d %s\n", created.status, created.body.c_str());
    std::abort();
  }
  gWorld = w;
  std::atexit(removeDataDirectory);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  http::Request request;
  if (!parseRequest(fuzz::asText(data, size), request)) return 0;
  http::Response answer = gWorld->router->handle(request);
  // ROUTER_FUZZ_VERBOSE=1: each answer's status, to see which handler a seed reaches.
  static const bool verbose = std::getenv("ROUTER_FUZZ_VERBOSE") != nullptr;
  if (verbose) {
    std::fprintf(stderr, "%d %s %s %s\n", answer.status, request.method.c_str(), request.path.c_str(),
                 answer.status >= 400 ? answer.body.substr(0, 200).c_str() : "");
  }
  checkAnswer(answer);
  return 0;
}
