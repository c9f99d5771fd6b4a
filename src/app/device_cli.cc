#include "app/device_cli.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "api/call.h"
#include "api/ingest.h"
#include "ld/context_loader.h"
#include "ld/context_store.h"
#include "store/postgres/pg_store.h"
#include "store/sqlite/device_registry.h"

namespace allmende::app {

namespace {

struct DeviceCliOptions {
  std::string dataDir = "./data";
  std::string store;   // as `allmende serve --store`: "" = SQLite in dataDir
  std::string tenant;  // "" or "@default" = the default tenant
  std::string id;      // the device a command acts on
  std::string file;    // the registration's JSON ("-" = standard input)
  std::string json;    // or given inline
  bool silentOnly = false;
};

int fail(const Status& st) {
  std::cerr << "allmende: " << st.toString() << "\n";
  return 1;
}

Result<std::string> tenantOf(const DeviceCliOptions& o) {
  std::string t = o.tenant == "@default" ? "" : o.tenant;
  if (!t.empty() && !api::isValidTenantName(t)) return badRequestData("invalid tenant name " + t.substr(0, 64));
  return t;
}

Result<std::unique_ptr<store::DeviceRegistry>> openRegistry(const DeviceCliOptions& o) {
  if (store::isPostgresStore(o.store)) return store::openPostgresDeviceRegistry(o.store);
  if (!o.store.empty()) return invalidRequest("--store wants a postgres:// URL, not '" + o.store + "'");
  std::error_code ec;
  std::filesystem::create_directories(o.dataDir, ec);
  if (ec) return invalidRequest("cannot create data directory " + o.dataDir + ": " + ec.message());
  return store::openSqliteDeviceRegistry((std::filesystem::path(o.dataDir) / "allmende.db").string());
}

// The registration body of add / replace: --json, else the file ("-" = standard input).
Result<std::string> bodyText(const DeviceCliOptions& o) {
  if (!o.json.empty()) return o.json;
  if (o.file.empty()) return badRequestData("give the device's JSON as a file (- = standard input) or --json");
  std::stringstream ss;
  if (o.file == "-") {
    ss << std::cin.rdbuf();
  } else {
    std::ifstream in(o.file, std::ios::binary);
    if (!in) return invalidRequest("cannot read " + o.file);
    ss << in.rdbuf();
  }
  return ss.str();
}

// Reads and checks the registration as POST/PUT /admin/v1/devices do (api/ingest.h).
Result<store::DeviceRecord> readRecord(const DeviceCliOptions& o, bool withId) {
  auto tenant = tenantOf(o);
  if (!tenant) return tenant.status();
  auto text = bodyText(o);
  if (!text) return text.status();
  JsonDocument body;
  ALLMENDE_RETURN_IF_ERROR(parseJson(*text, body));
  ld::ContextStore contexts(ld::ContextStore::Options{}, ld::makeHttpContextLoader());
  store::DeviceRecord r;
  r.tenant = *tenant;
  if (withId) {
    ALLMENDE_RETURN_IF_ERROR(api::readNewDevice(body, *contexts.core(), r));
  } else {
    r.id = o.id;
    ALLMENDE_RETURN_IF_ERROR(api::readDeviceBody(body, *contexts.core(), r));
  }
  r.created = systemClock().now();
  return r;
}

int runAdd(const DeviceCliOptions& o, bool create) {
  auto r = readRecord(o, create);
  if (!r) return fail(r.status());
  auto registry = openRegistry(o);
  if (!registry) return fail(registry.status());
  Status st = create ? (*registry)->createDevice(*r) : (*registry)->updateDevice(*r);
  if (!st.isOk()) return fail(st);
  auto d = (*registry)->findDevice(r->tenant, r->id);
  if (d) std::cout << api::deviceJson(*d, systemClock().now()) << "\n";
  return 0;
}

int runList(const DeviceCliOptions& o) {
  auto tenant = tenantOf(o);
  if (!tenant) return fail(tenant.status());
  auto registry = openRegistry(o);
  if (!registry) return fail(registry.status());
  Micros now = systemClock().now();
  for (const auto& d : (*registry)->listDevices(*tenant)) {
    if (!o.silentOnly || store::isSilent(d, now)) std::cout << api::deviceJson(d, now) << "\n";
  }
  return 0;
}

int runShow(const DeviceCliOptions& o) {
  auto tenant = tenantOf(o);
  if (!tenant) return fail(tenant.status());
  auto registry = openRegistry(o);
  if (!registry) return fail(registry.status());
  auto d = (*registry)->findDevice(*tenant, o.id);
  if (!d) return fail(notFound("no device " + o.id.substr(0, 200)));
  std::cout << api::deviceJson(*d, systemClock().now()) << "\n";
  return 0;
}

int runRemove(const DeviceCliOptions& o) {
  auto tenant = tenantOf(o);
  if (!tenant) return fail(tenant.status());
  auto registry = openRegistry(o);
  if (!registry) return fail(registry.status());
  Status st = (*registry)->deleteDevice(*tenant, o.id);
  if (!st.isOk()) return fail(st);
  std::cout << "device " << o.id << " removed\n";
  return 0;
}

}  // namespace

std::function<int()> addDeviceCommands(CLI::App& app) {
  auto o = std::make_shared<DeviceCliOptions>();
  auto chosen = std::make_shared<std::function<int()>>();
  CLI::App* device = app.add_subcommand("device", "manage the IoT devices of a tenant in the data directory");
  device->require_subcommand(1);
  auto common = [o](CLI::App* c) {
    c->add_option("--data", o->dataDir, "data directory")->capture_default_str();
    c->add_option("--tenant", o->tenant, "tenant (default: the default tenant)");
    c->add_option("--store", o->store, "the server's --store (postgres://...), if it has one")
        ->envname("ALLMENDE_STORE");
  };
  auto on = [chosen](CLI::App* c, std::function<int()> f) { c->callback([chosen, f] { *chosen = f; }); };

  CLI::App* list = device->add_subcommand("list", "list the tenant's devices with their health (JSON lines)");
  common(list);
  list->add_flag("--silent", o->silentOnly, "only devices silent longer than their expected interval");
  on(list, [o] { return runList(*o); });

  CLI::App* show = device->add_subcommand("show", "show a device with its health");
  common(show);
  show->add_option("id", o->id, "device id")->required();
  on(show, [o] { return runShow(*o); });

  CLI::App* add = device->add_subcommand("add", "register a device (the JSON of POST /admin/v1/devices)");
  common(add);
  add->add_option("file", o->file, "file with the device's JSON (- = standard input)");
  add->add_option("--json", o->json, "the device's JSON");
  on(add, [o] { return runAdd(*o, true); });

  CLI::App* replace = device->add_subcommand("replace", "replace a device's registration (as PUT)");
  common(replace);
  replace->add_option("id", o->id, "device id")->required();
  replace->add_option("file", o->file, "file with the device's JSON (- = standard input)");
  replace->add_option("--json", o->json, "the device's JSON");
  on(replace, [o] { return runAdd(*o, false); });

  CLI::App* remove = device->add_subcommand("remove", "remove a device");
  common(remove);
  remove->add_option("id", o->id, "device id")->required();
  on(remove, [o] { return runRemove(*o); });

  return [chosen] { return *chosen ? (*chosen)() : -1; };
}

}  // namespace allmende::app
