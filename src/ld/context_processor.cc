#include "ld/context_processor.h"

#include <algorithm>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ld/core_context.h"
#include "ld/iri.h"

namespace allmende::ld {

namespace {

using internal::hasKeywordForm;
using internal::isAbsoluteIri;
using internal::isKeyword;

// NGSI-LD 5.5.2: a malformed @context is input data that does not meet the requirements.
Status invalidContext(std::string detail) {
  return {ErrorType::kBadRequestData, "Invalid JSON-LD @context: " + std::move(detail)};
}
Status notAvailable(std::string detail) { return {ErrorType::kLdContextNotAvailable, std::move(detail)}; }

bool sameDefinition(const TermDefinition& a, const TermDefinition& b) {
  return a.iri == b.iri && a.isNull == b.isNull && a.prefix == b.prefix && a.typeMapping == b.typeMapping &&
         a.container == b.container && a.hasLanguage == b.hasLanguage;
}

bool endsWithGenDelim(std::string_view iri) {
  return !iri.empty() && std::string_view(":/?#[]@").find(iri.back()) != std::string_view::npos;
}

// Context-level keywords (JSON-LD 1.1 API 4.1.2 step 5).
bool isContextKeyword(std::string_view k) {
  return k == "@base" || k == "@direction" || k == "@import" || k == "@language" || k == "@propagate" ||
         k == "@protected" || k == "@version" || k == "@vocab";
}

class Processor {
 public:
  Processor(const DocumentSource& fetch, const ProcessOptions& options, const Context::TermMap* core)
      : fetch_(fetch), options_(options), core_(core) {}

  Status processValue(const Json& v, const std::optional<std::string>& base, int depth, bool remote);

  Context::TermMap takeTerms() { return std::move(terms_); }
  std::optional<std::string> vocab() const { return vocab_; }

  // NGSI-LD 4.5: the core context is applied last and overrides user definitions.
  void overlayCore(bool lock) {
    for (const auto& [term, def] : *core_) {
      terms_.insert_or_assign(term, def);
      if (lock) coreLocked_.insert(term);
    }
    vocab_ = std::string(kDefaultVocab);
  }

 private:
  using Defined = std::unordered_map<std::string, bool>;

  Status processObject(const Json& obj, const std::optional<std::string>& base, int depth, bool remote);
  Result<JsonDocument> loadDocument(const std::string& url, int depth);
  Status createTerm(const Json& local, const std::string& term, Defined& defined, bool defaultProtected);
  Status buildDefinition(const Json& local, const std::string& term, const Json& value, Defined& defined,
                         TermDefinition& def);
  // IRI expansion during processing (JSON-LD 1.1 API 5.2), creating local terms on demand.
  // nullopt: the value maps to null.
  Result<std::optional<std::string>> expandIri(const Json* local, std::string_view value, Defined* defined,
                                               bool documentRelative);

  const DocumentSource& fetch_;
  const ProcessOptions& options_;
  const Context::TermMap* core_;
  Context::TermMap terms_;
  std::optional<std::string> vocab_;
  std::optional<std::string> base_;
  std::unordered_set<std::string> coreLocked_;  // terms set by a core URL inside the user context
  std::vector<std::string> urlStack_;           // remote contexts being processed (cycle detection)
  int remoteCount_ = 0;
};

Status Processor::processValue(const Json& v, const std::optional<std::string>& base, int depth, bool remote) {
  if (depth > options_.maxDepth) return invalidContext("context overflow: more than " +
                                                      std::to_string(options_.maxDepth) + " nested levels");
  if (v.IsArray()) {
    for (const Json& item : v.GetArray()) {
      if (item.IsArray()) return invalidContext("nested array in @context");
      ALLMENDE_RETURN_IF_ERROR(processValue(item, base, depth, remote));
    }
    return Status::ok();
  }
  if (v.IsNull()) {
    // JSON-LD 1.1 API 4.1.2 step 5.1: nullification is refused while protected terms exist.
    for (const auto& [term, def] : terms_) {
      if (def.isProtected && !coreLocked_.contains(term)) {
        return invalidContext("invalid context nullification: protected term '" + term + "'");
      }
    }
    terms_.clear();
    coreLocked_.clear();
    vocab_.reset();
    return Status::ok();
  }
  if (v.IsString()) {
    std::string url = base ? internal::resolveIri(*base, asView(v)) : std::string(asView(v));
    if (isCoreContextUrl(url)) {
      // Never fetched: the built-in copy is applied here and again (last) at the end.
      if (core_ != nullptr) overlayCore(/*lock=*/true);
      return Status::ok();
    }
    if (!isAbsoluteIri(url)) return invalidContext("context reference is not an absolute URL: " + url);
    if (std::find(urlStack_.begin(), urlStack_.end(), url) != urlStack_.end()) {
      return invalidContext("cyclic reference to remote context " + url);
    }
    Result<JsonDocument> doc = loadDocument(url, depth);
    if (!doc) return doc.status();
    const Json* ctx = findMember(*doc, "@context");
    if (ctx == nullptr) return notAvailable("remote document " + url + " has no @context member");
    urlStack_.push_back(url);
    Status st = processValue(*ctx, url, depth + 1, /*remote=*/true);
    urlStack_.pop_back();
    return st;
  }
  if (v.IsObject()) return processObject(v, base, depth, remote);
  return invalidContext(std::string("a @context entry must be a string, object or null, not ") +
                        jsonTypeName(v));
}

Result<JsonDocument> Processor::loadDocument(const std::string& url, int depth) {
  if (++remoteCount_ > options_.maxRemoteContexts) {
    return invalidContext("more than " + std::to_string(options_.maxRemoteContexts) + " remote contexts");
  }
  Result<std::string> text = fetch_ ? fetch_(url) : Result<std::string>(notAvailable("no loader for " + url));
  if (!text) return text.status();
  JsonDocument doc;
  if (!parseJson(*text, doc, options_.jsonLimits).isOk() || !doc.IsObject()) {
    return notAvailable("remote @context " + url + " is not a JSON object");
  }
  return doc;
}

Status Processor::processObject(const Json& input, const std::optional<std::string>& base, int depth,
                                bool remote) {
  const Json* ctx = &input;
  JsonDocument merged;
  if (const Json* version = findMember(*ctx, "@version")) {
    if (!version->IsNumber() || version->GetDouble() != 1.1) return invalidContext("invalid @version value");
  }
  if (const Json* import = findMember(*ctx, "@import")) {
    // JSON-LD 1.1 API 4.1.2 step 5.6: the imported context's entries, overridden by this one's.
    if (!import->IsString()) return invalidContext("invalid @import value");
    std::string url = base ? internal::resolveIri(*base, asView(*import)) : std::string(asView(*import));
    if (depth + 1 > options_.maxDepth) return invalidContext("context overflow in @import");
    Result<JsonDocument> doc = loadDocument(url, depth);
    if (!doc) return doc.status();
    const Json* imported = findMember(*doc, "@context");
    if (imported == nullptr || !imported->IsObject()) return invalidContext("invalid remote context " + url);
    if (findMember(*imported, "@import") != nullptr) return invalidContext("invalid context entry: nested @import");
    merged.CopyFrom(*imported, merged.GetAllocator());
    for (const auto& m : ctx->GetObject()) {
      if (asView(m.name) == "@import") continue;
      if (Json* existing = findMember(merged, asView(m.name))) {
        existing->CopyFrom(m.value, merged.GetAllocator());
      } else {
        merged.AddMember(Json(m.name, merged.GetAllocator()), Json(m.value, merged.GetAllocator()),
                         merged.GetAllocator());
      }
    }
    ctx = &merged;
  }
  if (const Json* b = findMember(*ctx, "@base"); b != nullptr && !remote) {
    if (b->IsNull()) {
      base_.reset();
    } else if (b->IsString()) {
      base_ = base_ ? internal::resolveIri(*base_, asView(*b)) : std::string(asView(*b));
    } else {
      return invalidContext("invalid base IRI");
    }
  }
  if (const Json* v = findMember(*ctx, "@vocab")) {
    if (v->IsNull()) {
      vocab_.reset();
    } else if (v->IsString()) {
      auto expanded = expandIri(nullptr, asView(*v), nullptr, /*documentRelative=*/true);
      if (!expanded) return expanded.status();
      if (!expanded->has_value()) return invalidContext("invalid vocab mapping");
      vocab_ = **expanded;
    } else {
      return invalidContext("invalid vocab mapping");
    }
  }
  if (const Json* l = findMember(*ctx, "@language"); l != nullptr && !l->IsNull() && !l->IsString()) {
    return invalidContext("invalid default language");
  }
  if (const Json* p = findMember(*ctx, "@propagate"); p != nullptr && !p->IsBool()) {
    return invalidContext("invalid @propagate value");
  }
  bool defaultProtected = false;
  if (const Json* p = findMember(*ctx, "@protected")) {
    if (!p->IsBool()) return invalidContext("invalid @protected value");
    defaultProtected = p->GetBool();
  }
  Defined defined;
  for (const auto& m : ctx->GetObject()) {
    std::string term(asView(m.name));
    if (isContextKeyword(term)) continue;
    ALLMENDE_RETURN_IF_ERROR(createTerm(*ctx, term, defined, defaultProtected));
  }
  return Status::ok();
}

Status Processor::createTerm(const Json& local, const std::string& term, Defined& defined, bool defaultProtected) {
  if (auto it = defined.find(term); it != defined.end()) {
    return it->second ? Status::ok() : invalidContext("cyclic IRI mapping for term '" + term + "'");
  }
  if (term.empty()) return invalidContext("invalid term definition: empty term");
  const Json* value = findMember(local, term);
  if (value == nullptr) return Status::ok();
  if (term == "@type") {
    // JSON-LD 1.1 allows {"@container": "@set"} (and @protected) on @type; nothing to record.
    defined[term] = true;
    return value->IsObject() ? Status::ok() : invalidContext("keyword redefinition: @type");
  }
  if (isKeyword(term)) return invalidContext("keyword redefinition: " + term);
  if (hasKeywordForm(term)) {  // reserved for future keywords: ignored
    defined[term] = true;
    return Status::ok();
  }
  defined[term] = false;
  TermDefinition def;
  def.isProtected = defaultProtected;
  std::optional<TermDefinition> previous;
  if (auto it = terms_.find(term); it != terms_.end()) {
    previous = std::move(it->second);
    terms_.erase(it);
  }
  ALLMENDE_RETURN_IF_ERROR(buildDefinition(local, term, *value, defined, def));
  if (previous && coreLocked_.contains(term)) {
    def = *previous;  // NGSI-LD 4.5: core terms cannot be overridden; a redefinition is ignored
  } else if (previous && previous->isProtected) {
    if (!sameDefinition(*previous, def)) return invalidContext("protected term redefinition: '" + term + "'");
    def = *previous;
  }
  terms_.insert_or_assign(term, std::move(def));
  defined[term] = true;
  return Status::ok();
}

Status Processor::buildDefinition(const Json& local, const std::string& term, const Json& value,
                                  Defined& defined, TermDefinition& def) {
  if (value.IsNull()) {
    def.isNull = true;
    return Status::ok();
  }
  bool simpleTerm = value.IsString();
  if (!simpleTerm && !value.IsObject()) return invalidContext("invalid term definition for '" + term + "'");
  const Json* id = simpleTerm ? &value : findMember(value, "@id");
  if (!simpleTerm) {
    for (const auto& m : value.GetObject()) {
      std::string_view k = asView(m.name);
      if (k == "@id" || k == "@type" || k == "@language" || k == "@direction" || k == "@container" ||
          k == "@context" || k == "@prefix" || k == "@protected" || k == "@index" || k == "@nest") {
        continue;
      }
      if (k == "@reverse") return invalidContext("@reverse term definitions are not supported ('" + term + "')");
      return invalidContext("invalid term definition for '" + term + "': unexpected " + std::string(k));
    }
    if (const Json* p = findMember(value, "@protected")) {
      if (!p->IsBool()) return invalidContext("invalid @protected value for '" + term + "'");
      def.isProtected = p->GetBool();
    }
    if (const Json* t = findMember(value, "@type")) {
      if (!t->IsString()) return invalidContext("invalid type mapping for '" + term + "'");
      auto expanded = expandIri(&local, asView(*t), &defined, false);
      if (!expanded) return expanded.status();
      const std::string type = expanded->value_or("");
      if (type != "@id" && type != "@json" && type != "@none" && type != "@vocab" &&
          (isKeyword(type) || !isAbsoluteIri(type))) {
        return invalidContext("invalid type mapping for '" + term + "': " + type);
      }
      def.typeMapping = type;
    }
  }
  size_t colon = term.find(':', 1);
  bool termHasColon = colon != std::string::npos && colon + 1 < term.size();
  if (id != nullptr && !(id->IsString() && asView(*id) == term)) {
    if (id->IsNull()) {
      def.isNull = true;  // JSON-LD 1.1 API 4.2.2 step 14.1: not used for expansion
      return Status::ok();
    }
    if (!id->IsString()) return invalidContext("invalid IRI mapping for '" + term + "'");
    if (!isKeyword(asView(*id)) && hasKeywordForm(asView(*id))) {
      def.isNull = true;
      return Status::ok();
    }
    auto expanded = expandIri(&local, asView(*id), &defined, false);
    if (!expanded) return expanded.status();
    if (!expanded->has_value() || (!isKeyword(**expanded) && !isAbsoluteIri(**expanded))) {
      return invalidContext("invalid IRI mapping for '" + term + "'");
    }
    if (**expanded == "@context") return invalidContext("invalid keyword alias: @context");
    def.iri = **expanded;
    if (termHasColon || term.find('/') != std::string::npos) {
      defined[term] = true;
      auto self = expandIri(&local, term, &defined, false);
      defined[term] = false;
      if (!self) return self.status();
      if (self->value_or("") != def.iri) return invalidContext("invalid IRI mapping for '" + term + "'");
    }
    def.prefix = simpleTerm && !termHasColon && term.find('/') == std::string::npos && endsWithGenDelim(def.iri);
  } else if (termHasColon) {
    std::string prefix = term.substr(0, colon);
    if (findMember(local, prefix) != nullptr) ALLMENDE_RETURN_IF_ERROR(createTerm(local, prefix, defined, false));
    auto it = terms_.find(prefix);
    def.iri = (it != terms_.end() && !it->second.isNull) ? it->second.iri + term.substr(colon + 1) : term;
  } else if (term.find('/') != std::string::npos) {
    auto expanded = expandIri(&local, term, &defined, false);
    if (!expanded) return expanded.status();
    if (!expanded->has_value() || !isAbsoluteIri(**expanded)) return invalidContext("invalid IRI mapping for '" + term + "'");
    def.iri = **expanded;
  } else if (vocab_) {
    def.iri = *vocab_ + term;
  } else {
    return invalidContext("invalid IRI mapping for '" + term + "': no @id and no @vocab");
  }
  if (!simpleTerm) {
    if (const Json* c = findMember(value, "@container")) {
      std::vector<std::string> parts;
      auto add = [&](const Json& x) {
        static const std::unordered_set<std::string_view> kAllowed = {"@list", "@set", "@index", "@language",
                                                                      "@id", "@type", "@graph"};
        if (!x.IsString() || !kAllowed.contains(asView(x))) return false;
        parts.emplace_back(asView(x));
        return true;
      };
      bool ok = c->IsArray() ? std::all_of(c->Begin(), c->End(), add) : add(*c);
      if (!ok) return invalidContext("invalid container mapping for '" + term + "'");
      std::sort(parts.begin(), parts.end());
      for (const std::string& p : parts) def.container += p;
    }
    if (const Json* l = findMember(value, "@language")) {
      if (!l->IsNull() && !l->IsString()) return invalidContext("invalid language mapping for '" + term + "'");
      def.hasLanguage = true;
    }
    if (findMember(value, "@direction") != nullptr) def.hasLanguage = true;
    if (const Json* p = findMember(value, "@prefix")) {
      if (!p->IsBool() || termHasColon || term.find('/') != std::string::npos) {
        return invalidContext("invalid @prefix value for '" + term + "'");
      }
      def.prefix = p->GetBool();
      if (def.prefix && isKeyword(def.iri)) return invalidContext("invalid term definition: keyword as prefix");
    }
    // "@context" (a scoped context) is accepted and not applied: NGSI-LD expands only top-level
    // names of entities and attributes.
  }
  return Status::ok();
}

Result<std::optional<std::string>> Processor::expandIri(const Json* local, std::string_view value,
                                                        Defined* defined, bool documentRelative) {
  if (isKeyword(value)) return std::optional<std::string>(std::string(value));
  if (hasKeywordForm(value)) return std::optional<std::string>();
  std::string key(value);
  if (local != nullptr && findMember(*local, key) != nullptr) {
    auto it = defined->find(key);
    if (it == defined->end() || !it->second) ALLMENDE_RETURN_IF_ERROR(createTerm(*local, key, *defined, false));
  }
  if (auto it = terms_.find(value); it != terms_.end()) {
    if (it->second.isNull) return std::optional<std::string>();
    return std::optional<std::string>(it->second.iri);
  }
  size_t colon = value.find(':');
  if (colon != std::string_view::npos && colon > 0) {
    std::string prefix(value.substr(0, colon));
    std::string_view suffix = value.substr(colon + 1);
    if (prefix == "_" || suffix.starts_with("//")) return std::optional<std::string>(key);
    if (local != nullptr && findMember(*local, prefix) != nullptr) {
      auto it = defined->find(prefix);
      if (it == defined->end() || !it->second) ALLMENDE_RETURN_IF_ERROR(createTerm(*local, prefix, *defined, false));
    }
    auto it = terms_.find(prefix);
    if (it != terms_.end() && !it->second.isNull && it->second.prefix) {
      return std::optional<std::string>(it->second.iri + std::string(suffix));
    }
    if (isAbsoluteIri(value)) return std::optional<std::string>(key);
  }
  if (vocab_) return std::optional<std::string>(*vocab_ + key);
  if (documentRelative && base_) return std::optional<std::string>(internal::resolveIri(*base_, value));
  return std::optional<std::string>(key);
}

Result<std::shared_ptr<const Context>> build(const Json& value, const DocumentSource& fetch,
                                             const ProcessOptions& options, bool applyCore) {
  const Context::TermMap* core = applyCore ? &coreContext()->terms() : nullptr;
  Processor p(fetch, options, core);
  ALLMENDE_RETURN_IF_ERROR(p.processValue(value, std::nullopt, 0, /*remote=*/false));
  if (applyCore) p.overlayCore(/*lock=*/false);
  std::optional<std::string> url;
  if (value.IsString()) url = std::string(asView(value));
  std::optional<std::string> vocab = p.vocab();
  return std::make_shared<const Context>(p.takeTerms(), std::move(vocab), toJsonString(value), std::move(url));
}

}  // namespace

Result<std::shared_ptr<const Context>> processContext(const Json& value, const DocumentSource& fetch,
                                                      const ProcessOptions& options) {
  return build(value, fetch, options, /*applyCore=*/true);
}

Result<std::shared_ptr<const Context>> processStandaloneContext(const Json& value, const DocumentSource& fetch,
                                                                const ProcessOptions& options) {
  return build(value, fetch, options, /*applyCore=*/false);
}

}  // namespace allmende::ld
