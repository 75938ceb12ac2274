#include "store/checkpointer.h"

namespace nanokube::store {

Result<std::unique_ptr<Checkpointer>> Checkpointer::start(const std::string& path, sqlite::Db& writeDb) {
  std::unique_ptr<Checkpointer> checkpointer(new Checkpointer());
  auto db = sqlite::Db::open(path);
  if (!db) return std::unexpected(db.error());
  checkpointer->db_ = std::move(*db);
  // A connection learns that the database is in WAL mode only when it first reads
  // it; until then sqlite3_wal_checkpoint_v2 silently does nothing.
  if (auto ok = checkpointer->db_.exec("PRAGMA synchronous=NORMAL; SELECT count(*) FROM sqlite_master;",
                                       "open checkpointer");
      !ok) {
    return std::unexpected(ok.error());
  }
  checkpointer->writeDb_ = writeDb.raw();
  // Installing a WAL hook replaces SQLite's auto-checkpoint (itself a WAL hook),
  // so from here on this class alone decides when to checkpoint.
  sqlite3_wal_hook(writeDb.raw(), &Checkpointer::onWalCommit, checkpointer.get());
  checkpointer->thread_ = std::thread([c = checkpointer.get()] { c->run(); });
  return checkpointer;
}

Checkpointer::~Checkpointer() {
  sqlite3_wal_hook(writeDb_, nullptr, nullptr);
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

// Runs on the writer's thread inside its commit, after the transaction is durable,
// while the store holds its writer lock (so no other frame can be appended).
int Checkpointer::onWalCommit(void* self, sqlite3* db, const char* name, int pages) {
  auto* c = static_cast<Checkpointer*>(self);
  bool restarted = pages < c->previousPages_;
  c->previousPages_ = pages;
  if (restarted) {
    std::lock_guard lock(c->mu_);
    ++c->generation_;
    c->lastBackfilled_ = 0;
  }
  if (pages < kSoftPages) return SQLITE_OK;
  bool copyTail = false;
  {
    std::unique_lock lock(c->mu_);
    if (pages >= kHardPages) {
      // Only this hook sets pending_, so once it is clear no background
      // checkpoint can be running and the one below cannot be refused as busy.
      c->idle_.wait(lock, [c] { return !c->pending_ || c->stop_; });
      copyTail = true;
    } else if (c->lastBackfilled_ > 0 && pages - c->lastBackfilled_ <= kTailPages) {
      copyTail = true;
    } else if (!c->pending_) {
      c->pending_ = true;
      c->wake_.notify_one();
    }
  }
  // On the tail path SQLITE_BUSY only means the thread is checkpointing right now;
  // the next commit tries again.
  if (copyTail) sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  return SQLITE_OK;
}

void Checkpointer::run() {
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait(lock, [this] { return pending_ || stop_; });
    if (stop_) return;
    uint64_t generation = generation_;
    lock.unlock();
    // A failed checkpoint is harmless: the WAL keeps the data and a later commit
    // asks again.
    int backfilled = 0;
    int rc = sqlite3_wal_checkpoint_v2(db_.raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, &backfilled);
    lock.lock();
    // Figures from a WAL generation that has since started over would mislead the writer.
    if (rc == SQLITE_OK && generation == generation_) lastBackfilled_ = backfilled;
    pending_ = false;
    idle_.notify_all();
  }
}

}  // namespace nanokube::store
