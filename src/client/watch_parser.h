#pragma once
// The body of a watch answer: one JSON object per line,
// {"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":{...}}, arriving in
// chunks that need not end at a line boundary. Pure, so that it is tested
// without sockets; the watch connection feeds it what it reads.

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace nanokube::client {

struct WatchEvent {
  std::string type;
  Json object;
};

class WatchLineParser {
 public:
  // A line longer than this is an error rather than unbounded memory: the API
  // server caps a request body at 3 MiB, so no object line comes near it.
  static constexpr size_t kMaxLine = 64 * 1024 * 1024;

  // Appends `bytes` and returns the events of every line completed by them.
  // Blank lines are skipped. A line that is not an event object, or an
  // overlong line, fails; the watch should then end (as client-go does on a
  // decode error) and the parser is not to be fed again.
  Result<std::vector<WatchEvent>> feed(std::string_view bytes);

  // Bytes held for a line not yet complete.
  size_t pending() const { return partial_.size(); }

 private:
  std::string partial_;
};

// Parses one watch line (without its newline).
Result<WatchEvent> parseWatchLine(std::string_view line);

}  // namespace nanokube::client
