#include "ld/context_store.h"

#include <algorithm>
#include <random>

#include "ld/core_context.h"

namespace allmende::ld {

namespace {

std::string randomId() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 2; ++i) {
    uint64_t r = rng();
    for (int j = 0; j < 16; ++j, r >>= 4) id += kHex[r & 0xf];
  }
  return id;
}

}  // namespace

const char* contextKindName(ContextKind kind) {
  switch (kind) {
    case ContextKind::kHosted:
      return "Hosted";
    case ContextKind::kCached:
      return "Cached";
    case ContextKind::kImplicitlyCreated:
      return "ImplicitlyCreated";
  }
  return "Cached";
}

ContextStore::ContextStore(Options options, std::unique_ptr<ContextLoader> loader)
    : options_(std::move(options)),
      loader_(std::move(loader)),
      hostedPrefix_(options_.baseUrl + "/ngsi-ld/v1/jsonldContexts/") {}

Micros ContextStore::now() const { return (options_.clock ? *options_.clock : systemClock()).now(); }

std::shared_ptr<const Context> ContextStore::core() const { return coreContext(); }

std::string ContextStore::hostedUrl(std::string_view localId) const { return hostedPrefix_ + std::string(localId); }

Result<std::shared_ptr<const Context>> ContextStore::resolve(const Json& contextValue) {
  if (contextValue.IsNull()) return core();
  return resolveKeyed(contextValue, toJsonString(contextValue));
}

Result<std::shared_ptr<const Context>> ContextStore::resolveUrl(std::string_view url) {
  JsonDocument doc;
  Json value(url.data(), static_cast<rapidjson::SizeType>(url.size()), doc.GetAllocator());
  return resolveKeyed(value, toJsonString(value));
}

Result<std::shared_ptr<const Context>> ContextStore::resolveKeyed(const Json& value, std::string key) {
  followRepository();
  const Micros t = now();
  {
    std::lock_guard lock(mu_);
    auto it = processed_.find(key);
    if (it != processed_.end() && it->second.expiresAt > t) {
      if (value.IsString()) noteUse(std::string(asView(value)));
      return it->second.context;
    }
  }
  // Processing (and any fetch) runs without the lock; two threads may process the same value
  // concurrently, and the later insert wins. That costs work, never correctness.
  DocumentSource fetch = [this](const std::string& url) { return fetchDocument(url); };
  Result<std::shared_ptr<const Context>> ctx = processContext(value, fetch, options_.processing);
  if (!ctx) return ctx;
  std::lock_guard lock(mu_);
  if (processed_.size() >= options_.maxProcessedEntries && !processed_.contains(key)) {
    processed_.erase(processed_.begin());
  }
  processed_.insert_or_assign(std::move(key), Processed{*ctx, t + options_.remoteTtl});
  return ctx;
}

void ContextStore::noteUse(const std::string& url) {
  if (Entry* e = findByUrl(url)) {
    ++e->info.numberOfHits;
    e->info.lastUsage = now();
  }
}

ContextStore::Entry* ContextStore::findByUrl(const std::string& url) {
  auto it = documents_.find(url);
  return it == documents_.end() ? nullptr : &it->second;
}

const ContextStore::Entry* ContextStore::findById(std::string_view id) const {
  for (const auto& [url, e] : documents_) {
    if (e.info.localId == id) return &e;
  }
  return nullptr;
}

Result<std::string> ContextStore::fetchDocument(const std::string& url) {
  const Micros t = now();
  {
    std::lock_guard lock(mu_);
    Entry* e = findByUrl(url);
    if (e != nullptr && (e->info.kind != ContextKind::kCached || e->expiresAt > t)) {
      ++e->info.numberOfHits;
      e->info.lastUsage = t;
      return e->info.body;
    }
    if (e == nullptr && url.starts_with(hostedPrefix_)) {
      return Status(ErrorType::kLdContextNotAvailable, "no hosted @context at " + url);
    }
  }
  if (!loader_) return Status(ErrorType::kLdContextNotAvailable, "no context loader for " + url);
  Result<std::string> body = loader_->load(url);
  if (!body) return body;
  std::lock_guard lock(mu_);
  Entry& e = documents_[url];
  if (e.info.localId.empty()) {
    e.info.localId = randomId();
    e.info.url = url;
    e.info.kind = ContextKind::kCached;
  }
  e.info.createdAt = t;
  e.info.lastUsage = t;
  ++e.info.numberOfHits;
  e.info.body = *body;
  e.expiresAt = t + options_.remoteTtl;
  e.info.extraInfo = "expiresAt " + formatDateTime(e.expiresAt);
  // Bounded: evict the least recently used cached document.
  size_t cached = std::count_if(documents_.begin(), documents_.end(),
                                [](const auto& d) { return d.second.info.kind == ContextKind::kCached; });
  if (cached > options_.maxRemoteEntries) {
    auto victim = documents_.end();
    for (auto it = documents_.begin(); it != documents_.end(); ++it) {
      if (it->second.info.kind != ContextKind::kCached || it->first == url) continue;
      if (victim == documents_.end() || it->second.info.lastUsage < victim->second.info.lastUsage) victim = it;
    }
    if (victim != documents_.end()) documents_.erase(victim);
  }
  return body;
}

void ContextStore::followRepository() {
  if (repository_ == nullptr || !repository_->changed()) return;
  std::lock_guard writes(repositoryMu_);
  auto stored = repository_->load();
  if (!stored) return;  // the repository is away: keep what we have, try again later
  std::unordered_map<std::string, ContextInfo> fresh;
  for (auto& info : *stored) {
    info.url = hostedUrl(info.localId);
    fresh.emplace(info.url, std::move(info));
  }
  std::lock_guard lock(mu_);
  bool gone = false;
  for (auto it = documents_.begin(); it != documents_.end();) {
    if (it->second.info.kind == ContextKind::kCached) {
      ++it;
      continue;
    }
    auto f = fresh.find(it->first);
    if (f == fresh.end() || f->second.body != it->second.info.body) {
      gone = true;
      it = documents_.erase(it);
      continue;
    }
    fresh.erase(f);  // kept, with its hit counters
    ++it;
  }
  for (auto& [url, info] : fresh) {
    Entry e;
    e.info = std::move(info);
    documents_[url] = std::move(e);
  }
  if (gone) processed_.clear();  // processed contexts may embed a removed document
}

Result<ContextInfo> ContextStore::add(const Json& body, ContextKind kind, std::string owner) {
  const Json* ctx = body.IsObject() ? findMember(body, "@context") : nullptr;
  if (ctx == nullptr) return badRequestData("the body must be a JSON object with an @context member");
  DocumentSource fetch = [this](const std::string& url) { return fetchDocument(url); };
  Result<std::shared_ptr<const Context>> processed = processContext(*ctx, fetch, options_.processing);
  if (!processed) return processed.status();
  Entry e;
  e.info.localId = randomId();
  e.info.url = hostedUrl(e.info.localId);
  e.info.kind = kind;
  e.info.createdAt = now();
  e.info.body = toJsonString(body);
  e.info.owner = std::move(owner);
  std::lock_guard writes(repositoryMu_);
  if (repository_) ALLMENDE_RETURN_IF_ERROR(repository_->save(e.info));
  std::lock_guard lock(mu_);
  ContextInfo info = e.info;
  documents_.emplace(info.url, std::move(e));
  return info;
}

Status ContextStore::restore(ContextInfo info) {
  if (info.kind == ContextKind::kCached) return badRequestData("only Hosted @contexts are restored");
  info.url = hostedUrl(info.localId);
  followRepository();
  std::lock_guard writes(repositoryMu_);
  {
    std::lock_guard lock(mu_);
    if (findById(info.localId) != nullptr) return alreadyExists("an @context with id " + info.localId + " exists");
  }
  if (repository_) ALLMENDE_RETURN_IF_ERROR(repository_->save(info));
  std::lock_guard lock(mu_);
  Entry e;
  e.info = std::move(info);
  documents_[e.info.url] = std::move(e);
  return Status::ok();
}

Status ContextStore::restoreHosted(HostedContextRepository& repository) {
  auto stored = repository.load();
  if (!stored) return stored.status();
  std::lock_guard lock(mu_);
  for (auto& info : *stored) {
    info.url = hostedUrl(info.localId);
    Entry e;
    e.info = std::move(info);
    documents_[e.info.url] = std::move(e);
  }
  repository_ = &repository;
  return Status::ok();
}

std::vector<ContextInfo> ContextStore::list(std::optional<ContextKind> kind) {
  followRepository();
  std::lock_guard lock(mu_);
  std::vector<ContextInfo> out;
  for (const auto& [url, e] : documents_) {
    if (!kind || e.info.kind == *kind) out.push_back(e.info);
  }
  std::sort(out.begin(), out.end(), [](const ContextInfo& a, const ContextInfo& b) { return a.url < b.url; });
  return out;
}

Result<ContextInfo> ContextStore::get(std::string_view localId) {
  followRepository();
  std::lock_guard lock(mu_);
  const Entry* e = findById(localId);
  if (e == nullptr) return notFound("no @context with id " + std::string(localId));
  return e->info;
}

Status ContextStore::remove(std::string_view localId, bool reload) {
  followRepository();
  std::string url;
  {
    std::lock_guard writes(repositoryMu_);
    std::lock_guard lock(mu_);
    const Entry* e = findById(localId);
    if (e == nullptr) return notFound("no @context with id " + std::string(localId));
    url = e->info.url;
    if (!reload) {
      if (repository_ && e->info.kind != ContextKind::kCached) {
        ALLMENDE_RETURN_IF_ERROR(repository_->remove(localId));
      }
      documents_.erase(url);
      processed_.clear();  // processed contexts may embed the removed document
      return Status::ok();
    }
    if (e->info.kind != ContextKind::kCached) return badRequestData("reload applies to Cached @contexts only");
  }
  if (!loader_) return Status(ErrorType::kLdContextNotAvailable, "no context loader for " + url);
  Result<std::string> body = loader_->load(url);
  if (!body) return body.status();
  std::lock_guard lock(mu_);
  if (Entry* e = findByUrl(url)) {
    e->info.body = *body;
    e->info.createdAt = now();
    e->expiresAt = e->info.createdAt + options_.remoteTtl;
    e->info.extraInfo = "expiresAt " + formatDateTime(e->expiresAt);
  }
  processed_.clear();
  return Status::ok();
}

}  // namespace allmende::ld
