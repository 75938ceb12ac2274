#pragma once
// The schema data embedded at build time: src/api/schema/embed.cmake turns the files of
// this folder into a generated source. Only schema*.cc read it; everyone else goes through
// api/schema.h.

#include <span>
#include <string_view>

namespace nanokube::api::schema_data {

struct EmbeddedDocument {
  std::string_view gvPath;  // "api/v1", "apis/apps/v1"
  std::string_view json;    // The OpenAPI v3 document, byte for byte as served.
  std::string_view hash;    // SHA-512 of `json` in upper-case hex, as kube-openapi computes it.
};

// Every embedded group-version document, sorted by gvPath.
std::span<const EmbeddedDocument> documents();

// The field table of fields.txt (format described in generate.py).
std::string_view fieldTable();

}  // namespace nanokube::api::schema_data
