// The one place where a failed Status becomes an HTTP answer: an NGSI-LD ProblemDetails body
// (NGSI-LD 5.5.2, RFC 7807) with the status code of its error type.
#pragma once

#include "common/status.h"
#include "http/message.h"

namespace allmende::api {

http::Response problemResponse(const Status& status);
// The ProblemDetails object of a status as JSON text (also used inside batch results).
std::string problemJson(const Status& status);

}  // namespace allmende::api

// In a handler returning http::Response: answers with the ProblemDetails of a failed Status.
#define ALLMENDE_RETURN_IF_ERROR_RESPONSE(expr)            \
  do {                                                     \
    ::allmende::Status _st = (expr);                       \
    if (!_st.isOk()) return ::allmende::api::problemResponse(_st); \
  } while (0)
