#include "kubelet/images/config.h"

#include <algorithm>

#include "kubelet/images/reference.h"

namespace nanokube::kubelet::images {

namespace {

Result<Json> parseJson(std::string_view text, std::string_view what) {
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    return fail(Code::kInvalid, std::string(what) + ": malformed JSON: " + e.what());
  }
}

// Reads an optional array of strings; null counts as absent, as Go's encoding/json reads it.
Result<std::vector<std::string>> stringArray(const Json& object, std::string_view key, std::string_view what) {
  std::vector<std::string> out;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return out;
  if (!it->is_array()) return fail(Code::kInvalid, std::string(what) + ": " + std::string(key) + " is not an array");
  for (const auto& v : *it) {
    if (!v.is_string()) return fail(Code::kInvalid, std::string(what) + ": " + std::string(key) + " holds a non-string");
    out.push_back(v.get<std::string>());
  }
  return out;
}

Result<std::string> optionalString(const Json& object, std::string_view key, std::string_view what) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::string();
  if (!it->is_string()) return fail(Code::kInvalid, std::string(what) + ": " + std::string(key) + " is not a string");
  return it->get<std::string>();
}

Result<Descriptor> parseDescriptor(const Json& j, std::string_view what) {
  if (!j.is_object()) return fail(Code::kInvalid, std::string(what) + ": descriptor is not an object");
  Descriptor d;
  auto mediaType = optionalString(j, "mediaType", what);
  if (!mediaType) return std::unexpected(mediaType.error());
  d.mediaType = *mediaType;
  auto digest = optionalString(j, "digest", what);
  if (!digest) return std::unexpected(digest.error());
  if (!isSha256Digest(*digest)) {
    return fail(Code::kInvalid, std::string(what) + ": unsupported or malformed digest \"" + *digest + "\"");
  }
  d.digest = *digest;
  if (auto it = j.find("size"); it != j.end() && it->is_number_integer()) d.size = it->get<int64_t>();
  if (auto it = j.find("annotations"); it != j.end() && it->is_object()) {
    for (const auto& [k, v] : it->items()) {
      if (v.is_string()) d.annotations[k] = v.get<std::string>();
    }
  }
  if (auto it = j.find("platform"); it != j.end() && it->is_object()) {
    d.platformOs = it->value("os", "");
    d.platformArchitecture = it->value("architecture", "");
  }
  return d;
}

}  // namespace

bool isLayerMediaType(std::string_view t) {
  static constexpr std::string_view kTypes[] = {
      "application/vnd.oci.image.layer.v1.tar",
      "application/vnd.oci.image.layer.v1.tar+gzip",
      "application/vnd.oci.image.layer.v1.tar+zstd",
      "application/vnd.docker.image.rootfs.diff.tar",
      "application/vnd.docker.image.rootfs.diff.tar.gzip",
  };
  return std::find(std::begin(kTypes), std::end(kTypes), t) != std::end(kTypes);
}

Result<ImageConfig> parseImageConfig(std::string_view text) {
  constexpr std::string_view kWhat = "image config";
  auto json = parseJson(text, kWhat);
  if (!json) return std::unexpected(json.error());
  if (!json->is_object()) return fail(Code::kInvalid, "image config: not an object");
  ImageConfig c;
  c.architecture = json->value("architecture", "");
  c.os = json->value("os", "");

  auto rootfs = json->find("rootfs");
  if (rootfs == json->end() || !rootfs->is_object()) return fail(Code::kInvalid, "image config: no rootfs");
  if (rootfs->value("type", "") != "layers") return fail(Code::kInvalid, "image config: rootfs.type is not \"layers\"");
  auto diffIds = stringArray(*rootfs, "diff_ids", kWhat);
  if (!diffIds) return std::unexpected(diffIds.error());
  for (const auto& d : *diffIds) {
    if (!isSha256Digest(d)) return fail(Code::kInvalid, "image config: unsupported or malformed diff_id \"" + d + "\"");
  }
  c.diffIds = std::move(*diffIds);

  auto config = json->find("config");
  if (config == json->end() || config->is_null()) return c;
  if (!config->is_object()) return fail(Code::kInvalid, "image config: config is not an object");
  for (auto [key, field] : {std::pair{"Env", &c.env}, {"Entrypoint", &c.entrypoint}, {"Cmd", &c.cmd}}) {
    auto v = stringArray(*config, key, kWhat);
    if (!v) return std::unexpected(v.error());
    *field = std::move(*v);
  }
  for (auto [key, field] : {std::pair{"WorkingDir", &c.workingDir}, {"User", &c.user}, {"StopSignal", &c.stopSignal}}) {
    auto v = optionalString(*config, key, kWhat);
    if (!v) return std::unexpected(v.error());
    *field = std::move(*v);
  }
  if (auto it = config->find("ExposedPorts"); it != config->end() && !it->is_null()) {
    if (!it->is_object()) return fail(Code::kInvalid, "image config: ExposedPorts is not an object");
    for (const auto& [port, _] : it->items()) {
      // Docker writes "80/tcp"; a bare "80" means tcp.
      c.exposedPorts.push_back(port.find('/') == std::string::npos ? port + "/tcp" : port);
    }
    std::sort(c.exposedPorts.begin(), c.exposedPorts.end());
  }
  return c;
}

Json toJson(const ImageConfig& c) {
  return Json{{"architecture", c.architecture}, {"os", c.os},           {"env", c.env},
              {"entrypoint", c.entrypoint},     {"cmd", c.cmd},         {"workingDir", c.workingDir},
              {"user", c.user},                 {"exposedPorts", c.exposedPorts},
              {"stopSignal", c.stopSignal},     {"diffIds", c.diffIds}};
}

Result<ImageConfig> imageConfigFromJson(const Json& j) {
  try {
    ImageConfig c;
    c.architecture = j.value("architecture", "");
    c.os = j.value("os", "");
    c.env = j.value("env", std::vector<std::string>{});
    c.entrypoint = j.value("entrypoint", std::vector<std::string>{});
    c.cmd = j.value("cmd", std::vector<std::string>{});
    c.workingDir = j.value("workingDir", "");
    c.user = j.value("user", "");
    c.exposedPorts = j.value("exposedPorts", std::vector<std::string>{});
    c.stopSignal = j.value("stopSignal", "");
    c.diffIds = j.value("diffIds", std::vector<std::string>{});
    return c;
  } catch (const Json::exception& e) {
    return fail(Code::kInternal, std::string("image index: malformed image config: ") + e.what());
  }
}

Result<std::vector<Descriptor>> parseIndex(std::string_view text) {
  constexpr std::string_view kWhat = "image index";
  auto json = parseJson(text, kWhat);
  if (!json) return std::unexpected(json.error());
  if (!json->is_object()) return fail(Code::kInvalid, "image index: not an object");
  auto manifests = json->find("manifests");
  if (manifests == json->end() || !manifests->is_array()) return fail(Code::kInvalid, "image index: no manifests");
  std::vector<Descriptor> out;
  for (const auto& m : *manifests) {
    auto d = parseDescriptor(m, kWhat);
    if (!d) return std::unexpected(d.error());
    out.push_back(std::move(*d));
  }
  return out;
}

Result<Manifest> parseManifest(std::string_view text) {
  constexpr std::string_view kWhat = "image manifest";
  auto json = parseJson(text, kWhat);
  if (!json) return std::unexpected(json.error());
  if (!json->is_object()) return fail(Code::kInvalid, "image manifest: not an object");
  if (json->value("schemaVersion", 0) != 2) return fail(Code::kInvalid, "image manifest: schemaVersion is not 2");
  auto config = json->find("config");
  if (config == json->end()) return fail(Code::kInvalid, "image manifest: no config");
  Manifest m;
  auto c = parseDescriptor(*config, kWhat);
  if (!c) return std::unexpected(c.error());
  m.config = std::move(*c);
  auto layers = json->find("layers");
  if (layers == json->end() || !layers->is_array()) return fail(Code::kInvalid, "image manifest: no layers");
  for (const auto& l : *layers) {
    auto d = parseDescriptor(l, kWhat);
    if (!d) return std::unexpected(d.error());
    if (!isLayerMediaType(d->mediaType)) {
      return fail(Code::kInvalid, "image manifest: layer " + d->digest + " has unsupported media type \"" +
                                      d->mediaType + "\"");
    }
    m.layers.push_back(std::move(*d));
  }
  return m;
}

Result<std::vector<DockerSaveImage>> parseDockerSaveManifest(std::string_view text) {
  constexpr std::string_view kWhat = "manifest.json";
  auto json = parseJson(text, kWhat);
  if (!json) return std::unexpected(json.error());
  if (!json->is_array()) return fail(Code::kInvalid, "manifest.json: not an array");
  std::vector<DockerSaveImage> out;
  for (const auto& entry : *json) {
    if (!entry.is_object()) return fail(Code::kInvalid, "manifest.json: entry is not an object");
    DockerSaveImage image;
    auto config = optionalString(entry, "Config", kWhat);
    if (!config) return std::unexpected(config.error());
    if (config->empty()) return fail(Code::kInvalid, "manifest.json: entry without Config");
    image.config = *config;
    auto tags = stringArray(entry, "RepoTags", kWhat);
    if (!tags) return std::unexpected(tags.error());
    image.repoTags = std::move(*tags);
    auto layers = stringArray(entry, "Layers", kWhat);
    if (!layers) return std::unexpected(layers.error());
    image.layers = std::move(*layers);
    out.push_back(std::move(image));
  }
  return out;
}

}  // namespace nanokube::kubelet::images
