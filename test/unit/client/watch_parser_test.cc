#include "client/watch_parser.h"

#include <gtest/gtest.h>

namespace nanokube::client {
namespace {

std::string event(const std::string& type, const std::string& name) {
  return Json{{"type", type}, {"object", {{"metadata", {{"name", name}}}}}}.dump() + "\n";
}

TEST(WatchLineParser, SplitsAtEveryByteBoundary) {
  std::string stream = event("ADDED", "a") + event("MODIFIED", "a") + "\n" + event("DELETED", "b");
  // Every way of cutting the stream in two gives the same three events.
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    WatchLineParser p;
    auto first = p.feed(std::string_view(stream).substr(0, cut));
    ASSERT_TRUE(first) << cut;
    auto second = p.feed(std::string_view(stream).substr(cut));
    ASSERT_TRUE(second) << cut;
    std::vector<WatchEvent> all = *first;
    all.insert(all.end(), second->begin(), second->end());
    ASSERT_EQ(all.size(), 3u) << cut;
    EXPECT_EQ(all[0].type, "ADDED");
    EXPECT_EQ(all[1].type, "MODIFIED");
    EXPECT_EQ(all[2].type, "DELETED");
    EXPECT_EQ(all[2].object["metadata"]["name"], "b");
    EXPECT_EQ(p.pending(), 0u);
  }
}

TEST(WatchLineParser, ByteByByte) {
  std::string stream = event("ADDED", "a") + event("BOOKMARK", "");
  WatchLineParser p;
  std::vector<WatchEvent> all;
  for (char c : stream) {
    auto got = p.feed(std::string_view(&c, 1));
    ASSERT_TRUE(got);
    all.insert(all.end(), got->begin(), got->end());
  }
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].type, "BOOKMARK");
}

TEST(WatchLineParser, CrLfAndBlankLines) {
  WatchLineParser p;
  std::string text = "\r\n  \n" + event("ADDED", "x");
  text.insert(text.size() - 1, "\r");
  auto got = p.feed(text);
  ASSERT_TRUE(got) << got.error().message;
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].object["metadata"]["name"], "x");
}

TEST(WatchLineParser, ErrorEventCarriesTheStatus) {
  WatchLineParser p;
  auto got = p.feed(R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}})" "\n");
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].type, "ERROR");
  EXPECT_EQ((*got)[0].object["code"], 410);
}

TEST(WatchLineParser, MalformedLinesFail) {
  for (std::string bad : {"{not json}\n", "[1,2]\n", R"({"object":{}})" "\n", R"({"type":"ADDED"})" "\n",
                          R"({"type":"ADDED","object":"x"})" "\n", R"({"type":"","object":{}})" "\n"}) {
    WatchLineParser p;
    EXPECT_FALSE(p.feed(bad)) << bad;
  }
}

TEST(WatchLineParser, IncompleteLineIsHeld) {
  WatchLineParser p;
  auto got = p.feed(R"({"type":"ADDED","obj)");
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->empty());
  EXPECT_EQ(p.pending(), 20u);
}

}  // namespace
}  // namespace nanokube::client
