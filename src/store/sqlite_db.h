#pragma once
// A thin RAII layer over the SQLite C API, private to the store.
//
// Every failure becomes an Error whose message names the SQLite call and what the
// store was doing, e.g. "sqlite3_prepare (list): no such table: kv". A Db or a
// Statement is not thread-safe; the store serialises access with its own locks,
// so connections are opened with SQLITE_OPEN_NOMUTEX.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <sqlite3.h>

#include "common/error.h"

namespace nanokube::store::sqlite {

class Statement;

class Db {
 public:
  Db() = default;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  Db(Db&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  Db& operator=(Db&& other) noexcept;
  ~Db();

  // Opens (creating if missing) the database file at `path`.
  static Result<Db> open(const std::string& path);

  // Runs one or more statements that return no rows worth reading (pragmas, DDL,
  // BEGIN/COMMIT). `what` names the purpose for error messages.
  Result<void> exec(const char* sql, std::string_view what);

  Result<Statement> prepare(const char* sql, std::string_view what);

  sqlite3* raw() const { return db_; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

// A prepared statement meant to be reused: bind, step until done, then reset().
// Use a Statement::Scope to reset it on every path out of a function.
class Statement {
 public:
  Statement() = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  ~Statement();

  void bind(int index, int64_t value);
  // Binds bytes as a BLOB so that comparisons are memcmp, the same order as std::string.
  void bindBlob(int index, std::string_view value);
  void bindNull(int index);

  // Advances the statement: true when a row is available, false when done.
  Result<bool> step();
  // Steps a statement that must not return rows.
  Result<void> run();
  void reset();

  int64_t int64(int column) const;
  bool isNull(int column) const;
  std::string blob(int column) const;

  // Resets the statement and clears its bindings when it goes out of scope.
  class Scope {
   public:
    explicit Scope(Statement& stmt) : stmt_(stmt) {}
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
    ~Scope() { stmt_.reset(); }

   private:
    Statement& stmt_;
  };

 private:
  friend class Db;
  Statement(sqlite3* db, sqlite3_stmt* stmt, std::string_view what)
      : db_(db), stmt_(stmt), what_(what) {}
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  std::string what_;
};

// The Error for a failed SQLite call: `call (what): message`.
std::unexpected<Error> sqliteError(sqlite3* db, int rc, std::string_view call, std::string_view what);

}  // namespace nanokube::store::sqlite
