#include "app/federation_setup.h"

#include "notify/http_sender.h"
#include "store/postgres/pg_store.h"

namespace allmende::app {

Result<std::unique_ptr<Federation>> setupFederation(const std::string& store, const std::string& dbPath,
                                                    const notify::NotifierOptions& notifications,
                                                    std::shared_ptr<const EgressPolicy> egress,
                                                    api::Services& services) {
  auto repository = store::isPostgresStore(store) ? store::openPostgresRegistrationRepository(store)
                                                  : store::openSqliteRegistrationRepository(dbPath);
  if (!repository) return repository.status();
  auto f = std::make_unique<Federation>();
  f->repository = std::move(*repository);
  f->registrations = std::make_unique<federation::RegistrationStore>(*f->repository, systemClock());
  f->notifier = std::make_unique<federation::CSourceNotifier>();
  f->notifier->setTransport(notify::makeHttpSender(notifications.retry, notifications.caFile,
                                                   f->notifier->outcomeCallback(), std::move(egress)));
  services.registrations = f->registrations.get();
  services.csources = f->repository.get();
  services.csourceNotifier = f->notifier.get();
  return f;
}

}  // namespace allmende::app
