// The SQLite backend's work on history: reads at an older revision, watch
// replay and compaction. The fast paths at the latest revision are in
// sqlite_store.cc.

#include <optional>

#include <fmt/format.h>

#include "store/sqlite_sql.h"
#include "store/sqlite_store.h"

namespace nanokube::store {

namespace {

// The smallest key greater than every key starting with `prefix`, or nullopt when
// there is none (the prefix is empty or all 0xff bytes).
std::optional<std::string> prefixEnd(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last != 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return std::nullopt;
}

void bindRange(sqlite::Statement& stmt, int prefixIndex, const std::string& prefix) {
  stmt.bindBlob(prefixIndex, prefix);
  if (auto end = prefixEnd(prefix)) {
    stmt.bindBlob(prefixIndex + 1, *end);
  } else {
    stmt.bindNull(prefixIndex + 1);
  }
}

std::unexpected<Error> gone(int64_t revision, int64_t compacted) {
  // The message Kubernetes' storage layer gives for an expired resourceVersion.
  return fail(Code::kGone, fmt::format("too old resource version: {} ({})", revision, compacted));
}

// A read transaction on the read connection. Inside it the compaction point and
// the rows come from one WAL snapshot, so a compaction committing concurrently
// can never leave a half-compacted answer.
class ReadTransaction {
 public:
  explicit ReadTransaction(sqlite::Db& db) : db_(db) {}
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;
  ~ReadTransaction() {
    if (open_) (void)db_.exec("COMMIT", "end read");
  }
  Result<void> begin() {
    if (auto ok = db_.exec("BEGIN", "begin read"); !ok) return ok;
    open_ = true;
    return {};
  }

 private:
  sqlite::Db& db_;
  bool open_ = false;
};

}  // namespace

// Called without mu_: reads of history never wait for writers. `atRevision` is at
// most the revision observed under mu_, so every row it needs was committed before
// the snapshot below starts.
// Gone when `atRevision` is older than the compaction point seen by the read
// snapshot; the caller holds readMu_ inside an open read transaction.
Result<void> SqliteStore::checkReadable(int64_t atRevision) const {
  sqlite::Statement::Scope scope(readCompacted_);
  auto row = readCompacted_.step();
  if (!row) return std::unexpected(row.error());
  int64_t compacted = *row ? readCompacted_.int64(0) : 0;
  if (atRevision < compacted) return gone(atRevision, compacted);
  return {};
}

Result<KeyValue> SqliteStore::getAt(const std::string& key, int64_t atRevision) const {
  std::lock_guard lock(readMu_);
  ReadTransaction txn(readDb_);
  if (auto ok = txn.begin(); !ok) return std::unexpected(ok.error());
  if (auto ok = checkReadable(atRevision); !ok) return std::unexpected(ok.error());
  sqlite::Statement::Scope scope(getAt_);
  getAt_.bindBlob(1, key);
  getAt_.bind(2, atRevision);
  auto row = getAt_.step();
  if (!row) return std::unexpected(row.error());
  if (!*row || getAt_.int64(3) != 0) {
    return fail(Code::kNotFound, fmt::format("key {} not found at revision {}", key, atRevision));
  }
  return KeyValue{key, getAt_.blob(2), getAt_.int64(1), getAt_.int64(0)};
}

Result<ListResult> SqliteStore::listAt(const std::string& prefix, int64_t atRevision, int64_t limit,
                                       const std::string& startAfter) const {
  std::lock_guard lock(readMu_);
  ReadTransaction txn(readDb_);
  if (auto ok = txn.begin(); !ok) return std::unexpected(ok.error());
  if (auto ok = checkReadable(atRevision); !ok) return std::unexpected(ok.error());
  sqlite::Statement::Scope scope(listAt_);
  listAt_.bind(1, atRevision);
  bindRange(listAt_, 2, prefix);
  if (startAfter.empty()) {
    listAt_.bindNull(4);
  } else {
    listAt_.bindBlob(4, startAfter);
  }
  // One row more than asked tells whether the list was cut short.
  listAt_.bind(5, limit > 0 ? limit + 1 : -1);

  ListResult result;
  result.revision = atRevision;
  while (true) {
    auto row = listAt_.step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    if (limit > 0 && std::ssize(result.items) == limit) {
      result.more = true;
      break;
    }
    result.items.push_back(KeyValue{listAt_.blob(0), listAt_.blob(3), listAt_.int64(2), listAt_.int64(1)});
  }
  return result;
}

// Called with mu_ held exclusively, so it may use the write connection.
Result<void> SqliteStore::replay(const std::string& prefix, int64_t fromRevision,
                                 const WatchCallback& callback) {
  sqlite::Statement::Scope scope(replay_);
  replay_.bind(1, fromRevision);
  bindRange(replay_, 2, prefix);
  while (true) {
    auto row = replay_.step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    Event event;
    std::string key = replay_.blob(0);
    int64_t revision = replay_.int64(1);
    int64_t createRevision = replay_.int64(2);
    bool tombstone = replay_.int64(4) != 0;
    if (!replay_.isNull(5)) {
      event.prev = KeyValue{key, replay_.blob(7), replay_.int64(6), replay_.int64(5)};
    }
    if (tombstone) {
      // A delete carries the deleted value, as live delete events do.
      event.type = Event::Type::kDelete;
      event.kv = KeyValue{key, event.prev ? event.prev->value : std::string(), createRevision, revision};
    } else {
      event.type = Event::Type::kPut;
      event.kv = KeyValue{std::move(key), replay_.blob(3), createRevision, revision};
    }
    callback(event);
  }
  return {};
}

// Called with mu_ held exclusively.
Result<void> SqliteStore::compactRange(int64_t revision, int64_t from, int64_t to) {
  if (auto ok = writeDb_.exec("BEGIN IMMEDIATE", "begin compact"); !ok) return ok;
  auto run = [&](sqlite::Statement& stmt) -> Result<void> {
    sqlite::Statement::Scope scope(stmt);
    stmt.bind(1, revision);
    stmt.bind(2, from);
    stmt.bind(3, to);
    return stmt.run();
  };
  Result<void> ok = run(compactSuperseded_);
  if (ok) ok = run(compactTombstones_);
  if (ok) ok = writeDb_.exec("COMMIT", "commit compact");
  if (!ok) (void)writeDb_.exec("ROLLBACK", "roll back compact");
  return ok;
}

}  // namespace nanokube::store
