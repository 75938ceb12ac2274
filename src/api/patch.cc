// JSON merge patch (RFC 7386) and JSON patch (RFC 6902). Strategic merge patch is in
// patch_strategic.cc.

#include "api/patch.h"

namespace nanokube::api {

namespace {

// RFC 7386 MergePatch: a non-object patch replaces the target, null deletes a key,
// and objects merge recursively (a non-object target counts as {}).
Json mergePatch(const Json& target, const Json& patch) {
  if (!patch.is_object()) return patch;
  Json result = target.is_object() ? target : Json::object();
  for (const auto& [key, value] : patch.items()) {
    if (value.is_null()) {
      result.erase(key);
    } else {
      auto it = result.find(key);
      result[key] = mergePatch(it != result.end() ? *it : Json(nullptr), value);
    }
  }
  return result;
}

}  // namespace

Result<Json> applyMergePatch(const Json& original, const Json& patch) {
  return mergePatch(original, patch);
}

// nlohmann prefixes its messages with "[json.exception.<kind>.<id>] "; the client
// only needs the sentence.
std::string exceptionText(const Json::exception& e) {
  std::string what = e.what();
  auto end = what.find("] ");
  return end == std::string::npos ? what : what.substr(end + 2);
}

// Kubernetes answers a patch that does not decode with 400 and one that fails to
// apply (missing path, failed "test") with 422 (apiserver handlers/patch.go).
// nlohmann reports the first as parse_error and the second as out_of_range or
// other_error.
Result<Json> applyJsonPatch(const Json& original, const Json& patch) {
  try {
    return original.patch(patch);
  } catch (const Json::parse_error& e) {
    return fail(Code::kBadRequest, exceptionText(e));
  } catch (const Json::exception& e) {
    return fail(Code::kInvalid, exceptionText(e));
  }
}

}  // namespace nanokube::api
