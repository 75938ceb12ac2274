#pragma once
// Private to selector*.cc: label key/value validation and the field-error text of
// apimachinery (pkg/api/validate/content, pkg/util/validation/field), so that a bad
// selector is rejected with the very message a Kubernetes API server returns.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/selector.h"

namespace nanokube::api::selector {

// content.IsLabelKey / IsLabelValue: the problems found, empty when valid.
std::vector<std::string> labelKeyErrors(std::string_view key);
std::vector<std::string> labelValueErrors(std::string_view value);

// Go's %q of a string.
std::string goQuote(std::string_view s);
// field.Invalid(path, value, detail).Error(); `value` is already rendered.
std::string invalid(std::string_view path, std::string_view value, std::string_view detail);
// utilerrors.NewAggregate(errs).Error(): one message alone, several as "[a, b]".
std::string aggregate(const std::vector<std::string>& errs);

// labels.NewRequirement: validates the key, the operator's value count and every
// value. `valuesNil` renders an empty list as Go renders a nil slice ("null").
// Returns the aggregated error message, or nullopt when the requirement is valid.
std::optional<std::string> requirementError(const Requirement& r, bool valuesNil);

}  // namespace nanokube::api::selector
