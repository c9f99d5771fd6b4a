// JSON in Allmende: RapidJSON DOM values, with the few helpers every module needs.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>
#include <string_view>

#include "common/status.h"

namespace allmende {

using Json = rapidjson::Value;
using JsonDocument = rapidjson::Document;
using JsonAllocator = rapidjson::Document::AllocatorType;

// A copy of a JSON value in its own small pool, for values kept a while in numbers (a
// JsonDocument's pool reserves 64 KiB at its first allocation). Like every RapidJSON 1.1 copy,
// strings that were set as constant references (static names) stay references.
struct CompactJson {
  explicit CompactJson(const Json& v) : value(v, pool) {}
  CompactJson(const CompactJson&) = delete;
  CompactJson& operator=(const CompactJson&) = delete;
  rapidjson::MemoryPoolAllocator<> pool{1024};
  Json value;
};

// Parses NUL-terminated JSON text into `doc`: every parse of received or stored JSON goes through
// here. Numbers are read by std::from_chars, correctly rounded, so a number written in its shortest
// round-trip form reads back as the same double (RapidJSON's default may be 1 ulp off, and Debian
// 12's RapidJSON full-precision path has undefined behaviour on zeros such as 0e211); integers keep
// RapidJSON's kinds, beyond 64 bits they become doubles. A number beyond the double range is
// kParseErrorNumberTooBig. Iterative, so hostile nesting cannot exhaust the stack.
rapidjson::ParseResult parseJsonText(const char* text, JsonDocument& doc);

// Writing JSON text with RapidJSON: always through these. Debian 12's RapidJSON 1.1 leaves the
// bytes 0x1A-0x1F unescaped in its SSE2 string scan, which only Writer<StringBuffer> uses; a
// buffer with an allocator type of its own takes the plain, correct path.
struct JsonBufferAllocator : rapidjson::CrtAllocator {};
using JsonBuffer = rapidjson::GenericStringBuffer<rapidjson::UTF8<>, JsonBufferAllocator>;
using JsonWriter = rapidjson::Writer<JsonBuffer>;

// Limits applied to every JSON text from outside (documented in docs/configuration.md).
struct JsonLimits {
  size_t maxDepth = 64;  // nesting of objects and arrays
};

// Parses `text` into `doc`. Fails with BadRequestData (clause 5.5.2: "the request includes input
// data which does not meet the requirements") on syntax errors (control characters in strings
// included) or nesting deeper than the limit.
// Uses RapidJSON's iterative parser, so hostile nesting cannot exhaust the stack.
Status parseJson(std::string_view text, JsonDocument& doc, const JsonLimits& limits = {});

// Compact serialisation.
std::string toJsonString(const Json& v);
void appendJson(const Json& v, std::string& out);

// A string value that copies `s` into `a`.
inline Json jsonString(std::string_view s, JsonAllocator& a) {
  return Json(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}
inline std::string_view asView(const Json& v) { return {v.GetString(), v.GetStringLength()}; }

// Member lookup by string_view; nullptr when absent or when `obj` is not an object.
const Json* findMember(const Json& obj, std::string_view name);
Json* findMember(Json& obj, std::string_view name);

// Name of the JSON type for error messages ("object", "array", "string", ...).
const char* jsonTypeName(const Json& v);

}  // namespace allmende
