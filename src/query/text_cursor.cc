#include "query/text_cursor.h"

#include <cstdint>

namespace allmende::query {
namespace {

bool hex4(std::string_view s, size_t at, uint32_t& out) {
  if (at + 4 > s.size()) return false;
  out = 0;
  for (size_t k = at; k < at + 4; ++k) {
    char c = s[k];
    uint32_t d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return false;
    out = out * 16 + d;
  }
  return true;
}

void appendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

Status TextCursor::quotedString(std::string& out) {
  out.clear();
  if (!eat('"')) return error("expected '\"'");
  while (!done()) {
    char c = s_[i_++];
    if (c == '"') return Status::ok();
    if (static_cast<unsigned char>(c) < 0x20) return error("control character in string");
    if (c != '\\') {
      out += c;
      continue;
    }
    if (done()) break;
    char e = s_[i_++];
    switch (e) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        uint32_t cp;
        if (!hex4(s_, i_, cp)) return error("invalid \\u escape");
        i_ += 4;
        if (cp >= 0xD800 && cp < 0xDC00) {  // high surrogate: a low one must follow
          uint32_t lo;
          if (!atToken("\\u") || !hex4(s_, i_ + 2, lo) || lo < 0xDC00 || lo > 0xDFFF) {
            return error("unpaired surrogate in \\u escape");
          }
          i_ += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return error("unpaired surrogate in \\u escape");
        }
        appendUtf8(cp, out);
        break;
      }
      default:
        return error(std::string("invalid escape \\") + e);
    }
  }
  return error("unterminated string");
}

Status TextCursor::error(const std::string& what) const {
  return badRequestData("invalid query at position " + std::to_string(i_) + ": " + what);
}

}  // namespace allmende::query
