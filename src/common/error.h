#pragma once
// Errors are values across nanokube: every fallible call returns Result<T>.
// The codes mirror the Kubernetes Status reasons so that the API server maps an
// Error to an HTTP answer in exactly one place (apiserver/status.cc).

#include <expected>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace nanokube {

using Json = nlohmann::json;

enum class Code {
  kNotFound,               // 404 NotFound
  kAlreadyExists,          // 409 AlreadyExists
  kConflict,               // 409 Conflict (stale resourceVersion, compare failed)
  kInvalid,                // 422 Invalid (field validation)
  kBadRequest,             // 400 BadRequest (malformed body, bad selector)
  kGone,                   // 410 Expired (watch/list from a compacted revision)
  kUnauthorized,           // 401 Unauthorized
  kForbidden,              // 403 Forbidden
  kMethodNotAllowed,       // 405 MethodNotAllowed
  kNotAcceptable,          // 406 NotAcceptable
  kUnsupportedMediaType,   // 415 UnsupportedMediaType
  kRequestEntityTooLarge,  // 413 RequestEntityTooLarge
  kTooManyRequests,        // 429 TooManyRequests
  kInternal,               // 500 InternalError
  kUnavailable,            // 503 ServiceUnavailable
  kTimeout,                // 504 Timeout
};

struct Error {
  Code code = Code::kInternal;
  std::string message;
  // Status.details as Kubernetes sends it ({"name","group","kind","causes"}); null when absent.
  Json details = nullptr;
};

template <class T>
using Result = std::expected<T, Error>;

// Builds the unexpected value for `return fail(Code::kNotFound, "...")`.
inline std::unexpected<Error> fail(Code code, std::string message, Json details = nullptr) {
  return std::unexpected(Error{code, std::move(message), std::move(details)});
}

// HTTP status code and Kubernetes Status.reason for an error code.
int httpStatus(Code code);
std::string_view statusReason(Code code);

// The Kubernetes Status object for an error:
// {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",...}.
Json toStatus(const Error& error);

}  // namespace nanokube
