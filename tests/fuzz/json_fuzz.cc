// JSON text from outside (every request body): parsing never crashes, and what parses survives a
// serialise/parse round trip unchanged (numbers up to RapidJSON's default reader, which may be
// a unit in the last place off on long mantissas).
#include <cmath>

#include "common/json.h"
#include "fuzz_input.h"

namespace {

bool same(const allmende::Json& a, const allmende::Json& b) {
  if (a.IsNumber() && b.IsNumber()) {
    if (!a.IsDouble() && !b.IsDouble()) return a == b;
    double x = a.GetDouble(), y = b.GetDouble();
    return x == y || std::fabs(x - y) <= 4 * std::fabs(std::nextafter(x, y) - x);
  }
  if (a.GetType() != b.GetType()) return false;
  if (a.IsObject()) {
    if (a.MemberCount() != b.MemberCount()) return false;
    for (auto m = a.MemberBegin(), n = b.MemberBegin(); m != a.MemberEnd(); ++m, ++n) {
      if (m->name != n->name || !same(m->value, n->value)) return false;
    }
    return true;
  }
  if (a.IsArray()) {
    if (a.Size() != b.Size()) return false;
    for (rapidjson::SizeType i = 0; i < a.Size(); ++i) {
      if (!same(a[i], b[i])) return false;
    }
    return true;
  }
  return a == b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace allmende;
  JsonDocument doc;
  if (!parseJson(fuzz::asText(data, size), doc, JsonLimits{32}).isOk()) return 0;
  std::string text = toJsonString(doc);
  JsonDocument again;
  FUZZ_CHECK(parseJson(text, again, JsonLimits{32}).isOk());
  FUZZ_CHECK(same(again, doc));
  return 0;
}
