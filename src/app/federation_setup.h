// Wiring of federation (issue 12) for `allmende serve`: the registration repository (SQLite in
// the data directory, or the --store PostgreSQL), the cached RegistrationStore the API and the
// forwarder read, and the notifier of csourceSubscriptions.
#pragma once

#include <memory>
#include <string>

#include "api/services.h"
#include "federation/csource_notifier.h"
#include "federation/registration_store.h"
#include "notify/notifier.h"
#include "store/registration_store.h"

namespace allmende::app {

struct Federation {
  std::unique_ptr<store::RegistrationRepository> repository;
  std::unique_ptr<federation::RegistrationStore> registrations;
  std::unique_ptr<federation::CSourceNotifier> notifier;
  void stop() { notifier->stop(); }
};

// `store` is `serve --store` ("" = SQLite at `dbPath`); notifications use the retry policy, CA
// file and egress policy of entity notifications. Fills the federation members of `services`.
Result<std::unique_ptr<Federation>> setupFederation(const std::string& store, const std::string& dbPath,
                                                    const notify::NotifierOptions& notifications,
                                                    std::shared_ptr<const EgressPolicy> egress,
                                                    api::Services& services);

}  // namespace allmende::app
