// Recursive-descent parser of the NGSI-LD Query Language (clause 4.9 ABNF).
#include <charconv>
#include <string>

#include "query/q.h"
#include "query/text_cursor.h"

namespace allmende::query {
namespace {

// Core members of an attribute instance, addressable as the last dotted name (4.9 example 8:
// `temperature.observedAt`). They keep their short names in the internal form.
bool isCoreMember(std::string_view name) {
  return name == "observedAt" || name == "createdAt" || name == "modifiedAt" || name == "deletedAt" ||
         name == "unitCode" || name == "datasetId" || name == "objectType";
}

// Number as in RFC 8259 section 6 (4.9: "Number shall be a number as mandated by JSON").
bool isJsonNumber(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

// `scheme ":" rest` as in RFC 3986 section 3.1, with a non-empty rest.
bool looksLikeUri(std::string_view s) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == s.size()) return false;
  if (!isAsciiAlpha(s[0])) return false;
  for (size_t i = 1; i < colon; ++i) {
    char c = s[i];
    if (!isAsciiAlpha(c) && !isDigit(c) && c != '+' && c != '-' && c != '.') return false;
  }
  return true;
}

class QParser {
 public:
  QParser(std::string_view text, const ExpandFn& expand, const QueryLimits& limits)
      : c_(text), expand_(expand), limits_(limits) {}

  Result<QueryExpr> parse() {
    if (c_.text().size() > limits_.maxLength) {
      return tooComplex("q is longer than " + std::to_string(limits_.maxLength) + " characters");
    }
    if (c_.text().empty()) return c_.error("q is empty");
    auto e = parseOr(0);
    if (!e.isOk()) return e;
    if (!c_.done()) return c_.error("unexpected '" + std::string(1, c_.peek()) + "'");
    return e;
  }

 private:
  // Query = term *(LogicalOp term); AND takes precedence over OR (4.9).
  Result<QueryExpr> parseOr(size_t depth) {
    return parseList(depth, '|', QueryExpr::Kind::kOr,
                     [this](size_t d) { return parseAnd(d); });
  }
  Result<QueryExpr> parseAnd(size_t depth) {
    return parseList(depth, ';', QueryExpr::Kind::kAnd,
                     [this](size_t d) { return parsePrimary(d); });
  }

  template <typename Next>
  Result<QueryExpr> parseList(size_t depth, char op, QueryExpr::Kind kind, Next next) {
    auto first = next(depth);
    if (!first.isOk()) return first;
    if (c_.peek() != op) return first;
    QueryExpr list;
    list.kind = kind;
    list.children.push_back(std::move(first).value());
    while (c_.eat(op)) {
      auto more = next(depth);
      if (!more.isOk()) return more;
      list.children.push_back(std::move(more).value());
    }
    return list;
  }

  // QueryTermAssoc = "(" ... ")"; nested associations are accepted (4.9 example 6).
  Result<QueryExpr> parsePrimary(size_t depth) {
    if (c_.eat('(')) {
      if (depth + 1 > limits_.maxDepth) return tooComplex("q nests deeper than " + std::to_string(limits_.maxDepth));
      auto inner = parseOr(depth + 1);
      if (!inner.isOk()) return inner;
      if (!c_.eat(')')) return c_.error("expected ')'");
      return inner;
    }
    if (++terms_ > limits_.maxTerms) return tooComplex("q has more than " + std::to_string(limits_.maxTerms) + " terms");
    QueryExpr e;
    ALLMENDE_RETURN_IF_ERROR(parseTerm(depth, e.term));
    return e;
  }

  Status parseTerm(size_t depth, QueryTerm& term) {
    bool negated = c_.eat('!');
    ALLMENDE_RETURN_IF_ERROR(parsePath(depth, /*inBraces=*/false, term.path));
    if (negated || atTermEnd()) {
      term.op = negated ? Operator::kNotExists : Operator::kExists;
      return atTermEnd() ? Status::ok() : c_.error("an attribute preceded by '!' takes no operator");
    }
    ALLMENDE_RETURN_IF_ERROR(parseOperator(term.op));
    if (term.op == Operator::kPattern || term.op == Operator::kNotPattern) return parsePattern(term);
    return parseValues(term);
  }

  bool atTermEnd() const { return c_.done() || c_.peek() == ';' || c_.peek() == '|' || c_.peek() == ')'; }

  Status parseOperator(Operator& op) {
    // Longest tokens first: "!~=" before "!=", ">=" before ">".
    static constexpr std::pair<std::string_view, Operator> kOps[] = {
        {"==", Operator::kEqual},       {"!~=", Operator::kNotPattern}, {"!=", Operator::kUnequal},
        {"~=", Operator::kPattern},     {">=", Operator::kGreaterEq},   {">", Operator::kGreater},
        {"<=", Operator::kLessEq},      {"<", Operator::kLess}};
    for (const auto& [token, kind] : kOps) {
      if (c_.eatToken(token)) {
        op = kind;
        return Status::ok();
      }
    }
    return c_.error("expected an operator (==, !=, >, >=, <, <=, ~=, !~=) or the end of the term");
  }

  // Attribute = AttrName "{" LinkedEntityPath "}" / DottedPath *1("[" DottedPath "]").
  Status parsePath(size_t depth, bool inBraces, AttrPath& path) {
    std::string first;
    ALLMENDE_RETURN_IF_ERROR(parseName(!inBraces, first));
    path.names.push_back(expand(first));
    if (c_.eat('{')) return parseLinked(depth, path);
    while (c_.eat('.')) {
      std::string name;
      ALLMENDE_RETURN_IF_ERROR(parseName(!inBraces, name));
      if (isCoreMember(name)) {
        path.member = std::move(name);
        break;
      }
      path.names.push_back(expand(name));
    }
    // 4.9 (v1.8+): one trailing [a.b]; the older form [a][b] is accepted as well.
    while (c_.eat('[')) {
      if (c_.eat('*')) {
        path.keys.push_back("*");  // any language of a LanguageProperty (4.9, color[*]).
      } else {
        do {
          std::string key = c_.takeWhile([](char ch) { return ch != '.' && ch != '[' && ch != ']'; });
          if (key.empty()) return c_.error("empty key in [...]");
          path.keys.push_back(std::move(key));
        } while (c_.eat('.'));
      }
      if (!c_.eat(']')) return c_.error("expected ']'");
    }
    return Status::ok();
  }

  // LinkedEntityPath = *1(EntityType *("," EntityType) ":") (AttrName "{" ... "}" / ValuePath)
  Status parseLinked(size_t depth, AttrPath& path) {
    if (depth + 1 > limits_.maxDepth) return tooComplex("q nests deeper than " + std::to_string(limits_.maxDepth));
    size_t mark = c_.pos();
    std::vector<std::string> types;
    std::string name;
    while (parseName(false, name).isOk()) {
      types.push_back(std::move(name));
      if (!c_.eat(',')) break;
    }
    if (!types.empty() && c_.eat(':')) {
      for (auto& t : types) path.linkedTypes.push_back(expand(t));
    } else {
      c_.seek(mark);
    }
    path.linked = std::make_unique<AttrPath>();
    ALLMENDE_RETURN_IF_ERROR(parsePath(depth + 1, /*inBraces=*/true, *path.linked));
    return c_.eat('}') ? Status::ok() : c_.error("expected '}'");
  }

  // AttrName = unicodeLetter *(unicodeLetter / unicodeNumber / "_"); outside braces also the
  // prefixed form prefix:name of clause 4.6.2. Non-ASCII bytes are taken as letters.
  Status parseName(bool allowPrefix, std::string& out) {
    if (c_.done() || !isNameStart(c_.peek())) return c_.error("expected an attribute name");
    out = c_.takeWhile(isNameChar);
    if (allowPrefix && c_.peek() == ':' && c_.pos() + 1 < c_.text().size() &&
        isNameStart(c_.text()[c_.pos() + 1])) {
      c_.eat(':');
      out += ':';
      out += c_.takeWhile(isNameChar);
    }
    return Status::ok();
  }

  Status parsePattern(QueryTerm& term) {
    if (c_.peek() == '"') {
      ALLMENDE_RETURN_IF_ERROR(c_.quotedString(term.pattern));
    } else {
      term.pattern = c_.takeWhile([](char ch) { return ch != ';' && ch != '|' && ch != ')'; });
    }
    if (term.pattern.empty()) return c_.error("empty pattern");
    if (term.pattern.size() > limits_.maxPatternLength) {
      return tooComplex("pattern longer than " + std::to_string(limits_.maxPatternLength) + " characters");
    }
    try {
      // RegExp per IEEE 1003.2 (4.9): POSIX extended syntax. libstdc++'s default executor
      // backtracks (exponential time, recursion per subject character on "(a|a)*b"); its
      // __polynomial flag selects the breadth-first executor (no back-references, O(n*m) per start).
      auto flags = std::regex::extended;
#ifdef __GLIBCXX__
      flags |= std::regex_constants::__polynomial;
#endif
      term.regex = std::make_shared<const std::regex>(term.pattern, flags);
    } catch (const std::regex_error& e) {
      return badRequestData("invalid pattern '" + term.pattern + "' in q: " + e.what());
    }
    return Status::ok();
  }

  // Value / Range / ValueList / URI, then checks which of them the operator admits.
  Status parseValues(QueryTerm& term) {
    Value v;
    ALLMENDE_RETURN_IF_ERROR(parseValue(v));
    term.values.push_back(std::move(v));
    if (c_.eatToken("..")) {
      ALLMENDE_RETURN_IF_ERROR(parseValue(v));
      term.values.push_back(std::move(v));
      term.range = true;
    } else {
      while (c_.eat(',')) {
        ALLMENDE_RETURN_IF_ERROR(parseValue(v));
        term.values.push_back(std::move(v));
      }
    }
    if (!atTermEnd()) return c_.error("unexpected character after value");
    bool equality = term.op == Operator::kEqual || term.op == Operator::kUnequal;
    if (!equality && term.values.size() > 1) return c_.error("ranges and value lists need == or !=");
    for (const Value& value : term.values) {
      // Range = ComparableValue ".." ComparableValue; Operator takes a ComparableValue only.
      if ((term.range || !equality) && value.kind == ValueKind::kBoolean) {
        return c_.error("a boolean is not comparable");
      }
    }
    return Status::ok();
  }

  Status parseValue(Value& v) {
    v = Value{};
    if (c_.peek() == '"') {
      ALLMENDE_RETURN_IF_ERROR(c_.quotedString(v.text));
      v.kind = ValueKind::kString;
      v.expanded = expand(v.text);
      return Status::ok();
    }
    size_t start = c_.pos();
    std::string raw = c_.takeWhile([this](char ch) {
      return ch != ',' && ch != ';' && ch != '|' && ch != ')' && !c_.atToken("..");
    });
    if (raw.empty()) return c_.error("expected a value");
    if (raw == "true" || raw == "false") {
      v.kind = ValueKind::kBoolean;
      v.boolean = raw == "true";
    } else if (isJsonNumber(raw)) {
      v.kind = ValueKind::kNumber;
      std::from_chars(raw.data(), raw.data() + raw.size(), v.number);
    } else if (auto t = parseDateTime(raw); t && raw.find('-') == 4) {
      v.kind = ValueKind::kDateTime;
      v.time = *t;
    } else if (auto d = parseDate(raw)) {
      v.kind = ValueKind::kDate;
      v.time = *d;
    } else if (auto tod = parseTime(raw)) {
      v.kind = ValueKind::kTime;
      v.time = *tod;
    } else if (looksLikeUri(raw)) {
      v.kind = ValueKind::kUri;
      v.expanded = expand(raw);
    } else if (isNameStart(raw[0]) && std::all_of(raw.begin(), raw.end(), isNameChar)) {
      v.kind = ValueKind::kString;  // bare term, e.g. a vocab value (4.9 example 12)
      v.unquoted = true;
      v.expanded = expand(raw);
    } else {
      c_.seek(start);
      return c_.error("invalid value '" + raw + "' (strings must be quoted)");
    }
    v.text = std::move(raw);
    if (v.expanded.empty()) v.expanded = v.text;
    return Status::ok();
  }

  std::string expand(std::string_view term) const { return expand_ ? expand_(term) : std::string(term); }
  static Status tooComplex(std::string detail) { return {ErrorType::kTooComplexQuery, std::move(detail)}; }

  TextCursor c_;
  const ExpandFn& expand_;
  const QueryLimits& limits_;
  size_t terms_ = 0;
};

void collectAttributes(const QueryExpr& q, std::vector<std::string>& out) {
  if (q.kind != QueryExpr::Kind::kTerm) {
    for (const auto& child : q.children) collectAttributes(child, out);
    return;
  }
  const std::string& name = q.term.path.names.front();
  if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
}

}  // namespace

Result<QueryExpr> parseQ(std::string_view text, const ExpandFn& expand, const QueryLimits& limits) {
  return QParser(text, expand, limits).parse();
}

std::vector<std::string> referencedAttributes(const QueryExpr& q) {
  std::vector<std::string> out;
  collectAttributes(q, out);
  return out;
}

}  // namespace allmende::query
