#include "store/postgres/pg_schema.h"

#include <string_view>

namespace allmende::store::postgres {

namespace {

// Entities (docs/postgres.md, docs/architecture.md). `seq` is the creation order (global), the
// stable order of query results; the index tables name entities by it. `doc` is `json`, not
// `jsonb`: it keeps the document as written (the order of attributes is part of the answer).
constexpr std::string_view kEntities = R"sql(
CREATE TABLE tenants (
  name    text PRIMARY KEY,
  created timestamptz NOT NULL DEFAULT now()
);
CREATE SEQUENCE entity_seq;
CREATE TABLE entities (
  tenant text   NOT NULL,
  id     text   NOT NULL,
  seq    bigint NOT NULL,
  attrs  text[] NOT NULL,        -- the expanded attribute names (the `attrs` filter)
  doc    json   NOT NULL,        -- the entity in the internal form
  PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX entities_by_seq ON entities (tenant, seq);
CREATE TABLE entity_types (
  tenant text   NOT NULL,
  type   text   NOT NULL,
  seq    bigint NOT NULL,
  PRIMARY KEY (tenant, type, seq)
);
-- Every scalar an attribute exposes to q: numbers and booleans in n, strings in s as their
-- UTF-8 bytes (compared byte by byte, as SQLite does; NUL allowed), cut after kValuePrefix bytes
-- so that index rows stay small (the cut keeps the order: a range on cut bounds loses nothing).
CREATE TABLE attr_values (
  tenant text   NOT NULL,
  attr   text   NOT NULL,
  seq    bigint NOT NULL,
  n      float8,
  s      bytea
);
CREATE UNIQUE INDEX attr_values_n ON attr_values (tenant, attr, n, seq) WHERE n IS NOT NULL;
CREATE UNIQUE INDEX attr_values_s ON attr_values (tenant, attr, s, seq) WHERE s IS NOT NULL;
CREATE INDEX attr_values_by_seq ON attr_values (seq);
-- The bounding box of every GeoProperty instance (the point itself for a Point).
CREATE TABLE geo_index (
  tenant text     NOT NULL,
  attr   text     NOT NULL,
  seq    bigint   NOT NULL,
  box    geometry NOT NULL
);
CREATE INDEX geo_index_box ON geo_index USING gist (box);
CREATE INDEX geo_index_by_seq ON geo_index (seq);
)sql";

// Subscriptions and the notification outbox (store/notification_store.h). `claimed_by` is the
// node (pg_notifications.cc) delivering a row; a node that is gone no longer holds its liveness
// lock, and its rows are claimed again.
constexpr std::string_view kNotifications = R"sql(
CREATE TABLE subscriptions (
  tenant text NOT NULL,
  id     text NOT NULL,
  doc    text NOT NULL,
  PRIMARY KEY (tenant, id)
);
CREATE TABLE outbox (
  seq          bigserial PRIMARY KEY,
  tenant       text   NOT NULL,
  subscription text   NOT NULL,
  entity       text   NOT NULL,
  payload      text   NOT NULL,
  created      bigint NOT NULL,   -- microseconds since the epoch
  claimed_by   bigint,            -- the node delivering it
  claimed_at   bigint
);
CREATE INDEX outbox_by_entity ON outbox (entity, seq);
)sql";

// The attribute history (store/temporal.h). `hid` names an entity's history across deletion
// and re-creation; a series is (hid, attr, ds) and its instances are in time order in the key.
constexpr std::string_view kHistory = R"sql(
CREATE TABLE temporal_entities (
  tenant  text   NOT NULL,
  id      text   NOT NULL,
  hid     bigserial UNIQUE,
  types   text   NOT NULL,        -- JSON array of type IRIs, the latest known
  deleted bigint,                 -- when the entity was deleted (micros), NULL while it exists
  PRIMARY KEY (tenant, id)
);
CREATE SEQUENCE instance_seq;
CREATE TABLE attr_instances (
  hid  bigint NOT NULL,
  attr text   NOT NULL,
  ds   text   NOT NULL,           -- datasetId, '' for the default instance
  t    bigint NOT NULL,           -- observedAt, else the recording time (micros)
  iid  bigint NOT NULL,           -- instance id
  rec  bigint,                    -- recording time - t when the instance has observedAt
  num  float8,                    -- numeric value (booleans 0/1)
  doc  text,                      -- the instance when more than a plain number
  mod  bigint,                    -- modifiedAt when modified through the temporal API
  del  boolean,                   -- a deletion (deletedAt = t)
  PRIMARY KEY (hid, attr, ds, t, iid)
);
CREATE UNIQUE INDEX attr_instances_by_iid ON attr_instances (iid);
)sql";

// The tenant registry and API keys (store/tenant_registry.h). `registry_version` grows with
// every change, so that each server (and the CLI) sees another's changes by looking at it.
constexpr std::string_view kRegistry = R"sql(
CREATE TABLE tenant_registry (
  name           text PRIMARY KEY,
  ags            text NOT NULL UNIQUE,
  display        text NOT NULL,
  area           text NOT NULL,
  contact        text NOT NULL,
  status         text NOT NULL,
  template       text NOT NULL,
  checklist      text NOT NULL,
  settings       text NOT NULL,
  created        bigint NOT NULL,
  quota_rps      float8 NOT NULL,
  quota_burst    float8 NOT NULL,
  quota_entities bigint NOT NULL
);
CREATE TABLE api_keys (
  id      text PRIMARY KEY,
  hash    text NOT NULL UNIQUE,
  tenant  text NOT NULL,
  role    text NOT NULL,
  name    text NOT NULL,
  prefix  text NOT NULL,
  created bigint NOT NULL,
  expires bigint NOT NULL,
  revoked boolean NOT NULL
);
CREATE TABLE registry_version (v bigint NOT NULL);
INSERT INTO registry_version VALUES (0);
-- The audit log (store/audit_log.h): append-only, the table refuses UPDATE and DELETE.
CREATE TABLE audit_log (
  seq     bigserial PRIMARY KEY,
  at      bigint NOT NULL,
  tenant  text NOT NULL,
  subject text NOT NULL,
  auth    text NOT NULL,
  roles   text NOT NULL,
  action  text NOT NULL,
  target  text NOT NULL,
  status  int NOT NULL,
  remote  text NOT NULL
);
CREATE INDEX audit_by_tenant ON audit_log (tenant, seq);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
)sql";

// The devices of IoT ingestion (store/device_registry.h), open-data datasets
// (store/dataset_store.h) and hosted @contexts (ld/context_store.h).
constexpr std::string_view kConfiguration = R"sql(
CREATE TABLE ingest_devices (
  tenant        text NOT NULL,
  id            text NOT NULL,
  entity_id     text NOT NULL,
  entity_type   text NOT NULL,
  mapping       text NOT NULL,
  mqtt_user     text NOT NULL,
  password_hash text NOT NULL,
  interval_s    bigint NOT NULL,
  created       bigint NOT NULL,
  last_seen     bigint NOT NULL DEFAULT 0,
  last_error_at bigint NOT NULL DEFAULT 0,
  last_error    text NOT NULL DEFAULT '',
  accepted      bigint NOT NULL DEFAULT 0,
  rejected      bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant, id)
);
CREATE TABLE open_datasets (
  tenant     text NOT NULL,
  id         text NOT NULL,
  definition text NOT NULL,
  created    bigint NOT NULL,
  modified   bigint NOT NULL,
  PRIMARY KEY (tenant, id)
);
CREATE TABLE hosted_contexts (
  local_id text PRIMARY KEY,
  kind     text NOT NULL,
  created  bigint NOT NULL,
  body     text NOT NULL
);
)sql";

// The quotas on history instances and stored bytes (docs/tenancy.md).
constexpr std::string_view kStorageQuotas = R"sql(
ALTER TABLE tenant_registry ADD COLUMN quota_history bigint NOT NULL DEFAULT 0;
ALTER TABLE tenant_registry ADD COLUMN quota_bytes bigint NOT NULL DEFAULT 0;
)sql";

// Periodic notifications sent (store/notification_store.h, claimPeriodic): when each
// subscription's last one went out, from whichever node.
constexpr std::string_view kPeriodicClaims = R"sql(
CREATE TABLE periodic_sent (
  tenant text   NOT NULL,
  id     text   NOT NULL,
  sent   bigint NOT NULL,           -- microseconds since the epoch
  PRIMARY KEY (tenant, id)
);
)sql";

// The configuration every server caches (devices, hosted @contexts) follows other servers'
// changes: a trigger bumps the table's row of `config_version` in the transaction of every
// change, and a server reloads its copy when the version moved (checked at most once a
// second). Hosted @contexts keep their owning tenant (it was lost on restart before).
constexpr std::string_view kConfigVersions = R"sql(
CREATE TABLE config_version (name text PRIMARY KEY, v bigint NOT NULL);
INSERT INTO config_version VALUES ('devices', 0), ('contexts', 0);
CREATE FUNCTION config_version_bump() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS
  $$ BEGIN UPDATE config_version SET v = v + 1 WHERE name = TG_ARGV[0]; RETURN NULL; END $$;
-- Registrations only: the health counters a server flushes every second are no change of them.
CREATE TRIGGER ingest_devices_changed
  AFTER INSERT OR DELETE OR UPDATE OF entity_id, entity_type, mapping, mqtt_user, password_hash, interval_s
  ON ingest_devices FOR EACH STATEMENT EXECUTE FUNCTION config_version_bump('devices');
CREATE TRIGGER ingest_devices_truncated AFTER TRUNCATE ON ingest_devices
  FOR EACH STATEMENT EXECUTE FUNCTION config_version_bump('devices');
CREATE TRIGGER hosted_contexts_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON hosted_contexts
  FOR EACH STATEMENT EXECUTE FUNCTION config_version_bump('contexts');
ALTER TABLE hosted_contexts ADD COLUMN owner text NOT NULL DEFAULT '';
)sql";

// Context source registrations and csourceSubscriptions (issue 12, store/registration_store.h):
// documents in the internal form; config_version's row 'csources' moves with every change of a
// registration, so that each node's cache follows.
constexpr std::string_view kCSources = R"sql(
CREATE TABLE csource_registrations (
  tenant text NOT NULL,
  id     text NOT NULL,
  doc    text NOT NULL,
  PRIMARY KEY (tenant, id)
);
CREATE TABLE csource_subscriptions (
  tenant text NOT NULL,
  id     text NOT NULL,
  doc    text NOT NULL,
  PRIMARY KEY (tenant, id)
);
INSERT INTO config_version VALUES ('csources', 0);
CREATE TRIGGER csource_registrations_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON csource_registrations
  FOR EACH STATEMENT EXECUTE FUNCTION config_version_bump('csources');
)sql";

// Applied in order, each once (schema_migrations); a released migration is never edited.
constexpr std::string_view kMigrations[] = {kEntities,      kNotifications, kHistory,        kRegistry,
                                            kConfiguration, kStorageQuotas, kPeriodicClaims, kConfigVersions, kCSources};

}  // namespace

int schemaVersion() { return static_cast<int>(std::size(kMigrations)); }

Status migrate(Connection& c, const std::string& schema) {
  // Any constant: the migration lock of Allmende in this database.
  constexpr const char* kLock = "SELECT pg_advisory_lock(7469811723)";
  constexpr const char* kUnlock = "SELECT pg_advisory_unlock(7469811723)";
  ALLMENDE_RETURN_IF_ERROR(c.exec(kLock));
  auto body = [&]() -> Status {
    ALLMENDE_RETURN_IF_ERROR(c.exec("CREATE EXTENSION IF NOT EXISTS postgis SCHEMA public"));
    if (!schema.empty()) ALLMENDE_RETURN_IF_ERROR(c.exec("CREATE SCHEMA IF NOT EXISTS " + schema));
    ALLMENDE_RETURN_IF_ERROR(
        c.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, "
               "applied timestamptz NOT NULL DEFAULT now())"));
    auto v = c.run("SELECT coalesce(max(version), 0) FROM schema_migrations");
    if (!v) return v.status();
    const int have = static_cast<int>(v->int64(0, 0));
    if (have > schemaVersion()) {
      return Status(ErrorType::kServiceUnavailable, "the database has schema version " + std::to_string(have) +
                                                        ", newer than this Allmende knows (" +
                                                        std::to_string(schemaVersion()) + ")");
    }
    for (int k = have + 1; k <= schemaVersion(); ++k) {
      Status st = c.exec("BEGIN; " + std::string(kMigrations[k - 1]) +
                         "; INSERT INTO schema_migrations (version) VALUES (" + std::to_string(k) + "); COMMIT");
      if (!st.isOk()) {
        c.exec("ROLLBACK");
        return Status(st.type(), "migration " + std::to_string(k) + ": " + st.detail());
      }
    }
    return Status::ok();
  };
  Status st = body();
  c.exec(kUnlock);
  return st;
}

Result<PgTarget> prepareDatabase(const std::string& url) {
  auto target = parseStoreUrl(url);
  if (!target) return target.status();
  auto c = Connection::open(target->conninfo, target->schema);
  if (!c) return c.status();
  ALLMENDE_RETURN_IF_ERROR(migrate(**c, target->schema));
  return target;
}

}  // namespace allmende::store::postgres
