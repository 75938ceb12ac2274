#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <string>
#include <vector>

#include "store/store.h"
#include "store_test_util.h"

namespace nanokube::store {
namespace {

using testing::openOrDie;
using testing::TempDir;

// Counts the rows of the revision table, read with SQLite directly.
int64_t storedRows(const std::string& path) {
  sqlite3* db = nullptr;
  int64_t rows = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM kv", -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      rows = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return rows;
}

std::vector<std::string> keysOf(const ListResult& list) {
  std::vector<std::string> keys;
  for (const auto& kv : list.items) keys.push_back(kv.key);
  return keys;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = openOrDie(dir_.file("store.db"));
    ASSERT_NE(store_, nullptr);
  }
  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(SqliteStoreTest, EmptyStoreStartsAtRevisionZero) {
  EXPECT_EQ(store_->revision(), 0);
  EXPECT_EQ(store_->compactedRevision(), 0);
  auto got = store_->get("/a");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Code::kNotFound);
}

TEST_F(SqliteStoreTest, CreateGetUpdateAdvanceOneRevisionEach) {
  auto created = store_->create("/pods/default/a", "v1");
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->key, "/pods/default/a");
  EXPECT_EQ(created->value, "v1");
  EXPECT_EQ(created->createRevision, 1);
  EXPECT_EQ(created->modRevision, 1);
  EXPECT_EQ(store_->revision(), 1);

  auto got = store_->get("/pods/default/a");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->value, "v1");
  EXPECT_EQ(got->modRevision, 1);

  auto updated = store_->update("/pods/default/a", "v2", 1);
  ASSERT_TRUE(updated) << updated.error().message;
  EXPECT_EQ(updated->value, "v2");
  EXPECT_EQ(updated->createRevision, 1);
  EXPECT_EQ(updated->modRevision, 2);

  auto any = store_->update("/pods/default/a", "v3", 0);
  ASSERT_TRUE(any) << any.error().message;
  EXPECT_EQ(any->modRevision, 3);
  EXPECT_EQ(store_->get("/pods/default/a")->value, "v3");
  EXPECT_EQ(store_->revision(), 3);
}

TEST_F(SqliteStoreTest, CreateTwiceIsAlreadyExists) {
  ASSERT_TRUE(store_->create("/a", "1"));
  auto again = store_->create("/a", "2");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Code::kAlreadyExists);
  EXPECT_EQ(store_->revision(), 1);  // A failed write does not advance the revision.
  EXPECT_EQ(store_->get("/a")->value, "1");
}

TEST_F(SqliteStoreTest, StaleCompareIsConflict) {
  ASSERT_TRUE(store_->create("/a", "1"));
  ASSERT_TRUE(store_->update("/a", "2", 1));
  auto stale = store_->update("/a", "3", 1);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, Code::kConflict);
  auto staleDelete = store_->remove("/a", 1);
  ASSERT_FALSE(staleDelete);
  EXPECT_EQ(staleDelete.error().code, Code::kConflict);
  EXPECT_EQ(store_->get("/a")->value, "2");
  EXPECT_EQ(store_->revision(), 2);
}

TEST_F(SqliteStoreTest, UpdateOrDeleteOfMissingKeyIsNotFound) {
  auto updated = store_->update("/missing", "x", 0);
  ASSERT_FALSE(updated);
  EXPECT_EQ(updated.error().code, Code::kNotFound);
  auto removed = store_->remove("/missing", 0);
  ASSERT_FALSE(removed);
  EXPECT_EQ(removed.error().code, Code::kNotFound);
}

TEST_F(SqliteStoreTest, DeleteReturnsLastValueAtTheDeleteRevision) {
  ASSERT_TRUE(store_->create("/a", "1"));
  ASSERT_TRUE(store_->update("/a", "2", 0));
  auto removed = store_->remove("/a", 2);
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(removed->value, "2");
  EXPECT_EQ(removed->createRevision, 1);
  EXPECT_EQ(removed->modRevision, 3);
  EXPECT_EQ(store_->get("/a").error().code, Code::kNotFound);

  // Re-creating starts a new life: createRevision is the new write's revision.
  auto recreated = store_->create("/a", "3");
  ASSERT_TRUE(recreated);
  EXPECT_EQ(recreated->createRevision, 4);
}

TEST_F(SqliteStoreTest, ListByPrefixIsSortedAndExcludesNeighbours) {
  for (const char* key : {"/pods/b/2", "/pods/a/1", "/pods/b/1", "/podsx/1", "/pod/1", "/services/a"}) {
    ASSERT_TRUE(store_->create(key, key));
  }
  auto list = store_->list("/pods/");
  ASSERT_TRUE(list) << list.error().message;
  EXPECT_EQ(keysOf(*list), (std::vector<std::string>{"/pods/a/1", "/pods/b/1", "/pods/b/2"}));
  EXPECT_EQ(list->revision, 6);
  EXPECT_FALSE(list->more);
  EXPECT_EQ(list->items[0].value, "/pods/a/1");

  auto all = store_->list("");
  ASSERT_TRUE(all);
  EXPECT_EQ(all->items.size(), 6u);
}

TEST_F(SqliteStoreTest, ListPaginatesWithLimitAndStartAfter) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store_->create("/k/" + std::to_string(i), "v"));
  ASSERT_TRUE(store_->create("/l/0", "v"));

  auto page1 = store_->list("/k/", 0, 2);
  ASSERT_TRUE(page1);
  EXPECT_EQ(keysOf(*page1), (std::vector<std::string>{"/k/0", "/k/1"}));
  EXPECT_TRUE(page1->more);

  auto page2 = store_->list("/k/", 0, 2, "/k/1");
  ASSERT_TRUE(page2);
  EXPECT_EQ(keysOf(*page2), (std::vector<std::string>{"/k/2", "/k/3"}));
  EXPECT_TRUE(page2->more);

  auto page3 = store_->list("/k/", 0, 2, "/k/3");
  ASSERT_TRUE(page3);
  EXPECT_EQ(keysOf(*page3), (std::vector<std::string>{"/k/4"}));
  EXPECT_FALSE(page3->more);

  // An exact fit is not "more".
  auto exact = store_->list("/k/", 0, 5);
  ASSERT_TRUE(exact);
  EXPECT_EQ(exact->items.size(), 5u);
  EXPECT_FALSE(exact->more);
}

TEST_F(SqliteStoreTest, ReadsAtAnOlderRevisionSeeThatState) {
  ASSERT_TRUE(store_->create("/k/a", "a1"));  // 1
  ASSERT_TRUE(store_->create("/k/b", "b1"));  // 2
  ASSERT_TRUE(store_->update("/k/a", "a2", 0));  // 3
  ASSERT_TRUE(store_->remove("/k/b", 0));  // 4
  ASSERT_TRUE(store_->create("/k/c", "c1"));  // 5

  auto a1 = store_->get("/k/a", 2);
  ASSERT_TRUE(a1) << a1.error().message;
  EXPECT_EQ(a1->value, "a1");
  EXPECT_EQ(a1->modRevision, 1);
  EXPECT_EQ(store_->get("/k/a", 3)->value, "a2");
  EXPECT_EQ(store_->get("/k/b", 3)->value, "b1");
  EXPECT_EQ(store_->get("/k/b", 4).error().code, Code::kNotFound);
  EXPECT_EQ(store_->get("/k/c", 4).error().code, Code::kNotFound);

  auto at2 = store_->list("/k/", 2);
  ASSERT_TRUE(at2) << at2.error().message;
  EXPECT_EQ(at2->revision, 2);
  EXPECT_EQ(keysOf(*at2), (std::vector<std::string>{"/k/a", "/k/b"}));
  EXPECT_EQ(at2->items[0].value, "a1");

  auto at4 = store_->list("/k/", 4);
  ASSERT_TRUE(at4);
  EXPECT_EQ(keysOf(*at4), (std::vector<std::string>{"/k/a"}));
  EXPECT_EQ(at4->items[0].value, "a2");

  auto paged = store_->list("/k/", 3, 1, "/k/a");
  ASSERT_TRUE(paged);
  EXPECT_EQ(keysOf(*paged), (std::vector<std::string>{"/k/b"}));
  EXPECT_FALSE(paged->more);

  auto future = store_->get("/k/a", 99);
  ASSERT_FALSE(future);
  EXPECT_EQ(future.error().code, Code::kTimeout);
}

TEST_F(SqliteStoreTest, CompactionMakesOlderReadsGoneAndKeepsLiveState) {
  ASSERT_TRUE(store_->create("/k/a", "a1"));     // 1
  ASSERT_TRUE(store_->update("/k/a", "a2", 0));  // 2
  ASSERT_TRUE(store_->create("/k/b", "b1"));     // 3
  ASSERT_TRUE(store_->remove("/k/b", 0));        // 4
  ASSERT_TRUE(store_->update("/k/a", "a3", 0));  // 5
  ASSERT_TRUE(store_->compact(4));
  EXPECT_EQ(store_->compactedRevision(), 4);

  auto old = store_->get("/k/a", 3);
  ASSERT_FALSE(old);
  EXPECT_EQ(old.error().code, Code::kGone);
  EXPECT_EQ(old.error().message, "too old resource version: 3 (4)");
  EXPECT_EQ(store_->list("/k/", 2).error().code, Code::kGone);

  // The compaction point itself stays readable.
  auto at4 = store_->list("/k/", 4);
  ASSERT_TRUE(at4) << at4.error().message;
  EXPECT_EQ(keysOf(*at4), (std::vector<std::string>{"/k/a"}));
  EXPECT_EQ(at4->items[0].value, "a2");
  EXPECT_EQ(store_->get("/k/a")->value, "a3");

  EXPECT_TRUE(store_->compact(2));  // Older than the current point: nothing to do.
  EXPECT_EQ(store_->compactedRevision(), 4);
  EXPECT_FALSE(store_->compact(6));  // The future cannot be compacted.
}

TEST(SqliteStoreReopen, ReopenKeepsDataRevisionAndCompactionPoint) {
  TempDir dir;
  std::string path = dir.file("sub/dir/store.db");
  {
    auto store = openOrDie(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->create("/a", "1"));     // 1
    ASSERT_TRUE(store->create("/b", "1"));     // 2
    ASSERT_TRUE(store->update("/a", "2", 1));  // 3
    ASSERT_TRUE(store->compact(3));
    ASSERT_TRUE(store->remove("/b", 0));       // 4
    // A second process (or handle) must not open the same store.
    auto second = openSqliteStore(path);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, Code::kUnavailable);
  }
  auto store = openOrDie(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->revision(), 4);
  EXPECT_EQ(store->compactedRevision(), 3);
  auto a = store->get("/a");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->value, "2");
  EXPECT_EQ(a->createRevision, 1);
  EXPECT_EQ(a->modRevision, 3);
  EXPECT_EQ(store->get("/b").error().code, Code::kNotFound);
  EXPECT_EQ(store->get("/b", 3)->value, "1");
  auto next = store->create("/c", "1");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->modRevision, 5);
}

TEST(SqliteStoreReopen, RevisionSurvivesCompactingAwayTheNewestTombstone) {
  TempDir dir;
  std::string path = dir.file("store.db");
  {
    auto store = openOrDie(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->create("/a", "1"));  // 1
    ASSERT_TRUE(store->create("/b", "1"));  // 2
    ASSERT_TRUE(store->remove("/b", 0));    // 3
    ASSERT_TRUE(store->compact(3));         // Removes the tombstone at 3.
  }
  auto store = openOrDie(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->revision(), 3);
  EXPECT_EQ(store->create("/c", "1")->modRevision, 4);
}

// Compaction deletes in steps of a few thousand revisions; a deleted key whose
// rows span several steps must stay deleted, also after a restart.
TEST(SqliteStoreCompaction, LongHistoryIsCompactedAcrossStepsWithoutResurrection) {
  TempDir dir;
  std::string path = dir.file("store.db");
  constexpr int kKeys = 3000;
  {
    auto store = openOrDie(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->create("/gone", "old"));  // 1
    for (int i = 0; i < kKeys; ++i) ASSERT_TRUE(store->create("/k/" + std::to_string(i), "v1"));
    for (int i = 0; i < kKeys; i += 2) ASSERT_TRUE(store->update("/k/" + std::to_string(i), "v2", 0));
    ASSERT_TRUE(store->update("/gone", "newer", 0));
    ASSERT_TRUE(store->remove("/gone", 0));
    int64_t point = store->revision();
    ASSERT_TRUE(store->create("/after", "x"));
    ASSERT_TRUE(store->update("/k/1", "v3", 0));
    ASSERT_TRUE(store->compact(point));
    EXPECT_EQ(store->get("/gone").error().code, Code::kNotFound);
    EXPECT_EQ(store->get("/gone", point).error().code, Code::kNotFound);
    auto atPoint = store->list("/k/", point);
    ASSERT_TRUE(atPoint) << atPoint.error().message;
    ASSERT_EQ(atPoint->items.size(), static_cast<size_t>(kKeys));
    EXPECT_EQ(atPoint->items[1].key, "/k/1");
    EXPECT_EQ(atPoint->items[1].value, "v1");
  }
  // Left: one row per key live at the compaction point, plus the two writes after it.
  EXPECT_EQ(storedRows(path), kKeys + 2);
  auto store = openOrDie(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->get("/gone").error().code, Code::kNotFound);
  EXPECT_EQ(store->list("")->items.size(), static_cast<size_t>(kKeys + 1));
  EXPECT_EQ(store->get("/k/0")->value, "v2");
  EXPECT_EQ(store->get("/k/1")->value, "v3");
}

// SQLite's own auto-checkpoint is replaced by the store's checkpointer; this
// checks that the WAL is still checkpointed and rewound under sustained writes:
// without that it would hold every byte written (48 MiB here).
TEST(SqliteStoreWal, WalStaysBoundedUnderSustainedWrites) {
  TempDir dir;
  std::string path = dir.file("store.db");
  auto store = openOrDie(path);
  ASSERT_NE(store, nullptr);
  const std::string value(8192, 'v');
  for (int i = 0; i < 6000; ++i) ASSERT_TRUE(store->create("/k/" + std::to_string(i), value));
  auto walBytes = std::filesystem::file_size(path + "-wal");
  EXPECT_LT(walBytes, 20u << 20);  // Checkpointer::kHardPages is 16 MiB.
  EXPECT_EQ(store->get("/k/5999")->value, value);
}

}  // namespace
}  // namespace nanokube::store
