#pragma once
// Moves most of SQLite's WAL checkpoint work off the writer's thread.
//
// By default SQLite checkpoints inside the commit that pushes the WAL past 1000
// pages, and with synchronous=NORMAL a checkpoint is where the fsyncs happen: the
// unlucky write copies 4 MB into the database file and waits for two fsyncs, tens
// of milliseconds on a busy disk. Instead, a WAL hook on the write connection
// reports the WAL's size after each commit, and a thread with its own connection
// runs PASSIVE checkpoints, which copy frames and fsync without blocking the writer.
//
// A background checkpoint alone never lets the WAL start over while writes keep
// coming: SQLite rewinds the WAL only when a write transaction begins and every
// frame has been copied, and the writer keeps appending frames behind the
// checkpointer. So once the thread has copied all but a short tail, the writer
// checkpoints that tail itself inside its commit (a few pages, little dirty data
// to fsync), and its next transaction rewinds the WAL. At kHardPages the writer
// waits for a running background checkpoint and then checkpoints whatever is
// left, which bounds the WAL when the thread cannot keep up with a burst.

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store/sqlite_db.h"

namespace nanokube::store {

class Checkpointer {
 public:
  // WAL sizes in pages (4 KiB).
  static constexpr int kSoftPages = 1000;  // Wake the thread from here on.
  static constexpr int kTailPages = 256;   // The writer copies a tail this short itself.
  static constexpr int kHardPages = 4000;  // The writer checkpoints whatever is left.

  // Opens a connection to `path` and installs the WAL hook on `writeDb`, which
  // must outlive the Checkpointer.
  static Result<std::unique_ptr<Checkpointer>> start(const std::string& path, sqlite::Db& writeDb);
  ~Checkpointer();

 private:
  Checkpointer() = default;
  static int onWalCommit(void* self, sqlite3* db, const char* name, int pages);
  void run();

  sqlite::Db db_;
  sqlite3* writeDb_ = nullptr;
  std::mutex mu_;
  std::condition_variable wake_;  // The thread has work (pending_) or must stop.
  std::condition_variable idle_;  // The thread finished a checkpoint.
  bool pending_ = false;
  bool stop_ = false;
  // The frames copied by the thread's last checkpoint, valid only while
  // generation_ (bumped each time the WAL starts over) is unchanged.
  int lastBackfilled_ = 0;
  uint64_t generation_ = 0;
  // The WAL size at the previous commit; only the writer (under the store's
  // writer lock) touches it.
  int previousPages_ = 0;
  std::thread thread_;
};

}  // namespace nanokube::store
