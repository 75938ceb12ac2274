#include "client/status.h"

#include <gtest/gtest.h>

namespace nanokube::client {
namespace {

TEST(StatusToError, EveryCodeRoundTripsThroughTheServersStatus) {
  // What the API server sends for an Error (common/error.h's toStatus) comes
  // back as the same Error.
  for (Code code : {Code::kNotFound, Code::kAlreadyExists, Code::kConflict, Code::kInvalid, Code::kBadRequest,
                    Code::kGone, Code::kUnauthorized, Code::kForbidden, Code::kMethodNotAllowed,
                    Code::kNotAcceptable, Code::kUnsupportedMediaType, Code::kRequestEntityTooLarge,
                    Code::kTooManyRequests, Code::kInternal, Code::kUnavailable, Code::kTimeout}) {
    Error sent{code, "message for " + std::string(statusReason(code)), Json{{"name", "x"}}};
    Error got = errorFromResponse(httpStatus(code), toStatus(sent).dump());
    EXPECT_EQ(got.code, code) << statusReason(code);
    EXPECT_EQ(got.message, sent.message);
    EXPECT_EQ(got.details, sent.details);
  }
}

TEST(StatusToError, ReasonDecidesBetween409s) {
  Json already = {{"kind", "Status"}, {"reason", "AlreadyExists"}, {"code", 409}, {"message", "a"}};
  Json conflict = {{"kind", "Status"}, {"reason", "Conflict"}, {"code", 409}, {"message", "c"}};
  EXPECT_EQ(errorFromResponse(409, already.dump()).code, Code::kAlreadyExists);
  EXPECT_EQ(errorFromResponse(409, conflict.dump()).code, Code::kConflict);
}

TEST(StatusToError, Fallbacks) {
  struct Case {
    int http;
    std::string body;
    Code code;
    std::string message;
  };
  std::vector<Case> cases = {
      // Unknown reason: the Status' code decides.
      {500, R"({"kind":"Status","reason":"SomethingNew","code":404,"message":"m"})", Code::kNotFound, "m"},
      // No reason and no code: the HTTP status decides.
      {422, R"({"kind":"Status","message":"bad"})", Code::kInvalid, "bad"},
      {410, R"({"kind":"Status","reason":"Gone","code":410,"message":"gone"})", Code::kGone, "gone"},
      {504, R"({"kind":"Status","reason":"ServerTimeout","code":500,"message":"slow"})", Code::kTimeout, "slow"},
      // Not a Status: the HTTP status, and the body quoted.
      {502, "<html>Bad Gateway</html>", Code::kInternal, "the server answered HTTP 502: <html>Bad Gateway</html>"},
      {418, "", Code::kBadRequest, "the server answered HTTP 418"},
      {503, R"({"kind":"Pod"})", Code::kUnavailable, R"(the server answered HTTP 503: {"kind":"Pod"})"},
      {401, R"({"kind":"Status","reason":"Unauthorized","code":401})", Code::kUnauthorized,
       "the server reported Unauthorized without a message"},
  };
  for (const auto& tc : cases) {
    Error e = errorFromResponse(tc.http, tc.body);
    EXPECT_EQ(e.code, tc.code) << tc.body;
    EXPECT_EQ(e.message, tc.message) << tc.body;
  }
}

TEST(StatusToError, LongBodiesAreCut) {
  Error e = errorFromResponse(500, std::string(1000, 'x'));
  EXPECT_LT(e.message.size(), 300u);
  EXPECT_TRUE(e.message.ends_with("..."));
}

TEST(StatusToError, WatchErrorEventStatus) {
  Json status = {{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
                 {"message", "too old resource version: 5 (10)"}, {"reason", "Expired"}, {"code", 410}};
  Error e = errorFromStatus(status);
  EXPECT_EQ(e.code, Code::kGone);
  EXPECT_EQ(e.message, "too old resource version: 5 (10)");
}

}  // namespace
}  // namespace nanokube::client
