#pragma once
// The API client every nanokube component talks to the API server with: REST
// verbs over JSON and watch streams, errors as values.
//
// Paths are the API's own: "/api/v1/namespaces/default/pods" (a collection),
// ".../pods/web-0" (an object), ".../pods/web-0/status" (a subresource);
// apiPath() builds them. Results are the server's JSON as it sent it.
//
// Threading: an ApiClient is safe to call from any number of threads at once.
// Calls are synchronous; each takes a connection from a small pool for its
// duration. A Watch runs on its own connection and thread (see Watch).

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"

namespace nanokube::client {

// Query parameters (labelSelector, fieldSelector, limit, continue, dryRun, ...);
// values are percent-encoded by the client.
using Query = std::map<std::string, std::string>;

enum class PatchType {
  kMerge,      // application/merge-patch+json (RFC 7386)
  kStrategic,  // application/strategic-merge-patch+json
  kJson,       // application/json-patch+json (RFC 6902)
};

struct WatchQuery {
  std::string resourceVersion;  // "" : ADDED for what exists, then changes
  std::string labelSelector;
  std::string fieldSelector;
  bool allowWatchBookmarks = false;
  int timeoutSeconds = 0;  // 0: the server's default (30-60 minutes)
};

// Called for every event on the watch's thread, in the order the server sent
// them: type is ADDED, MODIFIED, DELETED, BOOKMARK or ERROR. An ERROR event's
// object is the Status the server sent (code 410 / reason Expired when the
// resourceVersion is too old; errorFromStatus() turns it into an Error); the
// server ends the stream after it.
using WatchCallback = std::function<void(std::string_view type, const Json& object)>;

// Called once on the watch's thread when the stream ends by itself: an empty
// Result when the server ended it cleanly (timeoutSeconds elapsed), an Error
// when the connection failed, the server refused the watch (a non-2xx answer
// other than 410, which arrives as an ERROR event) or a line did not parse.
// Not called for a watch stopped by destroying it.
using WatchEndCallback = std::function<void(const Result<void>& end)>;

// A running watch. Destroying it stops it: the connection is closed from the
// destroying thread (by posting to the watch's event loop) and the destructor
// waits for the watch's thread, so no callback runs after it returns. Destroying
// a Watch from inside its own callback is allowed; it then stops after the
// callback returns and the destructor does not wait.
class Watch {
 public:
  virtual ~Watch() = default;
  // True once the stream has ended (by itself or by being stopped).
  virtual bool done() const = 0;
};

class ApiClient {
 public:
  virtual ~ApiClient() = default;

  virtual Result<Json> get(const std::string& path, const Query& query = {}) = 0;
  // A List object: {"kind":"...List","metadata":{"resourceVersion":...},"items":[...]}.
  virtual Result<Json> list(const std::string& path, const Query& query = {}) = 0;
  // POST to a collection (or a subresource such as pods/x/binding).
  virtual Result<Json> create(const std::string& path, const Json& body, const Query& query = {}) = 0;
  // PUT of the whole object; kConflict when its metadata.resourceVersion is stale.
  virtual Result<Json> update(const std::string& path, const Json& body, const Query& query = {}) = 0;
  virtual Result<Json> patch(const std::string& path, PatchType type, const Json& body, const Query& query = {}) = 0;
  // DELETE with optional DeleteOptions ({"gracePeriodSeconds":0,
  // "propagationPolicy":"Background", "preconditions":{...}}; null for none).
  // Answers the deleted object (or the object marked for deletion) or a
  // Success Status, as the server sent it.
  virtual Result<Json> remove(const std::string& path, const Json& deleteOptions = nullptr) = 0;

  // Starts a watch on a collection path. Fails (without starting a thread) only
  // when the watch cannot be set up at all; connection failures after that
  // arrive through `onEnd`.
  virtual Result<std::unique_ptr<Watch>> watch(const std::string& path, const WatchQuery& query,
                                               WatchCallback callback, WatchEndCallback onEnd = nullptr) = 0;
};

// "/api/v1[/namespaces/<ns>]/<plural>[/<name>]" for apiVersion "v1",
// "/apis/<group>/<version>/..." otherwise. An empty namespace gives the
// cluster-wide path, an empty name the collection.
std::string apiPath(std::string_view apiVersion, std::string_view plural, std::string_view ns = {},
                    std::string_view name = {});

// "ns/name", or "name" for a cluster-scoped object (client-go's MetaNamespaceKeyFunc).
std::string objectKey(const Json& object);

// The query string for `query` ("" when empty, else "?a=b&c=d"), percent-encoded.
std::string encodeQuery(const Query& query);

// The content type the API expects for a patch type.
std::string_view patchContentType(PatchType type);

}  // namespace nanokube::client
