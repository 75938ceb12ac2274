#include "store/sqlite_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <shared_mutex>
#include <utility>

#include <fmt/format.h>

#include "store/sqlite_sql.h"

namespace nanokube::store {

namespace {

std::string errnoText(int err) {
  return fmt::format("{} ({})", std::strerror(err), strerrorname_np(err) ? strerrorname_np(err) : "?");
}

// Durability. The database runs in WAL mode with synchronous=NORMAL: a commit
// appends the transaction's pages to the -wal file with write(2) before the call
// returns, and fsync happens only at checkpoints. Once write(2) has returned, the
// data is in the kernel's page cache, which belongs to the kernel and not to the
// process, so a kill -9 (or any crash of the process) cannot lose it; recovery at
// the next open replays the WAL. Only a kernel crash or power loss can drop the
// last transactions before a checkpoint, a risk etcd avoids with an fsync per
// commit and that an embedded single-machine store accepts for a large saving in
// commit latency (tens of microseconds instead of milliseconds).
constexpr const char* kPragmas =
    "PRAGMA synchronous=NORMAL;"
    "PRAGMA busy_timeout=5000;";

Result<void> enableWal(sqlite::Db& db) {
  // journal_mode answers with the mode now in force; a filesystem without shared
  // memory support answers something else instead of failing.
  auto stmt = db.prepare("PRAGMA journal_mode=WAL", "enable WAL");
  if (!stmt) return std::unexpected(stmt.error());
  auto row = stmt->step();
  if (!row) return std::unexpected(row.error());
  std::string mode = *row ? stmt->blob(0) : std::string();
  if (mode != "wal") return fail(Code::kInternal, fmt::format("PRAGMA journal_mode=WAL: got {:?}", mode));
  return {};
}

Error conflict(const std::string& key, int64_t actual, int64_t expected) {
  return Error{Code::kConflict,
               fmt::format("compare failed for key {}: modRevision is {}, expected {}", key, actual, expected)};
}

}  // namespace

Result<std::unique_ptr<Store>> openSqliteStore(const std::string& path) { return SqliteStore::open(path); }

Result<std::unique_ptr<Store>> SqliteStore::open(const std::string& path) {
  std::unique_ptr<SqliteStore> store(new SqliteStore());
  if (auto ok = store->init(path); !ok) return std::unexpected(ok.error());
  return std::unique_ptr<Store>(std::move(store));
}

SqliteStore::~SqliteStore() = default;

SqliteStore::LockFile::~LockFile() {
  if (fd >= 0) ::close(fd);
}

Result<void> SqliteStore::init(const std::string& path) {
  std::filesystem::path file(path);
  if (file.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec) return fail(Code::kInternal, fmt::format("mkdir {}: {}", file.parent_path().string(), ec.message()));
  }

  // The in-memory index is only correct while this process is the sole writer, so
  // a second process opening the same store is refused rather than silently
  // diverging. flock is released by the kernel when the process dies, kill -9 included.
  std::string lockPath = path + ".lock";
  lock_.fd = ::open(lockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_.fd < 0) return fail(Code::kInternal, fmt::format("open {}: {}", lockPath, errnoText(errno)));
  if (::flock(lock_.fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    Code code = err == EWOULDBLOCK ? Code::kUnavailable : Code::kInternal;
    return fail(code, fmt::format("flock {}: {}{}", lockPath, errnoText(err),
                                  err == EWOULDBLOCK ? "; the store is open in another process" : ""));
  }

  auto writeDb = sqlite::Db::open(path);
  if (!writeDb) return std::unexpected(writeDb.error());
  writeDb_ = std::move(*writeDb);
  if (auto ok = enableWal(writeDb_); !ok) return ok;
  if (auto ok = writeDb_.exec(kPragmas, "pragmas"); !ok) return ok;
  if (auto ok = writeDb_.exec(sql::kSchema, "create schema"); !ok) return ok;

  auto readDb = sqlite::Db::open(path);
  if (!readDb) return std::unexpected(readDb.error());
  readDb_ = std::move(*readDb);
  if (auto ok = readDb_.exec(kPragmas, "pragmas"); !ok) return ok;
  if (auto ok = readDb_.exec("PRAGMA query_only=1;", "pragmas"); !ok) return ok;

  struct Prepared {
    sqlite::Db& db;
    sqlite::Statement& stmt;
    const char* sql;
    const char* what;
  };
  const Prepared statements[] = {
      {writeDb_, insert_, sql::kInsert, "insert"},
      {writeDb_, replay_, sql::kReplay, "watch replay"},
      {writeDb_, compactSuperseded_, sql::kCompactSuperseded, "compact"},
      {writeDb_, compactTombstones_, sql::kCompactTombstones, "compact"},
      {writeDb_, setCompacted_, sql::kSetCompacted, "compact"},
      {writeDb_, minRevision_, sql::kMinRevision, "compact"},
      {readDb_, getAt_, sql::kGetAt, "get at revision"},
      {readDb_, listAt_, sql::kListAt, "list at revision"},
      {readDb_, readCompacted_, sql::kReadCompacted, "read compaction point"},
  };
  for (const auto& p : statements) {
    auto stmt = p.db.prepare(p.sql, p.what);
    if (!stmt) return std::unexpected(stmt.error());
    p.stmt = std::move(*stmt);
  }
  if (auto ok = load(); !ok) return ok;
  auto checkpointer = Checkpointer::start(path, writeDb_);
  if (!checkpointer) return std::unexpected(checkpointer.error());
  checkpointer_ = std::move(*checkpointer);
  return {};
}

Result<void> SqliteStore::load() {
  auto stmt = writeDb_.prepare(sql::kLoadRevisions, "load revisions");
  if (!stmt) return std::unexpected(stmt.error());
  auto row = stmt->step();
  if (!row) return std::unexpected(row.error());
  // Compaction may have removed the newest rows (tombstones), but never a row newer
  // than the compaction point, which is persisted; so the larger of the two is the
  // revision the store had reached.
  int64_t maxRow = *row ? stmt->int64(0) : 0;
  int64_t compacted = *row ? stmt->int64(1) : 0;
  compacted_ = compacted;
  revision_ = std::max(maxRow, compacted);

  auto latest = writeDb_.prepare(sql::kLoadLatest, "load latest");
  if (!latest) return std::unexpected(latest.error());
  Index index;
  while (true) {
    auto next = latest->step();
    if (!next) return std::unexpected(next.error());
    if (!*next) break;
    if (latest->int64(4) != 0) continue;  // The key's newest row is a tombstone.
    index.emplace(latest->blob(0),
                  Entry{std::make_shared<const std::string>(latest->blob(3)), latest->int64(2), latest->int64(1)});
  }
  index_ = std::move(index);
  return {};
}

Result<void> SqliteStore::append(int64_t revision, const std::string& key, int64_t createRevision,
                                 int64_t prevRevision, const std::string& value, bool tombstone) {
  sqlite::Statement::Scope scope(insert_);
  insert_.bind(1, revision);
  insert_.bindBlob(2, key);
  insert_.bind(3, createRevision);
  insert_.bind(4, prevRevision);
  insert_.bindBlob(5, value);
  insert_.bind(6, tombstone ? 1 : 0);
  // A single statement outside BEGIN is its own transaction: committed (and, per
  // the durability note above, safe from kill -9) when step returns.
  return insert_.run();
}

Result<KeyValue> SqliteStore::get(const std::string& key, int64_t atRevision) const {
  if (atRevision < 0) return fail(Code::kBadRequest, fmt::format("negative revision {}", atRevision));
  {
    std::shared_lock lock(mu_);
    int64_t current = revision_.load();
    if (atRevision == 0 || atRevision == current) {
      auto it = index_.find(key);
      if (it == index_.end()) return fail(Code::kNotFound, fmt::format("key {} not found", key));
      Entry entry = it->second;
      lock.unlock();
      return KeyValue{key, *entry.value, entry.createRevision, entry.modRevision};
    }
    if (atRevision > current) {
      // Kubernetes answers a read from the future with "Too large resource version" (504).
      return fail(Code::kTimeout,
                  fmt::format("Too large resource version: {}, current: {}", atRevision, current));
    }
  }
  return getAt(key, atRevision);
}

Result<ListResult> SqliteStore::list(const std::string& prefix, int64_t atRevision, int64_t limit,
                                     const std::string& startAfter) const {
  if (atRevision < 0 || limit < 0) {
    return fail(Code::kBadRequest, fmt::format("negative revision {} or limit {}", atRevision, limit));
  }
  {
    std::shared_lock lock(mu_);
    int64_t current = revision_.load();
    if (atRevision == 0 || atRevision == current) {
      ListResult result;
      result.revision = current;
      std::vector<std::shared_ptr<const std::string>> values;
      auto it = startAfter.empty() || startAfter < prefix ? index_.lower_bound(prefix)
                                                          : index_.upper_bound(startAfter);
      for (; it != index_.end() && it->first.starts_with(prefix); ++it) {
        if (limit > 0 && std::ssize(result.items) == limit) {
          result.more = true;
          break;
        }
        result.items.push_back(KeyValue{it->first, {}, it->second.createRevision, it->second.modRevision});
        values.push_back(it->second.value);
      }
      lock.unlock();
      for (size_t i = 0; i < values.size(); ++i) result.items[i].value = *values[i];
      return result;
    }
    if (atRevision > current) {
      return fail(Code::kTimeout,
                  fmt::format("Too large resource version: {}, current: {}", atRevision, current));
    }
  }
  return listAt(prefix, atRevision, limit, startAfter);
}

Result<KeyValue> SqliteStore::create(const std::string& key, const std::string& value) {
  std::unique_lock lock(mu_);
  if (index_.contains(key)) return fail(Code::kAlreadyExists, fmt::format("key {} already exists", key));
  int64_t revision = revision_.load() + 1;
  if (auto ok = append(revision, key, revision, 0, value, false); !ok) return std::unexpected(ok.error());
  index_.emplace(key, Entry{std::make_shared<const std::string>(value), revision, revision});
  revision_ = revision;
  Event event{Event::Type::kPut, KeyValue{key, value, revision, revision}, std::nullopt};
  hub_->deliver(event);
  return std::move(event.kv);
}

Result<KeyValue> SqliteStore::update(const std::string& key, const std::string& value,
                                     int64_t expectedModRevision) {
  std::unique_lock lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) return fail(Code::kNotFound, fmt::format("key {} not found", key));
  Entry& entry = it->second;
  if (expectedModRevision != 0 && expectedModRevision != entry.modRevision) {
    return std::unexpected(conflict(key, entry.modRevision, expectedModRevision));
  }
  int64_t revision = revision_.load() + 1;
  if (auto ok = append(revision, key, entry.createRevision, entry.modRevision, value, false); !ok) {
    return std::unexpected(ok.error());
  }
  Event event{Event::Type::kPut, KeyValue{key, value, entry.createRevision, revision},
              KeyValue{key, *entry.value, entry.createRevision, entry.modRevision}};
  entry.value = std::make_shared<const std::string>(value);
  entry.modRevision = revision;
  revision_ = revision;
  hub_->deliver(event);
  return std::move(event.kv);
}

Result<KeyValue> SqliteStore::remove(const std::string& key, int64_t expectedModRevision) {
  std::unique_lock lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) return fail(Code::kNotFound, fmt::format("key {} not found", key));
  Entry& entry = it->second;
  if (expectedModRevision != 0 && expectedModRevision != entry.modRevision) {
    return std::unexpected(conflict(key, entry.modRevision, expectedModRevision));
  }
  int64_t revision = revision_.load() + 1;
  // The tombstone row carries no value: replay finds the deleted value through
  // prev_revision, like every other event's `prev`.
  if (auto ok = append(revision, key, entry.createRevision, entry.modRevision, {}, true); !ok) {
    return std::unexpected(ok.error());
  }
  KeyValue prev{key, *entry.value, entry.createRevision, entry.modRevision};
  index_.erase(it);
  revision_ = revision;
  Event event{Event::Type::kDelete, KeyValue{key, prev.value, prev.createRevision, revision}, std::move(prev)};
  hub_->deliver(event);
  return std::move(event.kv);
}

Result<std::unique_ptr<Watch>> SqliteStore::watch(const std::string& prefix, int64_t fromRevision,
                                                  WatchCallback callback) {
  if (fromRevision < 0) return fail(Code::kBadRequest, fmt::format("negative revision {}", fromRevision));
  // Holding the writer lock across replay and registration means no write can
  // commit in between: the last replayed event and the first live one are adjacent.
  std::unique_lock lock(mu_);
  int64_t compacted = compacted_.load();
  if (fromRevision < compacted) {
    return fail(Code::kGone, fmt::format("too old resource version: {} ({})", fromRevision, compacted));
  }
  if (fromRevision > revision_.load()) {
    // Live events up to fromRevision would otherwise be delivered although they are
    // not "after" it; Kubernetes answers such a watch the way it answers a read.
    return fail(Code::kTimeout,
                fmt::format("Too large resource version: {}, current: {}", fromRevision, revision_.load()));
  }
  if (fromRevision < revision_.load()) {
    if (auto ok = replay(prefix, fromRevision, callback); !ok) return std::unexpected(ok.error());
  }
  return hub_->add(prefix, std::move(callback));
}

Result<void> SqliteStore::compact(int64_t revision) {
  std::lock_guard compactLock(compactMu_);
  int64_t from = 0;
  {
    std::unique_lock lock(mu_);
    if (revision > revision_.load()) {
      return fail(Code::kBadRequest,
                  fmt::format("compact: revision {} is newer than the store ({})", revision, revision_.load()));
    }
    // Compacting at or below the current point changes nothing; answering success
    // keeps a periodic compactor idempotent.
    if (revision <= compacted_.load()) return {};
    // The compaction point is published before any row goes: from then on reads
    // and watches below it are Gone, so nobody can observe the deletions, which
    // therefore need not be one transaction. A crash part-way leaves only
    // unreachable rows, which the next compaction removes.
    {
      sqlite::Statement::Scope scope(setCompacted_);
      setCompacted_.bind(1, revision);
      if (auto ok = setCompacted_.run(); !ok) return ok;
    }
    compacted_ = revision;
    sqlite::Statement::Scope scope(minRevision_);
    auto row = minRevision_.step();
    if (!row) return std::unexpected(row.error());
    from = *row ? minRevision_.int64(0) : 0;
  }
  // Deleting in bounded steps, each under the writer lock, keeps a compaction of a
  // large history from stalling writes for longer than one step.
  constexpr int64_t kStep = 2000;
  for (int64_t lo = from; lo <= revision; lo += kStep) {
    std::unique_lock lock(mu_);
    if (auto ok = compactRange(revision, lo, std::min(lo + kStep, revision + 1)); !ok) return ok;
  }
  return {};
}

}  // namespace nanokube::store
