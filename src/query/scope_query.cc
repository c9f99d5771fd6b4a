#include "query/scope_query.h"

#include <algorithm>

#include "query/selection_grammar.h"

namespace allmende::query {
namespace {

// ScopeQ = "/" ScopeQLevel *("/" ScopeQLevel) [ "/#" ], or "/#" alone (4.19);
// ScopeQLevel = unicodeLetter *(unicodeLetter / unicodeNumber / "_") / "+".
Status parseScopeLeaf(TextCursor& c, ScopeQuery& n) {
  if (c.peek() != '/') return c.error("a scope starts with '/'");
  while (c.eat('/')) {
    if (c.eat('#')) {
      n.pattern.subtree = true;
      return Status::ok();
    }
    if (c.eat('+')) {
      n.pattern.levels.push_back("+");
      continue;
    }
    if (!isNameStart(c.peek())) return c.error("expected a scope level");
    n.pattern.levels.push_back(c.takeWhile(isNameChar));
  }
  return Status::ok();
}

// Splits "/a/b" into levels without allocating; false when `scope` is not of that shape.
bool nextLevel(std::string_view& rest, std::string_view& level) {
  if (rest.empty() || rest[0] != '/') return false;
  rest.remove_prefix(1);
  size_t slash = rest.find('/');
  level = rest.substr(0, slash);
  rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  return true;
}

}  // namespace

Result<ScopeQuery> parseScopeQ(std::string_view text, const QueryLimits& limits) {
  return internal::SelectionParser<ScopeQuery, decltype(&parseScopeLeaf)>(text, limits, &parseScopeLeaf, "scopeQ")
      .parse();
}

bool scopeMatches(const ScopePattern& p, std::string_view scope) {
  std::string_view rest = scope;
  std::string_view level;
  for (const std::string& want : p.levels) {
    if (!nextLevel(rest, level) || level.empty()) return false;
    if (want != "+" && level != want) return false;
  }
  if (p.subtree) {
    // "/#" alone matches any non-empty scope; "/a/#" matches /a and everything below it.
    return p.levels.empty() ? scope.size() > 1 && scope[0] == '/' : true;
  }
  return rest.empty();
}

bool evaluate(const ScopeQuery& q, const Json& scopeArray) {
  switch (q.kind) {
    case ScopeQuery::Kind::kLeaf:
      if (scopeArray.IsString()) return scopeMatches(q.pattern, asView(scopeArray));
      if (!scopeArray.IsArray()) return false;
      for (const Json& s : scopeArray.GetArray()) {
        if (s.IsString() && scopeMatches(q.pattern, asView(s))) return true;
      }
      return false;
    case ScopeQuery::Kind::kAnd:
      return std::all_of(q.children.begin(), q.children.end(),
                         [&](const ScopeQuery& c) { return evaluate(c, scopeArray); });
    case ScopeQuery::Kind::kOr:
      return std::any_of(q.children.begin(), q.children.end(),
                         [&](const ScopeQuery& c) { return evaluate(c, scopeArray); });
  }
  return false;
}

}  // namespace allmende::query
