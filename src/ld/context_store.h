// ContextStore: the broker-wide owner of @contexts. Thread-safe; one instance shared by all
// request threads.
//
//  - resolve(): the processed Context for a request's @context value, cached by the value's
//    compact JSON text (a repeated Link URL costs one hash lookup under one mutex).
//  - remote documents fetched through a ContextLoader, cached with a TTL and a bounded size.
//  - the NGSI-LD "@context management" operations behind /ngsi-ld/v1/jsonldContexts
//    (NGSI-LD v1.8 clause 5.13 and 6.31): add a hosted context, list, serve one, delete/reload.
//    Hosted contexts are served by the broker at {baseUrl}/ngsi-ld/v1/jsonldContexts/{id} and,
//    when a request references such a URL, they are looked up locally and never fetched.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/json.h"
#include "common/status.h"
#include "common/time.h"
#include "ld/context.h"
#include "ld/context_loader.h"
#include "ld/context_processor.h"

namespace allmende::ld {

// The kinds of NGSI-LD 5.13 / the "kind" member of the context details.
enum class ContextKind { kHosted, kCached, kImplicitlyCreated };
const char* contextKindName(ContextKind kind);  // "Hosted", "Cached", "ImplicitlyCreated"

// What GET /jsonldContexts?details=true lists for one @context.
struct ContextInfo {
  std::string url;      // where it lives (for Hosted/ImplicitlyCreated: served by this broker)
  std::string localId;  // the {contextId} of /ngsi-ld/v1/jsonldContexts/{contextId}
  ContextKind kind = ContextKind::kCached;
  Micros createdAt = 0;
  std::optional<Micros> lastUsage;
  uint64_t numberOfHits = 0;
  std::string extraInfo;  // free text, e.g. the expiry of a cached document
  std::string body;       // the document text {"@context": ...}
  // The tenant that added a Hosted / ImplicitlyCreated context ("" = the default tenant); its
  // own to list and delete (docs/security.md). Cached documents belong to no tenant.
  std::string owner;
};

// Where hosted contexts outlive the process (a table of the entity store). Implementations are
// thread-safe; every call is durable when it returns OK.
class HostedContextRepository {
 public:
  virtual ~HostedContextRepository() = default;
  virtual Result<std::vector<ContextInfo>> load() = 0;
  virtual Status save(const ContextInfo& info) = 0;
  virtual Status remove(std::string_view localId) = 0;
  // Whether the stored contexts may differ from what the last load() returned: another process
  // (a server on the same database) changed them. Cheap: it looks at most about once a second.
  virtual bool changed() { return false; }
};

class ContextStore {
 public:
  struct Options {
    std::string baseUrl = "http://localhost:1026";  // the broker's own base URL, without trailing '/'
    Micros remoteTtl = 3600LL * 1000000;            // cached remote documents expire after 1 h
    size_t maxRemoteEntries = 1000;                 // remote documents kept (oldest use evicted)
    size_t maxProcessedEntries = 1000;              // processed contexts kept (arbitrary one evicted)
    ProcessOptions processing;                      // depth limits
    const Clock* clock = nullptr;                   // nullptr: systemClock()
  };

  // `loader` fetches remote documents (never the core context, never hosted contexts).
  ContextStore(Options options, std::unique_ptr<ContextLoader> loader);

  // The processed context for an @context value: a URL string, an object, an array, or null (core
  // only). Failures as processContext(): BadRequestData for malformed contexts,
  // LdContextNotAvailable for remote documents that cannot be retrieved.
  Result<std::shared_ptr<const Context>> resolve(const Json& contextValue);
  // Same as resolve() for one URL (e.g. from a Link header).
  Result<std::shared_ptr<const Context>> resolveUrl(std::string_view url);
  // The core context alone (the context of requests without any @context).
  std::shared_ptr<const Context> core() const;

  // --- /ngsi-ld/v1/jsonldContexts ---
  // POST: `body` must be an object {"@context": ...} (else BadRequestData); the @context is
  // processed to validate it (its errors are returned). Stores it as Hosted (or ImplicitlyCreated,
  // for a broker-internal inline @context to be given back by URL) and returns its details.
  Result<ContextInfo> add(const Json& body, ContextKind kind = ContextKind::kHosted, std::string owner = "");
  // Adds a hosted context exactly as described (local id, owner, creation time, body), e.g. from
  // a tenant archive. AlreadyExists when the local id is taken.
  Status restore(ContextInfo info);
  // GET (list): all Hosted, Cached and ImplicitlyCreated contexts, optionally of one kind.
  std::vector<ContextInfo> list(std::optional<ContextKind> kind = std::nullopt);
  // GET /{id}: ResourceNotFound when unknown. The body is ContextInfo::body.
  Result<ContextInfo> get(std::string_view localId);
  // DELETE /{id}: removes it (ResourceNotFound when unknown). With reload=true, only for a
  // Cached context: fetches it again now (LdContextNotAvailable on failure, entry kept);
  // reload on a Hosted context is BadRequestData.
  Status remove(std::string_view localId, bool reload = false);
  // Keeps Hosted and ImplicitlyCreated contexts in `repository` from now on, after loading the
  // ones it holds (their URLs follow the current base URL). Call once, before serving.
  Status restoreHosted(HostedContextRepository& repository);
  // Takes in the hosted contexts another server added or removed, when the repository says
  // they changed (HostedContextRepository::changed). Called by every operation; cheap.
  void followRepository();
  // The URL under which a hosted context with this id is served.
  std::string hostedUrl(std::string_view localId) const;

 private:
  struct Entry {
    ContextInfo info;
    Micros expiresAt = 0;  // Cached only
  };
  Result<std::string> fetchDocument(const std::string& url);
  Result<std::shared_ptr<const Context>> resolveKeyed(const Json& value, std::string key);
  void noteUse(const std::string& url);              // requires mu_
  Entry* findByUrl(const std::string& url);          // requires mu_
  const Entry* findById(std::string_view id) const;  // requires mu_
  Micros now() const;

  const Options options_;
  const std::unique_ptr<ContextLoader> loader_;
  std::string hostedPrefix_;

  mutable std::mutex mu_;
  // Processed contexts by the compact JSON text of the @context value. GUARDED_BY(mu_)
  struct Processed {
    std::shared_ptr<const Context> context;
    Micros expiresAt;
  };
  std::unordered_map<std::string, Processed> processed_;
  // All known documents by URL (Cached, Hosted, ImplicitlyCreated). GUARDED_BY(mu_)
  std::unordered_map<std::string, Entry> documents_;
  uint64_t nextId_ = 1;                            // GUARDED_BY(mu_)
  HostedContextRepository* repository_ = nullptr;  // set once before serving
  // Held while hosted contexts are written to the repository and while they are reloaded from
  // it, so that a reload never drops a context added meanwhile. Taken before mu_.
  std::mutex repositoryMu_;
};

}  // namespace allmende::ld
