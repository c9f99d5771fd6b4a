#include "query/type_selector.h"

#include <algorithm>

#include "query/selection_grammar.h"

namespace allmende::query {
namespace {

// 4.17: "EntityType is either a valid name as specified in clause 4.6.2 or a URI". A URI may not
// contain the grammar's own , ; | ( ) (the spec's NOTE recommends short names for that reason).
bool isTypeChar(char c) {
  return c != ',' && c != ';' && c != '|' && c != '(' && c != ')' && c != '"' && c != '<' && c != '>' &&
         c != '\\' && c != '{' && c != '}' && static_cast<unsigned char>(c) > 0x20 && c != 0x7F;
}

bool isValidType(std::string_view t) {
  if (t.find(':') != std::string_view::npos) return isNameStart(t[0]);  // IRI or compact IRI
  return isNameStart(t[0]) && std::all_of(t.begin(), t.end(), isNameChar);
}

void collect(const TypeSelector& s, std::vector<std::string>& out) {
  if (s.kind == TypeSelector::Kind::kLeaf) out.push_back(s.type);
  for (const auto& c : s.children) collect(c, out);
}

}  // namespace

Result<TypeSelector> parseTypeSelector(std::string_view text, const ExpandFn& expand, const QueryLimits& limits) {
  auto leaf = [&expand](TextCursor& c, TypeSelector& n) -> Status {
    size_t start = c.pos();
    std::string name = c.takeWhile(isTypeChar);
    if (name.empty() || !isValidType(name)) {
      c.seek(start);
      return c.error("expected an entity type");
    }
    n.type = expand ? expand(name) : name;
    return Status::ok();
  };
  return internal::SelectionParser<TypeSelector, decltype(leaf)>(text, limits, leaf, "type selection").parse();
}

bool evaluate(const TypeSelector& sel, const Json& typesArray) {
  switch (sel.kind) {
    case TypeSelector::Kind::kLeaf:
      if (typesArray.IsString()) return asView(typesArray) == sel.type;
      if (!typesArray.IsArray()) return false;
      for (const Json& t : typesArray.GetArray()) {
        if (t.IsString() && asView(t) == sel.type) return true;
      }
      return false;
    case TypeSelector::Kind::kAnd:
      return std::all_of(sel.children.begin(), sel.children.end(),
                         [&](const TypeSelector& c) { return evaluate(c, typesArray); });
    case TypeSelector::Kind::kOr:
      return std::any_of(sel.children.begin(), sel.children.end(),
                         [&](const TypeSelector& c) { return evaluate(c, typesArray); });
  }
  return false;
}

std::vector<std::string> mentionedTypes(const TypeSelector& sel) {
  std::vector<std::string> out;
  collect(sel, out);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace allmende::query
