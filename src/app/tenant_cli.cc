#include "app/tenant_cli.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "api/services.h"
#include "api/templates.h"
#include "api/tenant_export.h"
#include "api/tenant_service.h"
#include "app/tenancy_setup.h"
#include "ld/context_loader.h"
#include "ld/context_store.h"
#include "store/dataset_store.h"
#include "store/notification_store.h"
#include "store/postgres/pg_store.h"
#include "store/sqlite/context_repository.h"
#include "store/sqlite/device_registry.h"
#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/tenant_registry.h"
#include "twin/run_queue.h"

namespace allmende::app {

namespace {

struct CliOptions {
  std::string dataDir = "./data";
  std::string store;  // as `allmende serve --store`: "" = SQLite in dataDir
  std::string templatesDir;
  api::TenantSpec spec;
  std::string areaFile;
  std::string name;  // the tenant a command acts on
  bool yes = false;
  api::KeySpec key;
  std::string expires;
  std::string keyId;
  std::string file;  // export: output ("" = stdout); import: input
};

// What a command needs: the store, the registry, everything else a tenant owns (subscriptions,
// devices, datasets, hosted @contexts: the archive and delete cover them) and the Services the
// shared rules take.
struct Env {
  std::unique_ptr<store::Store> store;
  std::unique_ptr<store::TenantRegistry> registry;
  std::unique_ptr<ld::HostedContextRepository> hosted;
  std::unique_ptr<ld::ContextStore> contexts;
  std::unique_ptr<store::NotificationStore> notifications;
  std::unique_ptr<store::DeviceRegistry> devices;
  std::unique_ptr<store::DatasetStore> datasets;
  std::unique_ptr<twin::RunQueue> twin;  // only with the data directory's lock (openTwin)
  std::unique_ptr<api::Services> services;
};

// The digital twin's scenarios and runs (DATA/twin) for the archive and delete, only while this
// process holds the data directory's lock: a running server keeps them in memory and runs them.
// No workers are started: imported queued runs wait for the server.
Status openTwin(Env& env, const std::string& dataDir) {
  twin::RunQueueOptions ro;
  ro.dir = (std::filesystem::path(dataDir) / "twin").string();
  auto q = twin::RunQueue::open(ro, systemClock());
  if (!q) return q.status();
  env.twin = std::move(q).value();
  env.services->twin = env.twin.get();
  return Status::ok();
}

Result<Env> openEnv(const CliOptions& o) {
  std::error_code ec;
  std::filesystem::create_directories(o.dataDir, ec);
  if (ec) return invalidRequest("cannot create data directory " + o.dataDir + ": " + ec.message());
  Env env;
  store::SqliteOptions so;
  so.path = (std::filesystem::path(o.dataDir) / "allmende.db").string();
  const bool postgres = store::isPostgresStore(o.store);
  if (!o.store.empty() && !postgres) return invalidRequest("--store wants a postgres:// URL, not '" + o.store + "'");
  store::PostgresOptions po;
  po.url = o.store;
  auto st = postgres ? store::openPostgresStore(po) : store::openSqliteStore(so);
  if (!st) return st.status();
  env.store = std::move(st).value();
  auto reg = postgres ? store::openPostgresTenantRegistry(o.store) : store::openSqliteTenantRegistry(so.path);
  if (!reg) return reg.status();
  env.registry = std::move(reg).value();
  env.contexts = std::make_unique<ld::ContextStore>(ld::ContextStore::Options{}, ld::makeHttpContextLoader());
  auto hosted = postgres ? store::openPostgresContextRepository(o.store) : store::openSqliteContextRepository(so.path);
  if (!hosted) return hosted.status();
  env.hosted = std::move(hosted).value();
  ALLMENDE_RETURN_IF_ERROR(env.contexts->restoreHosted(*env.hosted));
  auto notifications =
      postgres ? store::openPostgresNotificationStore(po) : store::openSqliteNotificationStore(so.path);
  if (!notifications) return notifications.status();
  env.notifications = std::move(notifications).value();
  auto devices = postgres ? store::openPostgresDeviceRegistry(o.store) : store::openSqliteDeviceRegistry(so.path);
  if (!devices) return devices.status();
  env.devices = std::move(devices).value();
  auto datasets = postgres ? store::openPostgresDatasetStore(o.store) : store::openSqliteDatasetStore(so.path);
  if (!datasets) return datasets.status();
  env.datasets = std::move(datasets).value();
  env.services = std::make_unique<api::Services>(api::Services{*env.store, *env.contexts, systemClock(), {}});
  env.services->tenants = env.registry.get();
  env.services->notifications = env.notifications.get();
  env.services->devices = env.devices.get();
  env.services->datasets = env.datasets.get();
  env.services->templatesDir = o.templatesDir.empty() ? defaultTemplatesDir() : o.templatesDir;
  env.services->exportDir = (std::filesystem::path(o.dataDir) / "exports").string();
  return env;
}

int fail(const Status& st) {
  std::cerr << "allmende: " << st.toString() << "\n";
  return 1;
}

int runCreate(CliOptions& o) {
  if (!o.areaFile.empty()) {
    std::ifstream in(o.areaFile, std::ios::binary);
    if (!in) return fail(invalidRequest("cannot read " + o.areaFile));
    std::stringstream ss;
    ss << in.rdbuf();
    o.spec.area = ss.str();
  }
  auto env = openEnv(o);
  if (!env) return fail(env.status());
  auto created = api::createTenant(*env->services, o.spec);
  if (!created) return fail(created.status());
  std::cout << api::tenantJson(created->record, false) << "\n";
  for (const auto& k : created->keys) {
    std::cout << "API key (shown once, keep it safe): " << api::keyJson(k.record, &k.secret) << "\n";
  }
  return 0;
}

int runList(const CliOptions& o) {
  auto env = openEnv(o);
  if (!env) return fail(env.status());
  auto list = env->registry->listTenants();
  if (!list) return fail(list.status());
  for (const auto& t : *list) std::cout << api::tenantJson(t, false) << "\n";
  return 0;
}

int runShow(const CliOptions& o) {
  auto env = openEnv(o);
  if (!env) return fail(env.status());
  auto t = env->registry->findTenant(o.name);
  if (!t) return fail(notFound("no tenant named '" + o.name + "'"));
  std::cout << api::tenantJson(*t, true) << "\n" << api::checklistReport(*env->services, *t) << "\n";
  return 0;
}

int runStatus(const CliOptions& o, const std::string& status) {
  auto env = openEnv(o);
  if (!env) return fail(env.status());
  Status st = api::setTenantStatus(*env->services, o.name, status);
  if (!st.isOk()) return fail(st);
  std::cout << "tenant " << o.name << " is " << status << "\n";
  return 0;
}

int runDelete(const CliOptions& o) {
  if (!o.yes) {
    std::cerr << "deleting tenant " << o.name << " deletes all its data; type its name to confirm: ";
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != o.name) return fail(invalidRequest("not confirmed; nothing deleted"));
  }
  // A running server keeps subscriptions, devices and @contexts in memory: it would go on
  // serving what a second process deleted. Delete through its admin API instead.
  int lock = lockDataDirectory(o.dataDir);
  if (lock < 0) {
    return fail(invalidRequest("a server is running on " + o.dataDir +
                               ": delete through it (DELETE /admin/v1/tenants/NAME?confirm=NAME) or stop it first"));
  }
  struct Unlock {
    int fd;
    ~Unlock() { ::close(fd); }
  } unlock{lock};
  auto env = openEnv(o);
  if (!env) return fail(env.status());
  if (Status st = openTwin(*env, o.dataDir); !st.isOk()) return fail(st);
  if (!env->registry->findTenant(o.name)) return fail(notFound("no tenant named '" + o.name + "'"));
  auto saved = api::exportToFile(*env->services, o.name, env->services->exportDir);
  if (!saved) return fail(saved.status());
  std::cout << "archive of tenant " << o.name << " written to " << *saved << "\n";
  Status st = api::deleteTenant(*env->services, o.name);
  if (!st.isOk()) return fail(st);
  std::cout << "tenant " << o.name << " deleted\n";
  return 0;
}

int runExport(const CliOptions& o) {
  auto env = openEnv(o);
  if (!env) return fail(env.status());
  struct Unlock {
    int fd;
    ~Unlock() {
      if (fd >= 0) ::close(fd);
    }
  } unlock{lockDataDirectory(o.dataDir)};
  if (unlock.fd >= 0) {
    if (Status st = openTwin(*env, o.dataDir); !st.isOk()) return fail(st);
  } else {
    std::cerr << "allmende: a server is running on " << o.dataDir
              << ": its flood scenarios and runs are not in this archive (export through its admin API, GET "
                 "/admin/v1/tenants/NAME/export, to have them)\n";
  }
  std::ofstream file;
  if (!o.file.empty()) {
    file.open(o.file, std::ios::binary | std::ios::trunc);
    if (!file) return fail(invalidRequest("cannot write " + o.file));
    std::error_code ec;  // the archive holds all of the tenant's data: owner only
    std::filesystem::permissions(o.file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                                 std::filesystem::perm_options::replace, ec);
  }
  std::ostream& out = o.file.empty() ? std::cout : file;
  Status st = api::exportTenant(*env->services, o.name, [&out](std::string line) { out << line; });
  out.flush();
  if (!st.isOk()) return fail(st);
  return out ? 0 : fail(invalidRequest("cannot write " + o.file));
}

int runImport(const CliOptions& o) {
  std::ifstream in(o.file, std::ios::binary);
  if (!in) return fail(invalidRequest("cannot read " + o.file));
  // Entities written by a second process would be invisible to a running server (it keeps the
  // ids of tenants, types and attributes in memory): import through its admin API instead.
  int lock = lockDataDirectory(o.dataDir);
  if (lock < 0) {
    return fail(invalidRequest("a server is running on " + o.dataDir +
                               ": import through it (POST /admin/v1/tenant-imports) or stop it first"));
  }
  struct Unlock {
    int fd;
    ~Unlock() { ::close(fd); }
  } unlock{lock};
  auto env = openEnv(o);
  if (!env) return fail(env.status());
  if (Status st = openTwin(*env, o.dataDir); !st.isOk()) return fail(st);
  auto report = api::importTenant(*env->services, in, o.spec.name, o.spec.ags);
  if (!report) return fail(report.status());
  std::cout << api::importReportJson(*report) << "\n";
  return 0;
}

int runKeyCreate(CliOptions& o) {
  if (!o.expires.empty()) {
    auto t = parseDateTime(o.expires);
    if (!t) return fail(badRequestData("--expires must be an ISO 8601 date-time"));
    o.key.expires = *t;
  }
  auto env = openEnv(o);
  if (!env) return fail(env.status());
  auto k = api::createKey(*env->services, o.key);
  if (!k) return fail(k.status());
  std::cout << "API key (shown once, keep it safe): " << api::keyJson(k->record, &k->secret) << "\n";
  return 0;
}

int runKeyList(const CliOptions& o) {
  auto env = openEnv(o);
  if (!env) return fail(env.status());
  auto keys = env->registry->listKeys(o.key.tenant);
  if (!keys) return fail(keys.status());
  for (const auto& k : *keys) std::cout << api::keyJson(k, nullptr) << "\n";
  return 0;
}

int runKeyRevoke(const CliOptions& o) {
  auto env = openEnv(o);
  if (!env) return fail(env.status());
  Status st = env->registry->revokeKey(o.key.tenant, o.keyId);
  if (!st.isOk()) return fail(st);
  std::cout << "key " << o.keyId << " revoked\n";
  return 0;
}

void dataFlags(CLI::App* c, CliOptions& o) {
  c->add_option("--data", o.dataDir, "data directory")->capture_default_str();
  c->add_option("--store", o.store, "the server's --store (postgres://...), if it has one")->envname("ALLMENDE_STORE");
  c->add_option("--templates", o.templatesDir, "directory of roll-in templates");
}

}  // namespace

std::function<int()> addTenantCommands(CLI::App& app) {
  auto o = std::make_shared<CliOptions>();
  auto chosen = std::make_shared<std::function<int()>>();
  CLI::App* tenant = app.add_subcommand("tenant", "manage tenants (municipalities) in the data directory");
  tenant->require_subcommand(1);
  auto on = [chosen](CLI::App* c, std::function<int()> f) { c->callback([chosen, f] { *chosen = f; }); };

  CLI::App* create = tenant->add_subcommand("create", "register a tenant, roll it in from a template");
  dataFlags(create, *o);
  create->add_option("--ags", o->spec.ags, "Amtlicher Gemeindeschlüssel (8 digits)")->required();
  create->add_option("--name", o->spec.name, "tenant name = NGSILD-Tenant value (default: the AGS)");
  create->add_option("--display-name", o->spec.displayName, "name shown to people");
  create->add_option("--contact", o->spec.contact, "contact (e-mail)");
  create->add_option("--template", o->spec.templateName, "roll-in template (e.g. small-town)");
  create->add_option("--area", o->areaFile, "GeoJSON file with the municipality's area");
  on(create, [o] { return runCreate(*o); });

  CLI::App* list = tenant->add_subcommand("list", "list the tenants");
  dataFlags(list, *o);
  on(list, [o] { return runList(*o); });

  for (auto [cmd, help] :
       {std::pair{"show", "show a tenant and its roll-in checklist"},
        std::pair{"suspend", "suspend a tenant (its API calls get 403)"},
        std::pair{"activate", "make a suspended tenant active again"},
        std::pair{"delete", "delete a tenant and all its data (its archive is written to DATA/exports first)"}}) {
    CLI::App* c = tenant->add_subcommand(cmd, help);
    dataFlags(c, *o);
    c->add_option("name", o->name, "tenant name")->required();
    std::string which = cmd;
    if (which == "delete") c->add_flag("--yes", o->yes, "do not ask for confirmation");
    on(c, [o, which] {
      if (which == "show") return runShow(*o);
      if (which == "delete") return runDelete(*o);
      return runStatus(*o, which == "suspend" ? "suspended" : "active");
    });
  }

  CLI::App* exp = tenant->add_subcommand("export", "write a tenant's archive (JSON Lines)");
  dataFlags(exp, *o);
  exp->add_option("name", o->name, "tenant name")->required();
  exp->add_option("--out", o->file, "archive file (default: standard output)");
  on(exp, [o] { return runExport(*o); });
  CLI::App* imp = tenant->add_subcommand("import", "create a tenant from an archive");
  dataFlags(imp, *o);
  imp->add_option("file", o->file, "archive file")->required();
  imp->add_option("--name", o->spec.name, "tenant name (default: the archive's)");
  imp->add_option("--ags", o->spec.ags, "AGS (default: the archive's)");
  on(imp, [o] { return runImport(*o); });

  CLI::App* key = app.add_subcommand("key", "manage API keys in the data directory");
  key->require_subcommand(1);
  CLI::App* kc = key->add_subcommand("create", "create an API key (printed once)");
  dataFlags(kc, *o);
  kc->add_option("--tenant", o->key.tenant, "tenant of the key (none for platform-admin)");
  kc->add_option("--role", o->key.role, "platform-admin, tenant-admin, editor, reader or device")->required();
  kc->add_option("--name", o->key.name, "label");
  kc->add_option("--entity-prefix", o->key.entityPrefix, "device keys: prefix of the entity ids it may write");
  kc->add_option("--expires", o->expires, "expiry (ISO 8601 date-time)");
  on(kc, [o] { return runKeyCreate(*o); });
  CLI::App* kl = key->add_subcommand("list", "list the keys of a tenant (or the platform keys)");
  dataFlags(kl, *o);
  kl->add_option("--tenant", o->key.tenant, "tenant");
  on(kl, [o] { return runKeyList(*o); });
  CLI::App* kr = key->add_subcommand("revoke", "revoke a key");
  dataFlags(kr, *o);
  kr->add_option("--tenant", o->key.tenant, "tenant of the key");
  kr->add_option("id", o->keyId, "key id")->required();
  on(kr, [o] { return runKeyRevoke(*o); });

  return [chosen] { return *chosen ? (*chosen)() : -1; };
}

}  // namespace allmende::app
