#pragma once
// The SQLite backend of Store (see store.h for the contract and README.md for the
// design). Private to the store: other components call openSqliteStore().
//
// Layout:
//   kv(revision PRIMARY KEY, key, create_revision, prev_revision, value, tombstone)
//     one row per write, like etcd's revision keyspace; prev_revision points at the
//     row this write replaced (0 for a create), which gives watch replay its `prev`.
//   meta(name PRIMARY KEY, value): "compacted" = the compaction point.
// The latest value of every live key is also held in memory (index_), so get/list
// at the latest revision never touch SQLite; reads at older revisions use a second,
// read-only connection and so never wait for a writer.
//
// Locks, always taken in this order: compactMu_, mu_ (shared for reads of the index, exclusive
// for writes, watch registration and compaction), then readMu_ (the read
// connection), then the WatchHub's own mutex.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "store/checkpointer.h"
#include "store/rw_lock.h"
#include "store/sqlite_db.h"
#include "store/store.h"
#include "store/watch_hub.h"

namespace nanokube::store {

class SqliteStore final : public Store {
 public:
  static Result<std::unique_ptr<Store>> open(const std::string& path);
  ~SqliteStore() override;

  int64_t revision() const override { return revision_.load(); }
  int64_t compactedRevision() const override { return compacted_.load(); }

  Result<KeyValue> get(const std::string& key, int64_t atRevision) const override;
  Result<ListResult> list(const std::string& prefix, int64_t atRevision, int64_t limit,
                          const std::string& startAfter) const override;
  Result<KeyValue> create(const std::string& key, const std::string& value) override;
  Result<KeyValue> update(const std::string& key, const std::string& value,
                          int64_t expectedModRevision) override;
  Result<KeyValue> remove(const std::string& key, int64_t expectedModRevision) override;
  Result<std::unique_ptr<Watch>> watch(const std::string& prefix, int64_t fromRevision,
                                       WatchCallback callback) override;
  Result<void> compact(int64_t revision) override;

 private:
  // The latest state of a live key; the key itself is the map's key. The value is
  // shared and immutable so that readers copy a pointer under the lock and the
  // bytes after releasing it: a list of 10,000 objects then holds off writers for
  // the time of 10,000 pointer copies rather than 20 MB of string copies.
  struct Entry {
    std::shared_ptr<const std::string> value;
    int64_t createRevision = 0;
    int64_t modRevision = 0;
  };
  using Index = std::map<std::string, Entry, std::less<>>;

  SqliteStore() = default;
  Result<void> init(const std::string& path);
  Result<void> load();

  // Appends the row for revision `revision` to kv; the write is durable on return.
  Result<void> append(int64_t revision, const std::string& key, int64_t createRevision,
                      int64_t prevRevision, const std::string& value, bool tombstone);
  Result<void> checkReadable(int64_t atRevision) const;
  Result<KeyValue> getAt(const std::string& key, int64_t atRevision) const;
  Result<ListResult> listAt(const std::string& prefix, int64_t atRevision, int64_t limit,
                            const std::string& startAfter) const;
  // Delivers, in revision order, every stored event after `fromRevision` on `prefix`.
  Result<void> replay(const std::string& prefix, int64_t fromRevision, const WatchCallback& callback);
  // Deletes what compaction at `revision` drops among revisions [from, to).
  Result<void> compactRange(int64_t revision, int64_t from, int64_t to);

  // Owns the flock on `<path>.lock`. Declared first so that it is released last,
  // after every connection has closed.
  struct LockFile {
    int fd = -1;
    LockFile() = default;
    LockFile(const LockFile&) = delete;
    LockFile& operator=(const LockFile&) = delete;
    ~LockFile();
  };
  LockFile lock_;
  sqlite::Db writeDb_;
  sqlite::Statement insert_;
  sqlite::Statement replay_;
  sqlite::Statement compactSuperseded_;
  sqlite::Statement compactTombstones_;
  sqlite::Statement setCompacted_;
  sqlite::Statement minRevision_;
  // Declared after writeDb_ so that it is destroyed first: it unhooks that connection.
  std::unique_ptr<Checkpointer> checkpointer_;

  mutable std::mutex readMu_;
  mutable sqlite::Db readDb_;
  mutable sqlite::Statement getAt_;
  mutable sqlite::Statement listAt_;
  mutable sqlite::Statement readCompacted_;

  mutable RwLock mu_;
  // Serialises compactions, whose ranges must be deleted in order (see sqlite_sql.h).
  std::mutex compactMu_;
  Index index_;
  // Written only under mu_ held exclusively; atomics so revision() takes no lock.
  std::atomic<int64_t> revision_{0};
  std::atomic<int64_t> compacted_{0};
  std::shared_ptr<WatchHub> hub_ = std::make_shared<WatchHub>();
};

}  // namespace nanokube::store
