// Status and Result<T>: the one error type of Allmende.
//
// Expected failures (bad payload, not found, store unavailable) travel as values carrying the
// NGSI-LD ProblemDetails type (ETSI GS CIM 009 clause 5.5.2), a title and a detail. The API layer
// maps them to HTTP in exactly one place (api/problem.cc).
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace allmende {

// NGSI-LD 5.5.2 error types, plus HTTP-level conditions the spec leaves to HTTP.
enum class ErrorType {
  kInvalidRequest,
  kBadRequestData,
  kAlreadyExists,
  kOperationNotSupported,
  kResourceNotFound,
  kInternalError,
  kTooComplexQuery,
  kTooManyResults,
  kLdContextNotAvailable,
  kNoMultiTenantSupport,
  kNonexistentTenant,
  kNotAcceptable,         // HTTP 406
  kUnsupportedMediaType,  // HTTP 415
  kPayloadTooLarge,       // HTTP 413
  kHeadersTooLarge,       // HTTP 431
  kMethodNotAllowed,      // HTTP 405
  kConflict,              // HTTP 409 (e.g. concurrent modification)
  kUnauthorized,          // HTTP 401
  kForbidden,             // HTTP 403
  kTooManyRequests,       // HTTP 429
  kServiceUnavailable,    // HTTP 503 (store unavailable, disk full, shutting down)
};

class Status {
 public:
  Status() = default;  // OK
  Status(ErrorType type, std::string detail, std::string title = {})
      : error_(Error{type, std::move(title), std::move(detail)}) {}

  static Status ok() { return Status(); }

  bool isOk() const { return !error_.has_value(); }
  explicit operator bool() const { return isOk(); }

  // Precondition for the accessors below: !isOk().
  ErrorType type() const { return error_->type; }
  const std::string& detail() const { return error_->detail; }
  // The title given at construction, or the default title of the type.
  std::string title() const;

  std::string toString() const;

 private:
  struct Error {
    ErrorType type;
    std::string title;
    std::string detail;
  };
  std::optional<Error> error_;
};

// The ProblemDetails "type" URI of an error type, e.g.
// https://uri.etsi.org/ngsi-ld/errors/BadRequestData.
std::string problemTypeUri(ErrorType type);
// The short name of an error type, e.g. "BadRequestData".
const char* errorName(ErrorType type);
// The HTTP status NGSI-LD assigns to an error type (NGSI-LD 5.5.2, 6.3.2).
int httpStatusOf(ErrorType type);

// Shorthands for the common error types.
inline Status invalidRequest(std::string detail) { return {ErrorType::kInvalidRequest, std::move(detail)}; }
inline Status badRequestData(std::string detail) { return {ErrorType::kBadRequestData, std::move(detail)}; }
inline Status notFound(std::string detail) { return {ErrorType::kResourceNotFound, std::move(detail)}; }
inline Status alreadyExists(std::string detail) { return {ErrorType::kAlreadyExists, std::move(detail)}; }
inline Status internalError(std::string detail) { return {ErrorType::kInternalError, std::move(detail)}; }

// Result<T>: either a T or a failed Status. A Result is never constructed from an OK status.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}                                   // NOLINT
  Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).isOk()); }  // NOLINT

  bool isOk() const { return v_.index() == 0; }
  explicit operator bool() const { return isOk(); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // Precondition: !isOk().
  const Status& status() const& { return std::get<Status>(v_); }
  Status&& status() && { return std::get<Status>(std::move(v_)); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace allmende

// Propagates a failed Status from an expression returning Status.
#define ALLMENDE_RETURN_IF_ERROR(expr)        \
  do {                                        \
    ::allmende::Status _st = (expr);          \
    if (!_st.isOk()) return _st;              \
  } while (0)
