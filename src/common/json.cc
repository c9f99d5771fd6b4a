#include "common/json.h"

#include <rapidjson/error/en.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace allmende {

namespace {

// The check a parsed document must pass beyond syntax: nesting within the limit. Iterative over an
// explicit stack so that the check itself cannot overflow.
Status checkDepth(const Json& v, size_t maxDepth) {
  struct Frame {
    const Json* v;
    size_t depth;
  };
  std::vector<Frame> stack{{&v, 1}};
  while (!stack.empty()) {
    Frame f = stack.back();
    stack.pop_back();
    if (!f.v->IsObject() && !f.v->IsArray()) continue;
    if (f.depth > maxDepth) return badRequestData("JSON nesting deeper than " + std::to_string(maxDepth) + " levels");
    if (f.v->IsObject()) {
      for (auto& m : f.v->GetObject()) stack.push_back({&m.value, f.depth + 1});
    } else {
      for (auto& e : f.v->GetArray()) stack.push_back({&e, f.depth + 1});
    }
  }
  return Status::ok();
}

// A SAX handler in front of a document that reads numbers itself: the reader hands them over as
// text (kParseNumbersAsStringsFlag), already checked against the JSON number grammar.
struct ExactNumbers {
  JsonDocument& out;
  bool tooBig = false;

  bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
    const char* end = s + n;
    if (std::find_if(s, end, [](char c) { return c == '.' || c == 'e' || c == 'E'; }) == end) {
      if (*s == '-') {
        int64_t v;
        if (auto r = std::from_chars(s, end, v); r.ec == std::errc{} && r.ptr == end) return out.Int64(v);
      } else {
        uint64_t v;
        if (auto r = std::from_chars(s, end, v); r.ec == std::errc{} && r.ptr == end) return out.Uint64(v);
      }
    }
    double d = 0;
    if (std::from_chars(s, end, d).ec == std::errc::result_out_of_range) {
      // Beyond the range, or below it (where strtod gives the subnormal or zero the text is nearest).
      d = std::strtod(std::string(s, n).c_str(), nullptr);
    }
    if (!std::isfinite(d)) {
      tooBig = true;
      return false;
    }
    return out.Double(d);
  }

  bool Null() { return out.Null(); }
  bool Bool(bool b) { return out.Bool(b); }
  bool Int(int i) { return out.Int(i); }
  bool Uint(unsigned u) { return out.Uint(u); }
  bool Int64(int64_t i) { return out.Int64(i); }
  bool Uint64(uint64_t u) { return out.Uint64(u); }
  bool Double(double d) { return out.Double(d); }
  bool String(const char* s, rapidjson::SizeType n, bool copy) { return out.String(s, n, copy); }
  bool StartObject() { return out.StartObject(); }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) { return out.Key(s, n, copy); }
  bool EndObject(rapidjson::SizeType members) { return out.EndObject(members); }
  bool StartArray() { return out.StartArray(); }
  bool EndArray(rapidjson::SizeType elements) { return out.EndArray(elements); }
};

}  // namespace

Status parseJson(std::string_view text, JsonDocument& doc, const JsonLimits& limits) {
  // RapidJSON's SIMD string scanning works on NUL-terminated input only (its length-based
  // Parse goes character by character), so parse a terminated copy; a NUL inside is an error.
  if (text.find('\0') != std::string_view::npos) return badRequestData("invalid JSON: NUL character");
  // RFC 8259 7: control characters must be escaped. Debian 12's RapidJSON lets 0x1A-0x1F through
  // in its SSE2 string scan, so they are refused here (outside strings they are invalid too).
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x1A && c <= 0x1F) {
      return badRequestData("invalid JSON at offset " + std::to_string(i) + ": unescaped control character");
    }
  }
  std::string terminated(text);
  if (auto parsed = parseJsonText(terminated.c_str(), doc); parsed.IsError()) {
    return badRequestData(std::string("invalid JSON at offset ") + std::to_string(parsed.Offset()) + ": " +
                          rapidjson::GetParseError_En(parsed.Code()));
  }
  return checkDepth(doc, limits.maxDepth);
}

rapidjson::ParseResult parseJsonText(const char* text, JsonDocument& doc) {
  ExactNumbers handler{doc};
  rapidjson::ParseResult result;
  auto generate = [&](JsonDocument&) {
    rapidjson::Reader reader;
    rapidjson::StringStream in(text);
    result = reader.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag>(in, handler);
    return !result.IsError();
  };
  doc.SetNull();
  doc.Populate(generate);
  if (result.Code() == rapidjson::kParseErrorTermination && handler.tooBig) {
    result.Set(rapidjson::kParseErrorNumberTooBig, result.Offset());
  }
  return result;
}

namespace {

// Whether any of the 8 bytes in `w` is '"', '\\' or a control character (SWAR: a borrow can only
// flag bytes above one that is flagged itself, so "none" is exact).
bool anyToEscape(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHighs = 0x8080808080808080ull;
  auto hasZeroByte = [](uint64_t x) { return (x - kOnes) & ~x & kHighs; };
  const uint64_t below20 = (w - kOnes * 0x20) & ~w & kHighs;
  return (below20 | hasZeroByte(w ^ (kOnes * '"')) | hasZeroByte(w ^ (kOnes * '\\'))) != 0;
}

// RFC 8259 7: '"', '\\' and control characters are escaped (as RapidJSON does); everything else,
// UTF-8 included, is copied as it is, in runs.
void appendString(const char* s, size_t n, std::string& out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out += '"';
  size_t run = 0, i = 0;
  while (i < n) {
    if (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, s + i, 8);
      if (!anyToEscape(w)) {
        i += 8;
        continue;
      }
    }
    const auto c = static_cast<unsigned char>(s[i++]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s + run, i - 1 - run);
    run = i;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
  }
  out.append(s + run, n - run);
  out += '"';
}

// Integers as integers; doubles in their shortest form that reads back to the same double, with
// ".0" kept on integral values so that they read back as doubles.
void appendNumber(const Json& v, std::string& out) {
  char buf[32];
  std::to_chars_result r;
  if (v.IsInt64()) {
    r = std::to_chars(buf, buf + sizeof buf, v.GetInt64());
  } else if (v.IsUint64()) {
    r = std::to_chars(buf, buf + sizeof buf, v.GetUint64());
  } else {
    r = std::to_chars(buf, buf + sizeof buf, v.GetDouble());
    if (std::find_if(buf, r.ptr, [](char c) { return c == '.' || c == 'e' || c == 'n' || c == 'i'; }) == r.ptr) {
      *r.ptr++ = '.';
      *r.ptr++ = '0';
    }
  }
  out.append(buf, r.ptr);
}

}  // namespace

// A direct walk of the DOM: RapidJSON's Writer with a StringBuffer cost about four times as much
// (buffer growth, a second copy, per-string set-up).
void appendJson(const Json& v, std::string& out) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      out += "null";
      return;
    case rapidjson::kFalseType:
      out += "false";
      return;
    case rapidjson::kTrueType:
      out += "true";
      return;
    case rapidjson::kStringType:
      appendString(v.GetString(), v.GetStringLength(), out);
      return;
    case rapidjson::kNumberType:
      appendNumber(v, out);
      return;
    case rapidjson::kObjectType: {
      out += '{';
      bool first = true;
      for (const auto& m : v.GetObject()) {
        if (!first) out += ',';
        first = false;
        appendString(m.name.GetString(), m.name.GetStringLength(), out);
        out += ':';
        appendJson(m.value, out);
      }
      out += '}';
      return;
    }
    case rapidjson::kArrayType: {
      out += '[';
      bool first = true;
      for (const auto& e : v.GetArray()) {
        if (!first) out += ',';
        first = false;
        appendJson(e, out);
      }
      out += ']';
      return;
    }
  }
}

std::string toJsonString(const Json& v) {
  std::string s;
  s.reserve(1024);
  appendJson(v, s);
  return s;
}

const Json* findMember(const Json& obj, std::string_view name) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(Json(rapidjson::StringRef(name.data(), name.size())));
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

Json* findMember(Json& obj, std::string_view name) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(Json(rapidjson::StringRef(name.data(), name.size())));
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

const char* jsonTypeName(const Json& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return "boolean";
    case rapidjson::kObjectType:
      return "object";
    case rapidjson::kArrayType:
      return "array";
    case rapidjson::kStringType:
      return "string";
    case rapidjson::kNumberType:
      return "number";
  }
  return "unknown";
}

}  // namespace allmende
