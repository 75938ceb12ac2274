#pragma once
// The SQL text of the SQLite backend, in one place so the schema and the queries
// that depend on it are read together. Keys and values are bound as BLOBs, so
// every comparison is memcmp and sorts exactly like std::string.

namespace nanokube::store::sql {

// revision is the INTEGER PRIMARY KEY (the rowid), so replay in revision order is
// a range scan of the table itself; (key, revision) serves reads at a revision.
inline constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS kv (
  revision INTEGER PRIMARY KEY,
  key BLOB NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision INTEGER NOT NULL,
  value BLOB NOT NULL,
  tombstone INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS kv_key_revision ON kv (key, revision);
CREATE TABLE IF NOT EXISTS meta (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
)sql";

inline constexpr const char* kInsert =
    "INSERT INTO kv (revision, key, create_revision, prev_revision, value, tombstone) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

inline constexpr const char* kLoadRevisions =
    "SELECT (SELECT IFNULL(MAX(revision), 0) FROM kv), "
    "IFNULL((SELECT value FROM meta WHERE name = 'compacted'), 0)";

// SQLite takes the bare columns of a MAX() aggregate from the row holding the
// maximum (https://sqlite.org/lang_select.html#bareagg): each key's newest row.
inline constexpr const char* kLoadLatest =
    "SELECT key, MAX(revision), create_revision, value, tombstone FROM kv GROUP BY key";

inline constexpr const char* kReadCompacted =
    "SELECT IFNULL((SELECT value FROM meta WHERE name = 'compacted'), 0)";

inline constexpr const char* kGetAt =
    "SELECT revision, create_revision, value, tombstone FROM kv "
    "WHERE key = ?1 AND revision <= ?2 ORDER BY revision DESC LIMIT 1";

// ?1 revision, ?2 prefix, ?3 end of the prefix range (NULL: none), ?4 startAfter
// (NULL: none), ?5 limit (-1: none). Tombstones are dropped after choosing each
// key's newest row, so a key deleted before ?1 is absent rather than older.
inline constexpr const char* kListAt = R"sql(
SELECT key, rev, crev, value FROM (
  SELECT key, MAX(revision) AS rev, create_revision AS crev, value, tombstone AS tomb
  FROM kv
  WHERE revision <= ?1 AND key >= ?2 AND (?3 IS NULL OR key < ?3) AND (?4 IS NULL OR key > ?4)
  GROUP BY key)
WHERE tomb = 0 ORDER BY key LIMIT ?5
)sql";

// ?1 fromRevision, ?2 prefix, ?3 end of the prefix range (NULL: none).
inline constexpr const char* kReplay = R"sql(
SELECT a.key, a.revision, a.create_revision, a.value, a.tombstone,
       p.revision, p.create_revision, p.value
FROM kv AS a LEFT JOIN kv AS p ON p.revision = a.prev_revision
WHERE a.revision > ?1 AND a.key >= ?2 AND (?3 IS NULL OR a.key < ?3)
ORDER BY a.revision
)sql";

// Compaction runs over revision ranges [?2, ?3), in increasing order, in separate
// transactions. A row is superseded at ?1 when a newer row of the same key is
// still at or below ?1: reads at ?1 or later can never return it.
inline constexpr const char* kCompactSuperseded = R"sql(
DELETE FROM kv WHERE revision >= ?2 AND revision < ?3 AND revision < ?1 AND revision < (
  SELECT MAX(newer.revision) FROM kv AS newer WHERE newer.key = kv.key AND newer.revision <= ?1)
)sql";

// A tombstone at or below ?1 answers "not found" exactly as no row does, and no
// later row points at it (a create after a delete has prev_revision 0). It must go
// after the rows it supersedes, which lie in the same or an earlier range: were it
// deleted first, an older row of the deleted key would look live again.
inline constexpr const char* kCompactTombstones =
    "DELETE FROM kv WHERE revision >= ?2 AND revision < ?3 AND revision <= ?1 AND tombstone = 1";

inline constexpr const char* kMinRevision = "SELECT IFNULL(MIN(revision), 0) FROM kv";

inline constexpr const char* kSetCompacted =
    "INSERT INTO meta (name, value) VALUES ('compacted', ?1) "
    "ON CONFLICT (name) DO UPDATE SET value = excluded.value";

}  // namespace nanokube::store::sql
