#pragma once
// nanokube's MVCC key-value store: the contract the API server depends on.
//
// Every successful write advances one global revision (int64, starting at 1 for the
// first write) and the written key records it as its modRevision; the revisions are
// the objects' resourceVersions. Reads may ask for the state at an older revision
// until that revision is compacted. Watches deliver every change after a revision in
// revision order. The interface is narrow on purpose (etcd v3 maps onto it 1:1), so
// that an etcd backend can be added without touching the API server.
//
// Thread-safety: all methods may be called from any thread. Watch callbacks run on
// the writer's thread, in revision order, after the write is durable; they must not
// block and must not call back into the store.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace nanokube::store {

struct KeyValue {
  std::string key;
  std::string value;
  int64_t createRevision = 0;
  int64_t modRevision = 0;
};

struct ListResult {
  std::vector<KeyValue> items;  // sorted by key
  int64_t revision = 0;         // the store revision the list was read at
  bool more = false;            // true when `limit` cut the list short
};

struct Event {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  KeyValue kv;                    // for kDelete: key, the deleted value, and modRevision = the delete's revision
  std::optional<KeyValue> prev;   // the value before this event, when there was one
};

// A registered watch; destroying it stops delivery.
class Watch {
 public:
  virtual ~Watch() = default;
};

using WatchCallback = std::function<void(const Event&)>;

class Store {
 public:
  virtual ~Store() = default;

  // The latest revision (0 for an empty store).
  virtual int64_t revision() const = 0;
  // The oldest revision still readable (the compaction point).
  virtual int64_t compactedRevision() const = 0;

  // The value of `key` at `atRevision` (0 = latest). NotFound if absent;
  // Gone if atRevision is compacted.
  virtual Result<KeyValue> get(const std::string& key, int64_t atRevision = 0) const = 0;

  // Keys with `prefix`, sorted, at `atRevision` (0 = latest), strictly after
  // `startAfter` when it is not empty, at most `limit` (0 = all). Gone if compacted.
  virtual Result<ListResult> list(const std::string& prefix, int64_t atRevision = 0,
                                  int64_t limit = 0, const std::string& startAfter = {}) const = 0;

  // Creates `key`; AlreadyExists if present. Returns the new KeyValue.
  virtual Result<KeyValue> create(const std::string& key, const std::string& value) = 0;

  // Replaces `key` if its modRevision equals `expectedModRevision` (0 = any);
  // NotFound if absent, Conflict if the revision differs.
  virtual Result<KeyValue> update(const std::string& key, const std::string& value,
                                  int64_t expectedModRevision) = 0;

  // Deletes `key` under the same compare rule. Returns the deleted KeyValue with
  // modRevision set to the delete's revision.
  virtual Result<KeyValue> remove(const std::string& key, int64_t expectedModRevision) = 0;

  // Delivers every event on keys with `prefix` after `fromRevision` (replaying the
  // history first, then live events). Gone if fromRevision < compactedRevision().
  virtual Result<std::unique_ptr<Watch>> watch(const std::string& prefix, int64_t fromRevision,
                                               WatchCallback callback) = 0;

  // Drops history older than `revision`; reads and watches before it become Gone.
  virtual Result<void> compact(int64_t revision) = 0;
};

// The embedded backend: SQLite in WAL mode at `path` (created if missing). Every
// acknowledged write is committed before the call returns, so it survives kill -9.
Result<std::unique_ptr<Store>> openSqliteStore(const std::string& path);

}  // namespace nanokube::store
