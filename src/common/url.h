#pragma once
// Percent-encoding and query strings, as Go's net/url does them for the API's
// request targets: one implementation for the API server, the API client and
// the node agent's endpoint.

#include <map>
#include <string>
#include <string_view>

namespace nanokube {

// Keeps the unreserved characters (RFC 3986: ALPHA DIGIT - _ . ~) and writes
// every other byte as %XX (upper-case hex).
std::string percentEncode(std::string_view s);

// %XX becomes the byte; a malformed escape stays as written; with
// plusIsSpace (query strings) '+' becomes ' '.
std::string percentDecode(std::string_view s, bool plusIsSpace);

// Splits "path?a=1&b=x%20y" into the path (as is) and the decoded query
// (repeated keys kept in order; pairs with an empty key skipped).
void splitTarget(std::string_view target, std::string& path, std::multimap<std::string, std::string>& query);

}  // namespace nanokube
