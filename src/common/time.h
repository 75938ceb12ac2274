#pragma once
// Time as the Kubernetes API writes it: RFC 3339 in UTC with second precision
// ("2026-12-05T22:54:44Z"), and MicroTime with microseconds for leases and events.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace nanokube {

using TimePoint = std::chrono::system_clock::time_point;

// An injectable clock: production code takes a Clock, tests pass a fixed one.
using Clock = std::function<TimePoint()>;
inline TimePoint systemNow() { return std::chrono::system_clock::now(); }

std::string formatRfc3339(TimePoint t);       // "2026-12-05T22:54:44Z"
std::string formatRfc3339Micro(TimePoint t);  // "2026-12-05T22:54:44.123456Z"
std::optional<TimePoint> parseRfc3339(std::string_view s);

}  // namespace nanokube
