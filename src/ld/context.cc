#include "ld/context.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <tuple>

#include "ld/iri.h"

namespace allmende::ld {

namespace internal {

bool isAbsoluteIri(std::string_view v) {
  size_t colon = v.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view scheme = v.substr(0, colon);
  if (scheme != "_") {
    if (!std::isalpha(static_cast<unsigned char>(scheme[0]))) return false;
    for (char c : scheme) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return false;
    }
  }
  return std::none_of(v.begin(), v.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

bool isKeyword(std::string_view v) {
  static constexpr std::array<std::string_view, 29> kKeywords = {
      "@base",     "@container", "@context",  "@default", "@direction", "@embed",   "@explicit",
      "@graph",    "@id",        "@import",   "@included", "@index",    "@json",    "@language",
      "@list",     "@nest",      "@none",     "@omitDefault", "@prefix", "@preserve", "@propagate",
      "@protected", "@requireAll", "@reverse", "@set",      "@type",     "@value",   "@version",
      "@vocab"};
  return std::find(kKeywords.begin(), kKeywords.end(), v) != kKeywords.end();
}

bool hasKeywordForm(std::string_view v) {
  if (v.size() < 2 || v[0] != '@') return false;
  return std::all_of(v.begin() + 1, v.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
}

std::string resolveIri(std::string_view base, std::string_view ref) {
  if (isAbsoluteIri(ref) && ref.find("://") != std::string_view::npos) return std::string(ref);
  size_t schemeEnd = base.find("://");
  if (schemeEnd == std::string_view::npos) return std::string(ref);
  if (ref.starts_with("//")) return std::string(base.substr(0, schemeEnd + 1)) + std::string(ref);
  size_t pathStart = base.find('/', schemeEnd + 3);
  std::string_view authority = pathStart == std::string_view::npos ? base : base.substr(0, pathStart);
  if (ref.starts_with("/")) return std::string(authority) + std::string(ref);
  std::string_view path = pathStart == std::string_view::npos ? "/" : base.substr(pathStart);
  path = path.substr(0, path.find_first_of("?#"));
  std::string dir(path.substr(0, path.rfind('/') + 1));
  std::string_view rest = ref;
  while (rest.starts_with("./") || rest.starts_with("../")) {
    if (rest.starts_with("./")) {
      rest.remove_prefix(2);
    } else {
      rest.remove_prefix(3);
      if (dir.size() > 1) dir.erase(dir.rfind('/', dir.size() - 2) + 1);
    }
  }
  return std::string(authority) + dir + std::string(rest);
}

}  // namespace internal

namespace {

// JSON-LD 1.1 API 6.2 (IRI compaction) with value null: the containers tried, in order, and the
// type/language preference "@id" then "@none". Returns nullopt when the term is not selectable.
std::optional<std::pair<int, int>> selectionRank(const TermDefinition& def) {
  static constexpr std::array<std::string_view, 6> kContainers = {"@id",  "@id@set", "@type",
                                                                  "@set@type", "@set", ""};
  auto c = std::find(kContainers.begin(), kContainers.end(), def.container);
  if (c == kContainers.end()) return std::nullopt;
  int pref;
  if (def.typeMapping == "@id") {
    pref = 0;
  } else if (def.typeMapping == "@none" || (def.typeMapping.empty() && !def.hasLanguage)) {
    pref = 1;
  } else {
    return std::nullopt;
  }
  return std::make_pair(static_cast<int>(c - kContainers.begin()), pref);
}

// Shortest, then lexicographically least (JSON-LD 1.1 API 4.3 "Inverse Context Creation").
bool shorterOrLeast(std::string_view a, std::string_view b) {
  return a.size() != b.size() ? a.size() < b.size() : a < b;
}

}  // namespace

Context::Context(TermMap terms, std::optional<std::string> vocab, std::string source,
                 std::optional<std::string> sourceUrl)
    : terms_(std::move(terms)),
      vocab_(std::move(vocab)),
      source_(std::move(source)),
      sourceUrl_(std::move(sourceUrl)) {
  buildInverse();
}

void Context::buildInverse() {
  struct Best {
    std::pair<int, int> rank;
    const std::string* term;
  };
  std::unordered_map<std::string_view, Best> best;
  for (const auto& [term, def] : terms_) {
    if (def.isNull) continue;
    if (def.prefix) prefixes_.push_back({term, def.iri});
    auto rank = selectionRank(def);
    if (!rank) continue;
    auto [it, inserted] = best.try_emplace(def.iri, Best{*rank, &term});
    if (inserted) continue;
    Best& b = it->second;
    if (*rank < b.rank || (*rank == b.rank && shorterOrLeast(term, *b.term))) b = Best{*rank, &term};
  }
  inverse_.reserve(best.size());
  for (const auto& [iri, b] : best) inverse_.emplace(std::string(iri), *b.term);
  std::sort(prefixes_.begin(), prefixes_.end(),
            [](const PrefixTerm& a, const PrefixTerm& b) { return shorterOrLeast(a.term, b.term); });
}

const TermDefinition* Context::findTerm(std::string_view term) const {
  auto it = terms_.find(term);
  return it == terms_.end() ? nullptr : &it->second;
}

bool Context::isVocabTyped(std::string_view term) const {
  const TermDefinition* def = findTerm(term);
  return def != nullptr && (def->typeMapping == "@vocab" || def->typeMapping == "@id");
}

bool Context::isVocabTypedStrict(std::string_view term) const {
  const TermDefinition* def = findTerm(term);
  return def != nullptr && def->typeMapping == "@vocab";
}

std::string Context::expandTerm(std::string_view term) const {
  if (internal::isKeyword(term)) return std::string(term);
  if (const TermDefinition* def = findTerm(term)) {
    if (def->isNull) return {};
    return def->iri;
  }
  size_t colon = term.find(':');
  if (colon != std::string_view::npos && colon > 0) {
    std::string_view prefix = term.substr(0, colon);
    std::string_view suffix = term.substr(colon + 1);
    if (prefix == "_" || suffix.starts_with("//")) return std::string(term);
    const TermDefinition* def = findTerm(prefix);
    if (def != nullptr && !def->isNull && def->prefix) return def->iri + std::string(suffix);
    if (internal::isAbsoluteIri(term)) return std::string(term);
  }
  if (vocab_) return *vocab_ + std::string(term);
  return std::string(term);
}

std::string Context::compactIri(std::string_view iri) const {
  if (iri.empty()) return {};
  if (auto it = inverse_.find(iri); it != inverse_.end()) return it->second;
  // JSON-LD 1.1 API 6.2 step 4: strip @vocab unless the remainder is itself a term.
  if (vocab_ && iri.size() > vocab_->size() && iri.starts_with(*vocab_)) {
    std::string_view suffix = iri.substr(vocab_->size());
    if (findTerm(suffix) == nullptr) return std::string(suffix);
  }
  // Step 5: the shortest, then least, usable compact IRI.
  std::string choice;
  for (const PrefixTerm& p : prefixes_) {
    if (iri.size() <= p.iri.size() || !iri.starts_with(p.iri)) continue;
    std::string candidate = p.term + ':' + std::string(iri.substr(p.iri.size()));
    const TermDefinition* clash = findTerm(candidate);
    bool usable = clash == nullptr || (!clash->isNull && clash->iri == iri);
    if (usable && (choice.empty() || shorterOrLeast(candidate, choice))) choice = std::move(candidate);
  }
  if (!choice.empty()) return choice;
  return std::string(iri);
}

}  // namespace allmende::ld
