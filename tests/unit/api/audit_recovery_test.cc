// The audit record of a tenant creation that a crash kept out of the audit log (store/audit_journal.h):
// the router runs POST /admin/v1/tenants over the real SQLite store, registry and audit log, whose
// own commit of the record never happens (as when the process dies between the two commits); at
// the next open the record is recovered from the journal row -- and belongs to the new tenant,
// so that its admins see their tenant's creation as they do without a crash.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "api/router.h"
#include "api/services.h"
#include "ld/context_loader.h"
#include "ld/context_store.h"
#include "store/audit_journal.h"
#include "store/sqlite/audit_log.h"
#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/tenant_registry.h"

namespace allmende::api {
namespace {

// The audit log of a process that dies right after its answers: journal rows are written (they
// commit with the change, or as the intent before it), the records' own commit never comes.
class DiesBeforeTheRecord : public store::AuditLog {
 public:
  explicit DiesBeforeTheRecord(store::AuditLog& log) : log_(log) {}
  Status append(store::AuditRecord) override { return Status::ok(); }
  void post(store::AuditRecord) override {}
  Status journal(store::JournalEntry& entry) override { return log_.journal(entry); }
  Result<std::vector<store::AuditRecord>> query(const std::string& tenant, const store::AuditQuery& q) override {
    return log_.query(tenant, q);
  }

 private:
  store::AuditLog& log_;
};

class NoRemote : public ld::ContextLoader {
 public:
  Result<std::string> load(const std::string&) override { return Status(ErrorType::kLdContextNotAvailable, "offline"); }
};

TEST(AuditRecovery, ATenantCreationRecoveredFromTheJournalNamesTheTenant) {
  char tmpl[] = "/tmp/allmende-audit-recovery-XXXXXX";
  ASSERT_TRUE(mkdtemp(tmpl));
  const std::string dir = tmpl;
  const std::string db = dir + "/allmende.db", auditDb = dir + "/audit.db";
  {
    store::SqliteOptions so;
    so.path = db;
    auto st = store::openSqliteStore(so);
    ASSERT_TRUE(st.isOk()) << st.status().toString();
    auto registry = store::openSqliteTenantRegistry(db);
    ASSERT_TRUE(registry.isOk());
    auto audit = store::openSqliteAuditLog(auditDb, db);
    ASSERT_TRUE(audit.isOk()) << audit.status().toString();
    DiesBeforeTheRecord dying(**audit);
    ld::ContextStore contexts(ld::ContextStore::Options{}, std::make_unique<NoRemote>());
    Services services{**st, contexts, systemClock(), {}};
    services.tenants = registry->get();
    services.audit = &dying;
    Router router(services);
    // Named by its AGS alone, and by name.
    for (const char* body : {R"({"ags": "09162000"})", R"({"name": "neustadt", "ags": "09184119"})"}) {
      http::Request r;
      r.method = "POST";
      r.path = r.rawPath = "/admin/v1/tenants";
      r.headers = {{"content-type", "application/json"}};
      r.body = body;
      r.remoteAddress = "192.0.2.7";
      http::Response a = router.handle(r);
      ASSERT_EQ(a.status, 201) << a.body;
    }
  }
  // The next start: the journal rows become records (status 0: no answer was recorded).
  auto audit = store::openSqliteAuditLog(auditDb, db);
  ASSERT_TRUE(audit.isOk()) << audit.status().toString();
  for (const char* tenant : {"09162000", "neustadt"}) {
    auto records = (*audit)->query(tenant, 0, 100);
    ASSERT_TRUE(records.isOk());
    ASSERT_EQ(records->size(), 1u) << tenant;
    const store::AuditRecord& r = records->front();
    EXPECT_EQ(r.tenant, tenant);
    EXPECT_EQ(r.action, "POST");
    EXPECT_EQ(r.target, "/admin/v1/tenants");
    EXPECT_EQ(r.remote, "192.0.2.7");
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.journal, 0);
  }
  auto platform = (*audit)->query("", 0, 100);
  ASSERT_TRUE(platform.isOk());
  EXPECT_TRUE(platform->empty()) << "no creation record without its tenant";
  audit->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace allmende::api
