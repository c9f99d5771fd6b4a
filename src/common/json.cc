#include "common/json.h"

#include <rapidjson/error/en.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace allmende {

namespace {
size_t depthOf(const Json& v, size_t limit) {
  // Iterative over an explicit stack so that the check itself cannot overflow.
  struct Frame {
    const Json* v;
    size_t depth;
  };
  std::vector<Frame> stack{{&v, 1}};
  size_t max = 0;
  while (!stack.empty()) {
    Frame f = stack.back();
    stack.pop_back();
    if (!f.v->IsObject() && !f.v->IsArray()) continue;
    max = std::max(max, f.depth);
    if (max > limit) return max;
    if (f.v->IsObject()) {
      for (auto& m : f.v->GetObject()) stack.push_back({&m.value, f.depth + 1});
    } else {
      for (auto& e : f.v->GetArray()) stack.push_back({&e, f.depth + 1});
    }
  }
  return max;
}
}  // namespace

Status parseJson(std::string_view text, JsonDocument& doc, const JsonLimits& limits) {
  // RapidJSON's SIMD string scanning works on NUL-terminated input only (its length-based
  // Parse goes character by character), so parse a terminated copy; a NUL inside is an error.
  if (std::memchr(text.data(), '\0', text.size())) return badRequestData("invalid JSON: NUL character");
  std::string terminated(text);
  doc.Parse<rapidjson::kParseIterativeFlag>(terminated.c_str());
  if (doc.HasParseError()) {
    return badRequestData(std::string("invalid JSON at offset ") + std::to_string(doc.GetErrorOffset()) +
                          ": " + rapidjson::GetParseError_En(doc.GetParseError()));
  }
  if (depthOf(doc, limits.maxDepth) > limits.maxDepth) {
    return badRequestData("JSON nesting deeper than " + std::to_string(limits.maxDepth) + " levels");
  }
  return Status::ok();
}

void appendJson(const Json& v, std::string& out) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  out.append(buf.GetString(), buf.GetSize());
}

std::string toJsonString(const Json& v) {
  std::string s;
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
    case rapidjson::kNullType: return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType: return "boolean";
    case rapidjson::kObjectType: return "object";
    case rapidjson::kArrayType: return "array";
    case rapidjson::kStringType: return "string";
    case rapidjson::kNumberType: return "number";
  }
  return "unknown";
}

}  // namespace allmende
