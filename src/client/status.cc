#include "client/status.h"

#include <array>
#include <utility>

#include <fmt/format.h>

namespace nanokube::client {

std::optional<Code> codeFromReason(std::string_view reason) {
  // Reasons from k8s.io/apimachinery/pkg/apis/meta/v1/types.go (StatusReason*).
  static constexpr std::array<std::pair<std::string_view, Code>, 19> kReasons = {{
      {"NotFound", Code::kNotFound},
      {"AlreadyExists", Code::kAlreadyExists},
      {"Conflict", Code::kConflict},
      {"Invalid", Code::kInvalid},
      {"BadRequest", Code::kBadRequest},
      {"Expired", Code::kGone},
      {"Gone", Code::kGone},
      {"Unauthorized", Code::kUnauthorized},
      {"Forbidden", Code::kForbidden},
      {"MethodNotAllowed", Code::kMethodNotAllowed},
      {"NotAcceptable", Code::kNotAcceptable},
      {"UnsupportedMediaType", Code::kUnsupportedMediaType},
      {"RequestEntityTooLarge", Code::kRequestEntityTooLarge},
      {"TooManyRequests", Code::kTooManyRequests},
      {"InternalError", Code::kInternal},
      {"ServiceUnavailable", Code::kUnavailable},
      {"Timeout", Code::kTimeout},
      {"ServerTimeout", Code::kTimeout},
      {"UnexpectedServerError", Code::kInternal},
  }};
  for (const auto& [name, code] : kReasons) {
    if (name == reason) return code;
  }
  return std::nullopt;
}

Code codeFromHttp(int status) {
  switch (status) {
    case 400: return Code::kBadRequest;
    case 401: return Code::kUnauthorized;
    case 403: return Code::kForbidden;
    case 404: return Code::kNotFound;
    case 405: return Code::kMethodNotAllowed;
    case 406: return Code::kNotAcceptable;
    case 409: return Code::kConflict;
    case 410: return Code::kGone;
    case 413: return Code::kRequestEntityTooLarge;
    case 415: return Code::kUnsupportedMediaType;
    case 422: return Code::kInvalid;
    case 429: return Code::kTooManyRequests;
    case 503: return Code::kUnavailable;
    case 504: return Code::kTimeout;
    default: break;
  }
  return status >= 400 && status < 500 ? Code::kBadRequest : Code::kInternal;
}

Error errorFromStatus(const Json& status, int httpStatus) {
  Error error;
  std::optional<Code> code;
  if (status.is_object()) {
    if (auto it = status.find("reason"); it != status.end() && it->is_string()) {
      code = codeFromReason(it->get<std::string>());
    }
    if (!code) {
      if (auto it = status.find("code"); it != status.end() && it->is_number_integer()) {
        code = codeFromHttp(it->get<int>());
      }
    }
    if (auto it = status.find("message"); it != status.end() && it->is_string()) error.message = it->get<std::string>();
    if (auto it = status.find("details"); it != status.end() && !it->is_null()) error.details = *it;
  }
  error.code = code ? *code : codeFromHttp(httpStatus > 0 ? httpStatus : 500);
  if (error.message.empty()) {
    error.message = fmt::format("the server reported {} without a message", statusReason(error.code));
  }
  return error;
}

Error errorFromResponse(int httpStatus, std::string_view body) {
  Json parsed = Json::parse(body, nullptr, false);
  if (parsed.is_object() && parsed.value("kind", "") == "Status") return errorFromStatus(parsed, httpStatus);
  constexpr size_t kQuote = 200;
  std::string quoted(body.substr(0, kQuote));
  if (body.size() > kQuote) quoted += "...";
  Error error;
  error.code = codeFromHttp(httpStatus);
  error.message = quoted.empty() ? fmt::format("the server answered HTTP {}", httpStatus)
                                 : fmt::format("the server answered HTTP {}: {}", httpStatus, quoted);
  return error;
}

}  // namespace nanokube::client
