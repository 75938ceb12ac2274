#include "client/watch_parser.h"

#include <fmt/format.h>

namespace nanokube::client {

Result<WatchEvent> parseWatchLine(std::string_view line) {
  Json parsed = Json::parse(line, nullptr, false);
  if (parsed.is_discarded()) {
    return fail(Code::kInternal, fmt::format("watch: malformed JSON line: {}", line.substr(0, 200)));
  }
  if (!parsed.is_object()) return fail(Code::kInternal, "watch: event is not a JSON object");
  auto type = parsed.find("type");
  auto object = parsed.find("object");
  if (type == parsed.end() || !type->is_string() || type->get<std::string>().empty()) {
    return fail(Code::kInternal, "watch: event without a type");
  }
  if (object == parsed.end() || !object->is_object()) {
    return fail(Code::kInternal, fmt::format("watch: {} event without an object", type->get<std::string>()));
  }
  return WatchEvent{type->get<std::string>(), std::move(*object)};
}

Result<std::vector<WatchEvent>> WatchLineParser::feed(std::string_view bytes) {
  std::vector<WatchEvent> events;
  size_t start = 0;
  for (;;) {
    size_t nl = bytes.find('\n', start);
    if (nl == std::string_view::npos) break;
    std::string_view piece = bytes.substr(start, nl - start);
    std::string line;
    std::string_view view = piece;
    if (!partial_.empty()) {
      line = std::move(partial_);
      partial_.clear();
      line.append(piece);
      view = line;
    }
    start = nl + 1;
    while (!view.empty() && (view.back() == '\r' || view.back() == ' ')) view.remove_suffix(1);
    if (view.find_first_not_of(" \t") == std::string_view::npos) continue;
    auto event = parseWatchLine(view);
    if (!event) return std::unexpected(event.error());
    events.push_back(std::move(*event));
  }
  partial_.append(bytes.substr(start));
  if (partial_.size() > kMaxLine) {
    return fail(Code::kRequestEntityTooLarge, fmt::format("watch: line longer than {} bytes", kMaxLine));
  }
  return events;
}

}  // namespace nanokube::client
