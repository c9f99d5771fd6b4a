// allmende: the command line. `allmende serve` runs the platform.
#include <malloc.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <filesystem>

#include "api/ingest.h"
#include "api/problem.h"
#include "api/router.h"
#include "app/backup.h"
#include "app/demo.h"
#include "app/demo_history.h"
#include "app/federation_setup.h"
#include "app/device_cli.h"
#include "app/open_data_setup.h"
#include "app/security_setup.h"
#include "app/tenancy_setup.h"
#include "app/tenant_cli.h"
#include "app/twin_setup.h"
#include "app/web_setup.h"
#include "federation/forward.h"
#include "http/server.h"
#include "ingest/ingestor.h"
#include "ingest/mqtt_agent.h"
#include "ld/context_loader.h"
#include "ld/context_store.h"
#include "notify/matcher.h"
#include "notify/notifier.h"
#include "store/notification_store.h"
#include "store/postgres/pg_store.h"
#include "store/retention.h"
#include "store/sqlite/context_repository.h"
#include "store/sqlite/device_registry.h"
#include "store/sqlite/sqlite_store.h"
#include "store/temporal.h"
#include "twin/omp_env.h"
#include "twin/twin_cli.h"

namespace allmende::app {

namespace {

struct ServeOptions {
  std::string address = "0.0.0.0";
  uint16_t port = 1026;
  std::string dataDir = "./data";
  std::string store;  // "" = SQLite in dataDir; postgres://... = PostgreSQL (docs/postgres.md)
  bool demo = false;
  int threads = 8;
  std::string durability = "normal";
  size_t maxBodyBytes = 1 << 20;
  size_t maxLimit = 1000;
  size_t maxBatch = 1000;
  size_t maxTemporalInstances = 1000;
  size_t maxJsonDepth = 64;
  ingest::MqttIngestOptions mqttIngest;
  std::string mqttIngestPasswordEnv = "ALLMENDE_MQTT_INGEST_PASSWORD";
  std::string baseUrl;                              // how clients reach this server (for hosted @context URLs)
  double historyRetentionDays = 0;                  // 0 = keep the attribute history forever
  std::vector<std::string> historyRetentionTenant;  // "tenant=days" overrides
  int historyRetentionInterval = 3600;              // seconds between retention runs
  int notifyAttempts = 5;                           // delivery attempts of one notification
  int notifyTimeoutMillis = 5000;                   // connect/send/response timeout of one attempt
  std::string notifyCaFile;                         // extra trusted CAs for https notification endpoints
  TenancyOptions tenancy;
  OpenDataOptions openData;
  TwinOptions twin;
  SecurityOptions security;            // HTTP limits, TLS, CORS, egress policy (app/security_setup.h)
  api::WebOptions web;                 // the web app (docs/web.md)
  federation::ForwardOptions forward;  // distributed operations (docs/configuration.md)
  int forwardTimeoutMillis = 5000;     // per forwarded request
};

// The retention job's options from the flags; fails on a malformed "tenant=days".
Result<store::RetentionOptions> retentionOptions(const ServeOptions& o) {
  constexpr double kDay = 86'400'000'000.0;
  store::RetentionOptions r;
  r.keep = static_cast<Micros>(o.historyRetentionDays * kDay);
  r.intervalSeconds = o.historyRetentionInterval;
  for (const auto& spec : o.historyRetentionTenant) {
    size_t eq = spec.rfind('=');
    char* end = nullptr;
    double days = eq == std::string::npos ? -1 : std::strtod(spec.c_str() + eq + 1, &end);
    if (eq == std::string::npos || days < 0 || !end || *end) {
      return Status(ErrorType::kBadRequestData, "--history-retention-tenant wants tenant=days, not '" + spec + "'");
    }
    r.perTenant[spec.substr(0, eq)] = static_cast<Micros>(days * kDay);
  }
  return r;
}

// Rebuilds the matcher's index from the stored subscriptions. One that cannot be compiled (its
// remote @context unavailable) is logged and left out until the next start.
void loadSubscriptions(store::NotificationStore& stored, ld::ContextStore& contexts, notify::SubscriptionIndex& index) {
  auto all = stored.allSubscriptions();
  if (!all) {
    spdlog::error("cannot read subscriptions: {}", all.status().toString());
    return;
  }
  auto resolve = [&contexts](const Json& v) { return contexts.resolve(v); };
  for (const auto& s : *all) {
    auto sub = notify::loadSubscription(s.tenant, s.doc, resolve);
    if (!sub) {
      spdlog::warn("subscription {} of tenant '{}' not loaded: {}", s.id, s.tenant, sub.status().toString());
      continue;
    }
    index.put(*sub);
  }
  spdlog::info("{} subscriptions loaded", index.size());
}

int serve(const ServeOptions& o) {
  // glibc gives each thread that allocates concurrently its own arena and keeps freed memory in
  // it; with many handler threads parsing large batches that more than doubled resident memory
  // (measured: 590 MiB vs 245 MiB after 100,000 entities). Two arenas suffice on this workload.
  mallopt(M_ARENA_MAX, 2);
  // Signals are taken by sigwait below; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  std::error_code ec;
  std::filesystem::create_directories(o.dataDir, ec);
  if (ec) {
    spdlog::error("cannot create data directory {}: {}", o.dataDir, ec.message());
    return 1;
  }
  store::SqliteOptions so;
  so.path = (std::filesystem::path(o.dataDir) / "allmende.db").string();
  so.durability = o.durability;
  // Everything in PostgreSQL (docs/postgres.md), or everything in the data directory's SQLite.
  const bool postgres = store::isPostgresStore(o.store);
  if (!o.store.empty() && !postgres) {
    // Only the scheme: the rest may hold a password.
    spdlog::error("--store wants a postgres:// or postgresql:// URL, not one starting '{}'",
                  o.store.substr(0, std::min(o.store.find(':'), size_t{16})));
    return 1;
  }
  store::PostgresOptions po;
  po.url = o.store;
  auto store = postgres ? store::openPostgresStore(po) : store::openSqliteStore(so);
  if (!store) {
    spdlog::error("cannot open store: {}", store.status().toString());
    return 1;
  }

  auto retention = retentionOptions(o);
  if (!retention) {
    spdlog::error("{}", retention.status().toString());
    return 1;
  }
  std::unique_ptr<store::RetentionJob> retentionJob;
  if ((*store)->temporal()) {
    retentionJob = std::make_unique<store::RetentionJob>(*(*store)->temporal(), systemClock(), *retention);
    retentionJob->start();
  }

  const bool production = o.tenancy.production;
  auto egress = makeEgressPolicy(o.security, production);
  if (!egress) {
    spdlog::error("{}", egress.status().toString());
    return 1;
  }
  http::ServerOptions ho = o.security.http;
  ho.address = o.address;
  ho.port = o.port;
  ho.threads = o.threads;
  ho.maxBodyBytes = o.maxBodyBytes;
  ho.uploadLimit = [&o](std::string_view method, std::string_view target) {
    return twinUploadLimit(o.twin, method, target);
  };
  // The router is built once the port is bound (hosted @context URLs name it); the server
  // answers nothing before serve().
  std::unique_ptr<api::Router> router;
  http::Server server(
      ho, [&router](http::Request& r) { return router->handle(r); },
      [](const Status& st) { return api::problemResponse(st); });
  Status st = server.listen();
  if (!st.isOk()) {
    spdlog::error("{}", st.toString());
    return 1;
  }

  ld::ContextStore::Options co;
  co.baseUrl = o.baseUrl.empty() ? "http://localhost:" + std::to_string(server.port()) : o.baseUrl;
  ld::HttpContextLoaderOptions lo;
  lo.egress = *egress;
  ld::ContextStore contexts(co, ld::makeHttpContextLoader(lo));
  auto hosted = postgres ? store::openPostgresContextRepository(o.store) : store::openSqliteContextRepository(so.path);
  if (hosted) st = contexts.restoreHosted(**hosted);
  if (!hosted || !st.isOk()) {
    spdlog::error("cannot open the hosted @contexts: {}", (hosted ? st : hosted.status()).toString());
    return 1;
  }

  auto notifications =
      postgres ? store::openPostgresNotificationStore(po) : store::openSqliteNotificationStore(so.path);
  if (!notifications) {
    spdlog::error("cannot open the subscriptions: {}", notifications.status().toString());
    return 1;
  }
  notify::SubscriptionIndex subscriptions;
  loadSubscriptions(**notifications, contexts, subscriptions);
  notify::NotifierOptions no;
  no.retry.maxAttempts = o.notifyAttempts;
  no.retry.timeout = static_cast<Micros>(o.notifyTimeoutMillis) * 1000;
  no.caFile = o.notifyCaFile;
  no.egress = *egress;
  notify::Notifier notifier(**notifications, subscriptions, store->get(), no);
  // Several nodes on one PostgreSQL: a subscription another node created, changed or deleted.
  (*notifications)->setChangeListener([&](const store::TenantId& tenant, const std::string& id) {
    auto stored = (*notifications)->getSubscription(tenant, id);
    auto sub = stored ? notify::loadSubscription(tenant, stored->doc,
                                                 [&contexts](const Json& v) { return contexts.resolve(v); })
                      : Result<std::shared_ptr<notify::Subscription>>(stored.status());
    if (sub) {
      subscriptions.put(*sub);
    } else {
      subscriptions.remove(tenant, id);
      notifier.forget(tenant, id);
    }
  });
  (*store)->setSubscriptionMatcher(&subscriptions);
  (*store)->setCommitListener([&notifier] { notifier.wake(); });
  notifier.start();

  if (o.demo) {
    st = seedDemo(**store, *contexts.core(), systemClock());
    if (st.isOk()) st = seedDemoHistory(**store, *contexts.core(), systemClock());
    if (!st.isOk()) {
      spdlog::error("cannot seed the demo municipality: {}", st.toString());
      return 1;
    }
    spdlog::info("demo municipality Musterhausen seeded");
  }

  api::Services services{**store, contexts, systemClock(), {}};
  services.options.maxLimit = o.maxLimit;
  services.options.maxBatchEntities = o.maxBatch;
  services.options.maxTemporalInstances = o.maxTemporalInstances;
  services.options.json.maxDepth = o.maxJsonDepth;
  services.notifications = notifications->get();
  services.subscriptionIndex = &subscriptions;
  services.notifier = &notifier;
  services.egress = *egress;
  auto tenancy = setupTenancy(o.tenancy, so.path, services);
  if (!tenancy) {
    spdlog::error("cannot set up tenancy and access control: {}", tenancy.status().toString());
    return 1;
  }
  // IoT ingestion (docs/ingestion.md): the device registry, HTTP ingest, the MQTT agent.
  auto devices = postgres ? store::openPostgresDeviceRegistry(o.store) : store::openSqliteDeviceRegistry(so.path);
  if (!devices) {
    spdlog::error("cannot open the device registry: {}", devices.status().toString());
    return 1;
  }
  ingest::Ingestor ingestor(**store, **devices, contexts, systemClock());
  // Measurements meet the tenant's quotas and reach the audit log as API writes do.
  std::unique_ptr<api::IngestQuotaGuard> ingestQuotas;
  if (services.access) {
    ingestQuotas = std::make_unique<api::IngestQuotaGuard>(*services.access, **store, systemClock());
    ingestor.setQuotas(ingestQuotas.get());
  }
  ingestor.setAuditLog(
      services.audit,
      ingest::IngestAuditSource{o.mqttIngest.topicPrefix, o.mqttIngest.host + ":" + std::to_string(o.mqttIngest.port)});
  services.ingestor = &ingestor;
  services.devices = devices->get();
  ingest::MqttIngestOptions mo = o.mqttIngest;
  if (const char* pw = std::getenv(o.mqttIngestPasswordEnv.c_str())) mo.password = pw;
  ingest::IngestService ingestService(ingestor, mo);
  st = ingestService.start();
  if (!st.isOk()) {
    spdlog::error("cannot start ingestion: {}", st.toString());
    return 1;
  }
  auto openData = setupOpenData(o.openData, so.path, o.baseUrl, services);
  if (!openData) {
    spdlog::error("cannot open the open-data datasets: {}", openData.status().toString());
    return 1;
  }
  // Digital twin (docs/twin.md): scenarios and runs under DATA/twin, runs on their own workers.
  auto twinQueue = setupTwin(o.twin, o.dataDir, services);
  if (!twinQueue) {
    spdlog::error("cannot open the digital twin's runs: {}", twinQueue.status().toString());
    return 1;
  }
  if (o.demo && *twinQueue) {
    st = provisionDemoScenario(**twinQueue, o.dataDir);
    if (!st.isOk()) {
      spdlog::error("cannot provision the demo flood scenario: {}", st.toString());
      return 1;
    }
  }
  // Federation (issue 12, docs/architecture.md "Federation"): registrations, csourceSubscriptions.
  auto federation = setupFederation(o.store, so.path, no, *egress, services);
  if (!federation) {
    spdlog::error("cannot open the context source registrations: {}", federation.status().toString());
    return 1;
  }
  api::WebOptions webOptions = o.web;
  webOptions.oidcTenantClaim = o.tenancy.jwtTenantClaim;  // the console reads its tenant from the token
  auto web = setupWeb(std::move(webOptions), o.demo, services);
  router = std::make_unique<api::Router>(services);
  // Distributed operations (docs/architecture.md "Federation"): forwarding to context sources.
  std::unique_ptr<federation::Forwarder> forwarder;
  if (services.registrations) {
    federation::ForwardOptions fo = o.forward;
    fo.http.timeout = std::chrono::milliseconds(o.forwardTimeoutMillis);
    fo.http.egress = *egress;
    fo.http.caFile = o.notifyCaFile;
    if (fo.brokerId.empty()) fo.brokerId = federation::randomBrokerId();
    forwarder = std::make_unique<federation::Forwarder>(*services.registrations, fo, systemClock());
    services.forwarder = forwarder.get();
  }
  server.serve();
  // The port line is read by the tests when --port 0 is used.
  std::printf("allmende listening on %s:%u%s\n", o.address.c_str(), server.port(), server.tls() ? " (https)" : "");
  std::fflush(stdout);
  spdlog::info("data in {}; NGSI-LD API at {}://{}:{}/ngsi-ld/v1/", o.dataDir, server.tls() ? "https" : "http",
               o.address, server.port());

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("signal {} received, shutting down", sig);
  server.stop();
  if (*twinQueue) (*twinQueue)->stop();
  ingestService.stop();
  (*federation)->stop();
  (*notifications)->setChangeListener(nullptr);
  notifier.stop();
  return 0;
}

}  // namespace
}  // namespace allmende::app

int main(int argc, char** argv) {
  // Flood runs (serve, twin run): OpenMP threads sleep instead of spinning when they wait.
  allmende::twin::ensurePassiveOpenMpWait(argv);
  // The log goes to stderr (docs/configuration.md); stdout carries only the "listening" line.
  spdlog::set_default_logger(spdlog::stderr_color_mt("allmende"));
  CLI::App app{"Allmende: a shared urban data platform (NGSI-LD context broker)"};
  app.require_subcommand(1);
  allmende::app::ServeOptions serve;
  CLI::App* s = app.add_subcommand("serve", "run the server");
  s->add_option("--address", serve.address, "listen address")->capture_default_str();
  s->add_option("--port", serve.port, "listen port (0 = any free port)")->capture_default_str();
  s->add_option("--data", serve.dataDir, "data directory")->capture_default_str();
  s->add_option("--store", serve.store,
                "where entities, history and subscriptions live: postgres://user@host:port/db[?schema=NAME] "
                "(default: SQLite in --data)")
      ->envname("ALLMENDE_STORE");
  s->add_flag("--demo", serve.demo, "seed the demo municipality");
  s->add_option("--threads", serve.threads, "request handler threads")->capture_default_str();
  s->add_option("--durability", serve.durability, "normal (survives kill -9) or full (survives power loss)")
      ->check(CLI::IsMember({"normal", "full"}))
      ->capture_default_str();
  s->add_option("--max-body", serve.maxBodyBytes, "maximum request body in bytes")->capture_default_str();
  s->add_option("--max-limit", serve.maxLimit, "maximum page size")->capture_default_str();
  s->add_option("--max-batch", serve.maxBatch, "maximum entities in one batch operation")->capture_default_str();
  s->add_option("--max-temporal-instances", serve.maxTemporalInstances,
                "instances per attribute in one temporal answer (larger histories are paged)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{100000}));
  s->add_option("--max-json-depth", serve.maxJsonDepth, "maximum nesting of a JSON body")->capture_default_str();
  s->add_option("--base-url", serve.baseUrl, "public base URL of this server");
  addOpenDataFlags(*s, serve.openData);
  allmende::app::addWebFlags(*s, serve.web);
  s->add_option("--history-retention-days", serve.historyRetentionDays,
                "keep attribute history this many days (0 = forever)")
      ->capture_default_str();
  s->add_option("--history-retention-tenant", serve.historyRetentionTenant,
                "per-tenant retention as tenant=days (repeatable; overrides the default)");
  s->add_option("--history-retention-interval", serve.historyRetentionInterval, "seconds between two retention runs")
      ->capture_default_str();
  s->add_option("--notify-attempts", serve.notifyAttempts, "delivery attempts of one notification")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  s->add_option("--notify-timeout-ms", serve.notifyTimeoutMillis, "timeout of one notification attempt")
      ->check(CLI::Range(1, 600000))
      ->capture_default_str();
  s->add_option("--notify-ca-file", serve.notifyCaFile, "PEM file of CAs trusted for https notification endpoints");
  s->add_option("--federation-id", serve.forward.brokerId,
                "this server's name in Via headers of forwarded requests (default: random per start)");
  s->add_option("--forward-timeout-ms", serve.forwardTimeoutMillis,
                "timeout of one request forwarded to a context source")
      ->capture_default_str();
  s->add_option("--forward-max-answer", serve.forward.http.maxBodyBytes,
                "largest answer accepted from a context source, in bytes")
      ->capture_default_str();
  s->add_option("--forward-max-entities", serve.forward.maxEntitiesPerSource,
                "entities a query asks of each context source (and of the local store) before merging")
      ->capture_default_str();
  s->add_option("--mqtt-ingest-host", serve.mqttIngest.host, "MQTT broker of the ingestion agent (\"\" = none)");
  s->add_option("--mqtt-ingest-port", serve.mqttIngest.port, "its port")->capture_default_str();
  s->add_option("--mqtt-ingest-user", serve.mqttIngest.username, "the agent's broker user");
  s->add_option("--mqtt-ingest-password-env", serve.mqttIngestPasswordEnv,
                "environment variable holding the agent's broker password")
      ->capture_default_str();
  s->add_option("--mqtt-ingest-ca-file", serve.mqttIngest.caFile, "PEM CAs of the broker (enables TLS)");
  s->add_option("--mqtt-ingest-topic-prefix", serve.mqttIngest.topicPrefix, "topics are <prefix>/<tenant>/<device>")
      ->capture_default_str();
  s->add_option("--mqtt-ingest-client-id", serve.mqttIngest.clientId,
                "the agent's MQTT client id; unique per node when several nodes run the agent")
      ->capture_default_str();
  s->add_option("--mqtt-ingest-share-group", serve.mqttIngest.shareGroup,
                "several nodes: the shared subscription group they all join (each message goes to one node)");
  allmende::app::addTenancyFlags(*s, serve.tenancy);
  allmende::app::addTwinFlags(*s, serve.twin);
  allmende::app::addSecurityFlags(*s, serve.security);
  auto tenantCommand = allmende::app::addTenantCommands(app);
  auto deviceCommand = allmende::app::addDeviceCommands(app);
  auto twinCommand = allmende::twin::addTwinCommands(app);
  auto backupCommand = allmende::app::addBackupCommands(app);
  CLI11_PARSE(app, argc, argv);
  serve.tenancy.store = serve.store;
  serve.openData.store = serve.store;
  if (s->parsed()) return allmende::app::serve(serve);
  if (int rc = tenantCommand(); rc >= 0) return rc;
  if (int rc = deviceCommand(); rc >= 0) return rc;
  if (int rc = twinCommand(); rc >= 0) return rc;
  if (int rc = backupCommand(); rc >= 0) return rc;
  return 0;
}
