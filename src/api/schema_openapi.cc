#include <algorithm>

#include "api/schema.h"
#include "api/schema/embedded.h"

namespace nanokube::api {

namespace {

std::string gvPathOf(const GroupVersion& gv) {
  return gv.group.empty() ? "api/" + gv.version : "apis/" + gv.group + "/" + gv.version;
}

const schema_data::EmbeddedDocument* findDocument(std::string_view gvPath) {
  for (const auto& doc : schema_data::documents()) {
    if (doc.gvPath == gvPath) return &doc;
  }
  return nullptr;
}

// Only group-versions that the resource table serves are published, so a data file left
// behind after a group is dropped from the table is never advertised.
bool isServed(std::string_view gvPath) {
  const auto gvs = servedGroupVersions();
  return std::any_of(gvs.begin(), gvs.end(),
                     [&](const GroupVersion& gv) { return gvPathOf(gv) == gvPath; });
}

}  // namespace

Json openapiV3Index() {
  Json paths = Json::object();
  for (const auto& gv : servedGroupVersions()) {
    const std::string path = gvPathOf(gv);
    const auto* doc = findDocument(path);
    if (doc == nullptr) continue;
    paths[path] = {{"serverRelativeURL",
                    "/openapi/v3/" + path + "?hash=" + std::string(doc->hash)}};
  }
  return {{"paths", std::move(paths)}};
}

std::optional<std::string_view> openapiV3DocumentText(std::string_view gvPath) {
  const auto* doc = findDocument(gvPath);
  if (doc == nullptr || !isServed(gvPath)) return std::nullopt;
  return doc->json;
}

std::string_view openapiV3DocumentHash(std::string_view gvPath) {
  const auto* doc = findDocument(gvPath);
  if (doc == nullptr || !isServed(gvPath)) return {};
  return doc->hash;
}

Json openapiV3Document(const std::string& gvPath) {
  const auto text = openapiV3DocumentText(gvPath);
  if (!text) return nullptr;
  // The embedded text is produced by the generator and checked by the unit tests, so a parse
  // failure would be a build defect; answer null rather than throw across the component.
  Json doc = Json::parse(text->begin(), text->end(), nullptr, /*allow_exceptions=*/false);
  return doc.is_discarded() ? Json(nullptr) : doc;
}

}  // namespace nanokube::api
