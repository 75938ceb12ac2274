#include "common/error.h"

namespace nanokube {

int httpStatus(Code code) {
  switch (code) {
    case Code::kNotFound: return 404;
    case Code::kAlreadyExists: return 409;
    case Code::kConflict: return 409;
    case Code::kInvalid: return 422;
    case Code::kBadRequest: return 400;
    case Code::kGone: return 410;
    case Code::kUnauthorized: return 401;
    case Code::kForbidden: return 403;
    case Code::kMethodNotAllowed: return 405;
    case Code::kNotAcceptable: return 406;
    case Code::kUnsupportedMediaType: return 415;
    case Code::kRequestEntityTooLarge: return 413;
    case Code::kTooManyRequests: return 429;
    case Code::kInternal: return 500;
    case Code::kUnavailable: return 503;
    case Code::kTimeout: return 504;
  }
  return 500;
}

std::string_view statusReason(Code code) {
  // Reasons from k8s.io/apimachinery/pkg/apis/meta/v1/types.go (StatusReason*).
  switch (code) {
    case Code::kNotFound: return "NotFound";
    case Code::kAlreadyExists: return "AlreadyExists";
    case Code::kConflict: return "Conflict";
    case Code::kInvalid: return "Invalid";
    case Code::kBadRequest: return "BadRequest";
    case Code::kGone: return "Expired";
    case Code::kUnauthorized: return "Unauthorized";
    case Code::kForbidden: return "Forbidden";
    case Code::kMethodNotAllowed: return "MethodNotAllowed";
    case Code::kNotAcceptable: return "NotAcceptable";
    case Code::kUnsupportedMediaType: return "UnsupportedMediaType";
    case Code::kRequestEntityTooLarge: return "RequestEntityTooLarge";
    case Code::kTooManyRequests: return "TooManyRequests";
    case Code::kInternal: return "InternalError";
    case Code::kUnavailable: return "ServiceUnavailable";
    case Code::kTimeout: return "Timeout";
  }
  return "InternalError";
}

Json toStatus(const Error& error) {
  Json status = {{"kind", "Status"},
                 {"apiVersion", "v1"},
                 {"metadata", Json::object()},
                 {"status", "Failure"},
                 {"message", error.message},
                 {"reason", statusReason(error.code)},
                 {"code", httpStatus(error.code)}};
  if (!error.details.is_null()) status["details"] = error.details;
  return status;
}

}  // namespace nanokube
