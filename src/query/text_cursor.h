// Internal to query/: a position in a query text, with the small lexing steps the parsers share.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace allmende::query {

inline bool isAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool isDigit(char c) { return c >= '0' && c <= '9'; }
// unicodeLetter / unicodeNumber of 4.9, approximated: ASCII letters and digits, and every byte of
// a multi-byte UTF-8 sequence (non-ASCII letters and numbers are not told apart from symbols).
inline bool isNameStart(char c) { return isAsciiAlpha(c) || static_cast<unsigned char>(c) >= 0x80; }
inline bool isNameChar(char c) { return isNameStart(c) || isDigit(c) || c == '_'; }

class TextCursor {
 public:
  explicit TextCursor(std::string_view text) : s_(text) {}

  std::string_view text() const { return s_; }
  size_t pos() const { return i_; }
  void seek(size_t pos) { i_ = pos; }
  bool done() const { return i_ >= s_.size(); }
  char peek() const { return done() ? '\0' : s_[i_]; }

  bool eat(char c) {
    if (done() || s_[i_] != c) return false;
    ++i_;
    return true;
  }
  bool atToken(std::string_view token) const { return s_.substr(i_, token.size()) == token; }
  bool eatToken(std::string_view token) {
    if (!atToken(token)) return false;
    i_ += token.size();
    return true;
  }
  // Consumes and returns the longest run of characters satisfying `pred`.
  template <typename Pred>
  std::string takeWhile(Pred pred) {
    size_t start = i_;
    while (!done() && pred(s_[i_])) ++i_;
    return std::string(s_.substr(start, i_ - start));
  }

  // A JSON string (RFC 8259 section 7) starting at the cursor, unescaped into `out`.
  Status quotedString(std::string& out);

  // BadRequestData naming the position, as every syntax error of a query language is
  // (NGSI-LD 5.7.2: a query that is not valid as per 4.9 / 4.17 / 4.19).
  Status error(const std::string& what) const;

 private:
  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace allmende::query
