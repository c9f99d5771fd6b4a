// A processed JSON-LD active context, as NGSI-LD uses it: the user @context(s) of a request with
// the core context applied last (NGSI-LD 4.5), ready for vocab-relative IRI expansion and
// compaction of entity types and attribute names.
//
// A Context is immutable once built and shared between threads as std::shared_ptr<const Context>.
// Build one with processContext() (context_processor.h) or ContextStore::resolve().
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace allmende::ld {

// One term definition (JSON-LD 1.1 API 4.1 "Create Term Definition"), reduced to what NGSI-LD needs.
struct TermDefinition {
  std::string iri;          // IRI mapping, or a keyword ("@id", "@type"); empty when isNull
  bool isNull = false;      // the term is explicitly mapped to null (JSON-LD drops such keys)
  bool prefix = false;      // may be used as the prefix of a compact IRI
  bool isProtected = false;
  std::string typeMapping;  // "@id", "@vocab", "@json", "@none", an absolute IRI, or empty
  std::string container;    // sorted container keywords joined ("@list", "@set@type"), or empty
  bool hasLanguage = false; // has a @language (or @direction) mapping
};

class Context {
 public:
  // Hash/equality that accept std::string_view without allocating (heterogeneous lookup).
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using TermMap = std::unordered_map<std::string, TermDefinition, Hash, std::equal_to<>>;

  // Builds the lookup indexes. `source` is the @context value as received (serialized JSON text),
  // `sourceUrl` the URL when that value was a single URL string.
  Context(TermMap terms, std::optional<std::string> vocab, std::string source,
          std::optional<std::string> sourceUrl);

  // Vocab-relative IRI expansion (JSON-LD 1.1 API 5.2 with vocab=true): a term maps to its IRI
  // (or keyword: "id" -> "@id"); "prefix:suffix" with a prefix term expands; an absolute IRI or
  // blank node id is returned unchanged; otherwise @vocab + term. Returns an empty string when the
  // term is mapped to null, and the term unchanged when nothing applies (no @vocab).
  // Also the expansion of VocabProperty values and other @vocab-typed values.
  std::string expandTerm(std::string_view term) const;

  // Vocab-relative IRI compaction (JSON-LD 1.1 API 6.2 with vocab=true, value=null): the selected
  // term whose IRI mapping equals iri (container/type preference as JSON-LD's term selection,
  // then shortest, then lexicographically least); else iri minus @vocab when that remainder is not
  // itself a term; else the shortest compact IRI "prefix:suffix"; else iri unchanged.
  std::string compactIri(std::string_view iri) const;

  // The term's definition, or nullptr when the context does not define it.
  const TermDefinition* findTerm(std::string_view term) const;
  // True when the term's values are IRIs to expand/compact ("@type": "@vocab" or "@id"), as the
  // core terms "vocab", "objectType", "typeName" ... (needed for VocabProperty values).
  bool isVocabTyped(std::string_view term) const;
  // True when the term is typed "@vocab" precisely (values are vocab-relative).
  bool isVocabTypedStrict(std::string_view term) const;

  // The vocabulary mapping (@vocab), if any.
  const std::optional<std::string>& vocab() const { return vocab_; }
  // The @context value this context was built from, as compact JSON text ("null" for core only).
  const std::string& source() const { return source_; }
  // The URL, when the @context value was one URL string (e.g. from a Link header).
  const std::optional<std::string>& sourceUrl() const { return sourceUrl_; }
  size_t termCount() const { return terms_.size(); }
  const TermMap& terms() const { return terms_; }

 private:
  struct PrefixTerm {
    std::string term;
    std::string iri;
  };
  void buildInverse();

  TermMap terms_;
  std::optional<std::string> vocab_;
  std::string source_;
  std::optional<std::string> sourceUrl_;
  // IRI -> the term JSON-LD's term selection picks for a node-object/null value.
  std::unordered_map<std::string, std::string, Hash, std::equal_to<>> inverse_;
  std::vector<PrefixTerm> prefixes_;  // terms with the prefix flag, for compact IRIs
};

}  // namespace allmende::ld
