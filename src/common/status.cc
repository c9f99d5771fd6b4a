#include "common/status.h"

namespace allmende {

namespace {
struct ErrorInfo {
  const char* name;
  const char* title;
  int http;
};

ErrorInfo info(ErrorType t) {
  switch (t) {
    case ErrorType::kInvalidRequest: return {"InvalidRequest", "Invalid request", 400};
    case ErrorType::kBadRequestData: return {"BadRequestData", "Bad request data", 400};
    case ErrorType::kAlreadyExists: return {"AlreadyExists", "Already exists", 409};
    case ErrorType::kOperationNotSupported: return {"OperationNotSupported", "Operation not supported", 422};
    case ErrorType::kResourceNotFound: return {"ResourceNotFound", "Resource not found", 404};
    case ErrorType::kInternalError: return {"InternalError", "Internal error", 500};
    case ErrorType::kTooComplexQuery: return {"TooComplexQuery", "Too complex query", 403};
    case ErrorType::kTooManyResults: return {"TooManyResults", "Too many results", 403};
    case ErrorType::kLdContextNotAvailable: return {"LdContextNotAvailable", "JSON-LD context not available", 503};
    case ErrorType::kNoMultiTenantSupport: return {"NoMultiTenantSupport", "No multi-tenant support", 501};
    case ErrorType::kNonexistentTenant: return {"NonexistentTenant", "Nonexistent tenant", 404};
    case ErrorType::kNotAcceptable: return {"NotAcceptable", "Not acceptable", 406};
    case ErrorType::kUnsupportedMediaType: return {"UnsupportedMediaType", "Unsupported media type", 415};
    case ErrorType::kPayloadTooLarge: return {"PayloadTooLarge", "Payload too large", 413};
    case ErrorType::kHeadersTooLarge: return {"RequestHeaderFieldsTooLarge", "Request header fields too large", 431};
    case ErrorType::kMethodNotAllowed: return {"MethodNotAllowed", "Method not allowed", 405};
    case ErrorType::kConflict: return {"Conflict", "Conflict", 409};
    case ErrorType::kUnauthorized: return {"Unauthorized", "Unauthorized", 401};
    case ErrorType::kForbidden: return {"Forbidden", "Forbidden", 403};
    case ErrorType::kTooManyRequests: return {"TooManyRequests", "Too many requests", 429};
    case ErrorType::kServiceUnavailable: return {"ServiceUnavailable", "Service unavailable", 503};
  }
  return {"InternalError", "Internal error", 500};
}
}  // namespace

std::string Status::title() const {
  if (!error_->title.empty()) return error_->title;
  return info(error_->type).title;
}

std::string Status::toString() const {
  if (isOk()) return "OK";
  return std::string(info(error_->type).name) + ": " + error_->detail;
}

std::string problemTypeUri(ErrorType type) {
  // NGSI-LD 5.5.2 Table 5.5.2-1 defines these URIs; the HTTP-level ones share the prefix.
  return std::string("https://uri.etsi.org/ngsi-ld/errors/") + info(type).name;
}

const char* errorName(ErrorType type) { return info(type).name; }

int httpStatusOf(ErrorType type) { return info(type).http; }

}  // namespace allmende
