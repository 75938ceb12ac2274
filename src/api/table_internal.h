#pragma once
// Private to table*.cc: the per-kind printers and the small JSON readers they share.
// Each printer mirrors one print<Kind> function of Kubernetes'
// pkg/printers/internalversion/printers.go, always in its wide form, because the
// API server's TableConvertor (pkg/printers/storage) calls the printers with Wide set.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/time.h"

namespace nanokube::api::table {

struct Column {
  const char* name;
  const char* type;
  const char* format;
  const char* description;
  int priority;
};

// Cells of one row, in column order (a JSON array).
using CellsFn = Json (*)(const Json& obj, TimePoint now);
// TableRow.conditions for an object, or null when it has none.
using ConditionsFn = Json (*)(const Json& obj);

struct Printer {
  std::vector<Column> columns;
  CellsFn cells;
  ConditionsFn conditions = nullptr;
};

// The printer for a kind; the default printer (Name, Created At) for kinds without one.
const Printer& printerFor(std::string_view kind);

// The value at a path of object keys, or nullptr when a step is missing.
const Json* at(const Json& obj, std::initializer_list<const char*> path);
// The string at a path ("" when missing or not a string).
std::string str(const Json& obj, std::initializer_list<const char*> path);
// The integer at a path (0 when missing or not a number), as Go's zero value.
std::int64_t num(const Json& obj, std::initializer_list<const char*> path);
// The boolean at a path (false when missing or not a boolean).
bool flag(const Json& obj, std::initializer_list<const char*> path);
// The array at a path (an empty array when missing).
const Json& arr(const Json& obj, std::initializer_list<const char*> path);

// printers.go translateTimestampSince: "<unknown>" for a missing timestamp.
std::string since(const Json* timestamp, TimePoint now);
// The Age cell: since(metadata.creationTimestamp).
std::string age(const Json& obj, TimePoint now);
// labels.FormatLabels: sorted "k=v" joined by ",", or "<none>".
std::string formatLabels(const Json* map);
// metav1.FormatLabelSelector: the selector's string form, "<none>" when empty or
// absent, "<error>" when it cannot be converted.
std::string formatLabelSelector(const Json* selector);
// printers.go layoutContainerCells: container names and images, comma-joined.
std::pair<std::string, std::string> containerCells(const Json& podSpec);

// The pod printer's cells and row conditions (table_pod.cc).
Json podCells(const Json& pod, TimePoint now);
Json podConditions(const Json& pod);

}  // namespace nanokube::api::table
