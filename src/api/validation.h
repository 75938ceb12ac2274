#pragma once
// Validation with Kubernetes' messages (pkg/apis/core/validation and friends).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/resources.h"
#include "common/error.h"

namespace nanokube::api {

// Validates a defaulted object before create (old == nullptr) or update (old is the
// stored object). On failure returns Code::kInvalid with the message Kubernetes
// prints, e.g. `Pod "x" is invalid: spec.containers[0].name: Required value`, and
// details {"name","kind","causes":[{"reason":"FieldValueRequired","message":"Required value","field":"spec.containers[0].name"}]}.
Result<void> validateObject(const ResourceInfo& r, const Json& obj, const Json* old);

// DNS-1123 subdomain / label checks, exposed for the API server's name checks.
// Each returns the Kubernetes error strings (empty when valid).
std::vector<std::string> checkDns1123Subdomain(const std::string& value);
std::vector<std::string> checkDns1123Label(const std::string& value);

// A resource quantity as Kubernetes writes it ("500m", "1Gi", "2", "1e3"), from
// k8s.io/apimachinery/pkg/api/resource. Held exactly as a count of nano-units, which
// covers every value a container resource can take (up to the exa suffixes).
struct Quantity {
  enum class Format { kDecimalSI, kBinarySI, kDecimalExponent };
  __int128 nanos = 0;
  Format format = Format::kDecimalSI;

  // The canonical text Kubernetes prints (Quantity.String()): "0.5" -> "500m",
  // "1024Mi" -> "1Gi", "1000" -> "1k".
  std::string str() const;
  int compare(const Quantity& o) const { return nanos < o.nanos ? -1 : nanos > o.nanos ? 1 : 0; }
  bool isZero() const { return nanos == 0; }
};
// Parses a quantity; nullopt when it does not match Kubernetes' grammar.
std::optional<Quantity> parseQuantity(std::string_view text);
// Parses a quantity held as a JSON string or number.
std::optional<Quantity> parseQuantity(const Json& value);

}  // namespace nanokube::api
