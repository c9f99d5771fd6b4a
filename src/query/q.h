// The NGSI-LD Query Language (`q`, ETSI GS CIM 009 clause 4.9): parser to an AST, evaluation
// against an entity in the internal form (docs/architecture.md), and the facts the store needs to
// translate the AST to SQL.
//
// AST overview (all types are plain values; QueryExpr is move-only):
//   QueryExpr  kAnd / kOr with `children` (2 or more), or kTerm with `term`.
//   QueryTerm  `path` + `op` + (`values` | range in `values[0..1]` | `pattern`).
//   AttrPath   `names`   expanded attribute name, then expanded sub-attribute names (`a.b.c`);
//              `member`  a core member addressed by the last dotted name (`a.observedAt`), or "";
//              `keys`    the trailing `[x.y]` (or `[x][y]`) path into a compound value, never expanded;
//                        for a LanguageProperty the single key is a language tag or "*";
//              `linked`  `rel{...}` traversal: the path evaluated on the entities `rel` points to,
//                        restricted to `linkedTypes` (expanded) when given.
//   Value      a literal: number, string, boolean, dateTime, date, time or URI.
#pragma once

#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/status.h"
#include "common/time.h"
#include "query/options.h"

namespace allmende::query {

enum class ValueKind { kNumber, kString, kBoolean, kDateTime, kDate, kTime, kUri };

struct Value {
  ValueKind kind = ValueKind::kString;
  double number = 0;    // kNumber
  bool boolean = false;  // kBoolean
  Micros time = 0;       // kDateTime (since epoch), kDate (midnight UTC), kTime (since midnight)
  // kString: the unescaped text; kUri: the URI; date/time kinds: the literal as written.
  std::string text;
  // kString and kUri: `text` expanded as a term, compared against VocabProperty values (4.9:
  // "the target value shall be expanded according to the @context"). Equal to `text` otherwise.
  std::string expanded;
  // kString only: true when written without quotes (e.g. `gender==Male`), a lenient extension.
  bool unquoted = false;
};

enum class Operator {
  kExists,       // `attr`
  kNotExists,    // `!attr`
  kEqual,        // ==
  kUnequal,      // !=
  kGreater,      // >
  kGreaterEq,    // >=
  kLess,         // <
  kLessEq,       // <=
  kPattern,      // ~=
  kNotPattern,   // !~=
};

struct AttrPath {
  std::vector<std::string> names;  // non-empty; names[0] is the entity's attribute
  std::string member;              // "observedAt", "unitCode", "datasetId", ... or empty
  std::vector<std::string> keys;   // compound value path / language tag
  std::vector<std::string> linkedTypes;  // type hint of a linked-entity path (expanded)
  std::unique_ptr<AttrPath> linked;      // set for `names[0]{...}`; then member/keys are empty
};

struct QueryTerm {
  AttrPath path;
  Operator op = Operator::kExists;
  // kEqual/kUnequal: one value or a value list (any of them); other comparisons: exactly one.
  std::vector<Value> values;
  bool range = false;  // kEqual/kUnequal: values[0]..values[1], both ends included
  std::string pattern;                       // kPattern/kNotPattern, POSIX extended syntax
  std::shared_ptr<const std::regex> regex;   // `pattern` compiled once at parse time
};

struct QueryExpr {
  enum class Kind { kTerm, kAnd, kOr };
  Kind kind = Kind::kTerm;
  QueryTerm term;                    // kTerm
  std::vector<QueryExpr> children;   // kAnd, kOr
};

// Looks up an entity (internal form) by id for linked-entity terms such as `sensor{humidity}==40`
// (4.9 example 13). Returns nullptr when the entity is unknown; the pointee must outlive the call.
using EntityLookup = std::function<const Json*(std::string_view id)>;

// Parses a q expression. Attribute, sub-attribute and linked type names go through `expand`;
// keys inside [..] and core member names do not. Fails with BadRequestData on a syntax error
// (NGSI-LD 5.7.2: a query not valid as per 4.9), with TooComplexQuery when `limits` are exceeded.
Result<QueryExpr> parseQ(std::string_view text, const ExpandFn& expand, const QueryLimits& limits = {});

// True when `entity` (internal form) satisfies `q`. Never fails: a term whose target is missing or
// of another data type than its value simply does not match (4.9). Linked-entity terms match
// nothing without `lookup`.
bool evaluate(const QueryExpr& q, const Json& entity, const EntityLookup& lookup = {});

// The expanded names of the entity's attributes `q` refers to (AttrPath::names[0] of every term,
// not the attributes of linked entities), each once, in order of first appearance.
std::vector<std::string> referencedAttributes(const QueryExpr& q);

}  // namespace allmende::query
