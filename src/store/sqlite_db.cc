#include "store/sqlite_db.h"

#include <utility>

#include <fmt/format.h>

namespace nanokube::store::sqlite {

std::unexpected<Error> sqliteError(sqlite3* db, int rc, std::string_view call, std::string_view what) {
  // sqlite3_errmsg describes the most recent failure on the connection, which is
  // more specific than sqlite3_errstr(rc) (it names the table or constraint).
  const char* message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  // A busy or full database is a condition the caller may retry; everything else
  // is a bug or a broken disk.
  int primary = rc & 0xff;
  Code code = (primary == SQLITE_BUSY || primary == SQLITE_LOCKED || primary == SQLITE_FULL)
                  ? Code::kUnavailable
                  : Code::kInternal;
  return fail(code, fmt::format("{} ({}): {}", call, what, message));
}

Db& Db::operator=(Db&& other) noexcept {
  if (this != &other) {
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

Db::~Db() {
  // close_v2 defers the close until every statement is finalized, so the order in
  // which the store's members are destroyed does not matter.
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

Result<Db> Db::open(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  Db db(raw);  // Owns the handle even when the open failed, as SQLite requires.
  if (rc != SQLITE_OK) return sqliteError(raw, rc, "sqlite3_open_v2", path);
  sqlite3_extended_result_codes(raw, 1);
  return db;
}

Result<void> Db::exec(const char* sql, std::string_view what) {
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return sqliteError(db_, rc, "sqlite3_exec", what);
  return {};
}

Result<Statement> Db::prepare(const char* sql, std::string_view what) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return sqliteError(db_, rc, "sqlite3_prepare", what);
  return Statement(db_, stmt, what);
}

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      stmt_(std::exchange(other.stmt_, nullptr)),
      what_(std::move(other.what_)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
    what_ = std::move(other.what_);
  }
  return *this;
}

Statement::~Statement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

void Statement::bind(int index, int64_t value) { sqlite3_bind_int64(stmt_, index, value); }

void Statement::bindBlob(int index, std::string_view value) {
  // A zero-length blob must still be a BLOB (not NULL), so pass a non-null pointer.
  static const char kEmpty = 0;
  sqlite3_bind_blob64(stmt_, index, value.empty() ? &kEmpty : value.data(), value.size(),
                      SQLITE_TRANSIENT);
}

void Statement::bindNull(int index) { sqlite3_bind_null(stmt_, index); }

Result<bool> Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqliteError(db_, rc, "sqlite3_step", what_);
}

Result<void> Statement::run() {
  auto row = step();
  if (!row) return std::unexpected(row.error());
  return {};
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t Statement::int64(int column) const { return sqlite3_column_int64(stmt_, column); }

bool Statement::isNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

std::string Statement::blob(int column) const {
  // sqlite3_column_blob must be called before sqlite3_column_bytes (SQLite docs,
  // "Result Values From A Query"), so the size refers to the returned buffer.
  const void* data = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr || size <= 0) return {};
  return std::string(static_cast<const char*>(data), static_cast<size_t>(size));
}

}  // namespace nanokube::store::sqlite
