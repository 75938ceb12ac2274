#pragma once
// Label and field selectors: the query-string syntax (`app=nginx,tier!=db`,
// `env in (a,b)`, `!key`) and the JSON LabelSelector (matchLabels/matchExpressions).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/resources.h"
#include "common/error.h"

namespace nanokube::api {

struct Requirement {
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kDoesNotExist, kGreaterThan, kLessThan };
  std::string key;
  Op op = Op::kEquals;
  std::vector<std::string> values;
};

class LabelSelector {
 public:
  LabelSelector() = default;  // matches everything
  explicit LabelSelector(std::vector<Requirement> reqs) : reqs_(std::move(reqs)) {}
  // labels.Nothing(): what a null metav1.LabelSelector converts to. It matches no
  // labels, prints as "" and is not empty(), exactly as in apimachinery.
  static LabelSelector nothing() {
    LabelSelector s;
    s.nothing_ = true;
    return s;
  }
  bool matches(const Json& labels) const;  // labels: JSON object of strings (or null)
  bool empty() const { return !nothing_ && reqs_.empty(); }
  bool matchesNothing() const { return nothing_; }
  const std::vector<Requirement>& requirements() const { return reqs_; }
  std::string str() const;  // canonical text form

 private:
  std::vector<Requirement> reqs_;
  bool nothing_ = false;
};

// Parses `?labelSelector=`; BadRequest with Kubernetes' message on bad syntax.
Result<LabelSelector> parseLabelSelector(std::string_view text);
// From a metav1.LabelSelector JSON ({"matchLabels":{},"matchExpressions":[]}), as
// metav1.LabelSelectorAsSelector: null gives nothing(), {} matches everything.
Result<LabelSelector> labelSelectorFromJson(const Json& sel);
// From a map selector (ReplicationController/Service spec.selector): every pair must equal.
LabelSelector labelSelectorFromMap(const Json& map);

struct FieldTerm {
  std::string field;
  bool notEquals = false;
  std::string value;
};

class FieldSelector {
 public:
  FieldSelector() = default;
  explicit FieldSelector(std::vector<FieldTerm> terms) : terms_(std::move(terms)) {}
  bool matches(const ResourceInfo& r, const Json& obj) const;
  bool empty() const { return terms_.empty(); }
  const std::vector<FieldTerm>& terms() const { return terms_; }

 private:
  std::vector<FieldTerm> terms_;
};

// Parses `?fieldSelector=` (terms in any order, `=`, `==`, `!=`). Fields a kind does
// not support give BadRequest `field label not supported: <f>`, as Kubernetes says.
Result<FieldSelector> parseFieldSelector(const ResourceInfo& r, std::string_view text);

// The value of a selectable field of an object (metadata.name, metadata.namespace,
// spec.nodeName, status.phase, involvedObject.*, ...); nullopt when the kind does not
// support the field.
std::optional<std::string> fieldValue(const ResourceInfo& r, const Json& obj, std::string_view field);

}  // namespace nanokube::api
