// Internal to query/: the boolean grammar shared by the Entity Type Selection Language (4.17) and
// the Scope Query Language (4.19): elements joined by ";" (and) and "|" or "," (or), AND binding
// tighter than OR as in 4.9, parentheses for grouping.
//
// The spec only allows ";" inside parentheses ("For logical and grouping parenthesis are needed");
// ";" outside them and nested parentheses are accepted here with the 4.9 precedence, a superset.
#pragma once

#include <string>
#include <utility>

#include "query/options.h"
#include "query/text_cursor.h"

namespace allmende::query::internal {

// Node has `Kind kind` with kLeaf/kAnd/kOr and `std::vector<Node> children`. ParseLeaf is
// Status(TextCursor&, Node&) and fills a leaf node.
template <typename Node, typename ParseLeaf>
class SelectionParser {
 public:
  SelectionParser(std::string_view text, const QueryLimits& limits, ParseLeaf leaf, const char* what)
      : c_(text), limits_(limits), leaf_(std::move(leaf)), what_(what) {}

  Result<Node> parse() {
    if (c_.text().size() > limits_.maxLength) {
      return Status(ErrorType::kTooComplexQuery,
                    std::string(what_) + " is longer than " + std::to_string(limits_.maxLength) + " characters");
    }
    if (c_.text().empty()) return c_.error(std::string(what_) + " is empty");
    auto n = parseOr(0);
    if (!n.isOk()) return n;
    if (!c_.done()) return c_.error("unexpected '" + std::string(1, c_.peek()) + "'");
    return n;
  }

 private:
  Result<Node> parseOr(size_t depth) {
    return parseList(depth, Node::Kind::kOr, [](TextCursor& c) { return c.eat('|') || c.eat(','); },
                     [this](size_t d) { return parseAnd(d); });
  }
  Result<Node> parseAnd(size_t depth) {
    return parseList(depth, Node::Kind::kAnd, [](TextCursor& c) { return c.eat(';'); },
                     [this](size_t d) { return parsePrimary(d); });
  }

  template <typename EatOp, typename Next>
  Result<Node> parseList(size_t depth, typename Node::Kind kind, EatOp eatOp, Next next) {
    auto first = next(depth);
    if (!first.isOk()) return first;
    if (!eatOp(c_)) return first;
    Node list;
    list.kind = kind;
    list.children.push_back(std::move(first).value());
    do {
      auto more = next(depth);
      if (!more.isOk()) return more;
      list.children.push_back(std::move(more).value());
    } while (eatOp(c_));
    return list;
  }

  Result<Node> parsePrimary(size_t depth) {
    if (c_.eat('(')) {
      if (depth + 1 > limits_.maxDepth) {
        return Status(ErrorType::kTooComplexQuery,
                      std::string(what_) + " nests deeper than " + std::to_string(limits_.maxDepth));
      }
      auto inner = parseOr(depth + 1);
      if (!inner.isOk()) return inner;
      if (!c_.eat(')')) return c_.error("expected ')'");
      return inner;
    }
    if (++terms_ > limits_.maxTerms) {
      return Status(ErrorType::kTooComplexQuery,
                    std::string(what_) + " has more than " + std::to_string(limits_.maxTerms) + " elements");
    }
    Node n;
    n.kind = Node::Kind::kLeaf;
    ALLMENDE_RETURN_IF_ERROR(leaf_(c_, n));
    return n;
  }

  TextCursor c_;
  const QueryLimits& limits_;
  ParseLeaf leaf_;
  const char* what_;
  size_t terms_ = 0;
};

}  // namespace allmende::query::internal
