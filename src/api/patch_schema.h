#pragma once
// Private to patch*.cc: the patch strategies of the served kinds' fields, as the
// `patchStrategy`/`patchMergeKey` struct tags of k8s.io/api declare them. Strategic
// merge patch reads these to decide whether a list is merged (and by which key) or
// replaced.

#include <string>
#include <string_view>

namespace nanokube::api::patch {

struct FieldMeta {
  std::string type;      // the struct type of the field or of its list elements ("" if none)
  bool merge = false;    // patchStrategy contains "merge"
  std::string mergeKey;  // patchMergeKey; "" for lists of primitives
};

// A position in the type tree: the struct type whose fields are being merged.
class Schema {
 public:
  // The root type of a kind ("Pod", "Deployment", ...); unknown kinds only know metadata.
  static Schema forKind(std::string_view kind);
  // The metadata of a field of this struct; a field without tags yields defaults
  // (maps merged recursively, lists replaced).
  FieldMeta field(std::string_view name) const;
  Schema child(const FieldMeta& meta) const { return Schema(meta.type); }
  const std::string& type() const { return type_; }

 private:
  explicit Schema(std::string type) : type_(std::move(type)) {}
  std::string type_;
  bool root_ = false;
};

}  // namespace nanokube::api::patch
