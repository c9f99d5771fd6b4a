// The NGSI-LD Scope Query Language (ETSI GS CIM 009 clause 4.19): `/a/b`, `/a/+/c` (one level of
// any name), `/a/#` (the scope and everything below), `/#` (any non-empty scope), `|` or `,` (or),
// `(/a;/b)` (and), parentheses for grouping.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/status.h"
#include "query/options.h"

namespace allmende::query {

struct ScopePattern {
  std::vector<std::string> levels;  // "+" matches any one level; empty with `subtree` = "/#"
  bool subtree = false;             // trailing "/#"
};

struct ScopeQuery {
  enum class Kind { kLeaf, kAnd, kOr };
  Kind kind = Kind::kLeaf;
  ScopePattern pattern;              // kLeaf
  std::vector<ScopeQuery> children;  // kAnd, kOr
};

// Parses a scopeQ. Scope levels are not expanded. Fails with BadRequestData on a syntax error,
// TooComplexQuery beyond `limits`.
Result<ScopeQuery> parseScopeQ(std::string_view text, const QueryLimits& limits = {});

// True when the entity's scopes (`scopeArray`: an array of scope strings, a single string, or
// null/absent for an entity without scopes) satisfy `q`. A leaf is satisfied when any one scope
// matches its pattern.
bool evaluate(const ScopeQuery& q, const Json& scopeArray);

// True when one scope string ("/a/b") matches `p`.
bool scopeMatches(const ScopePattern& p, std::string_view scope);

}  // namespace allmende::query
