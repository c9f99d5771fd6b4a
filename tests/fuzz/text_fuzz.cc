// Small parsers of request text: ISO 8601 date-times (temporal parameters, observedAt), percent
// decoding of paths and query strings. Never crash; a date-time that parses formats and parses
// back to the same instant.
#include "common/time.h"
#include "fuzz_input.h"
#include "http/message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace allmende;
  auto f = fuzz::fields(fuzz::asText(data, size), 2);
  if (auto t = parseDateTime(f[0])) {
    auto again = parseDateTime(formatDateTime(*t));
    FUZZ_CHECK(again && *again == *t);
  }
  parseDate(f[0]);
  parseTime(f[0]);
  std::string decoded;
  if (http::percentDecode(f[1], decoded)) {
    std::string back;
    FUZZ_CHECK(http::percentDecode(http::percentEncode(decoded), back) && back == decoded);
  }
  std::vector<std::pair<std::string, std::string>> params;
  http::parseQueryString(f[1], params);
  return 0;
}
