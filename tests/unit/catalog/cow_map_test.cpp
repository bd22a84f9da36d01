// CowMap against std::map: the same answers after any sequence of writes (small chunks, so
// splits and merges happen often), and a copy never sees writes made after it was taken.
#include "catalog/cow_map.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

namespace sealhook {
namespace {

using Small = CowMap<int, int, 4>;

template <size_t N>
std::vector<std::pair<int, int>> items(const CowMap<int, int, N>& m) {
  return {m.begin(), m.end()};
}
std::vector<std::pair<int, int>> items(const std::map<int, int>& m) { return {m.begin(), m.end()}; }

template <size_t N>
void expect_same(const CowMap<int, int, N>& got, const std::map<int, int>& want) {
  ASSERT_EQ(got.size(), want.size());
  ASSERT_EQ(items(got), items(want));
  for (int k = -1; k <= 201; ++k) {
    auto w = want.find(k);
    const int* g = got.find(k);
    ASSERT_EQ(g != nullptr, w != want.end()) << k;
    if (g) {
      EXPECT_EQ(*g, w->second) << k;
    }
    auto lb = got.lower_bound(k);
    auto wlb = want.lower_bound(k);
    ASSERT_EQ(lb == got.end(), wlb == want.end()) << k;
    if (wlb != want.end()) {
      EXPECT_EQ(lb->first, wlb->first) << k;
    }
    auto ub = got.upper_bound(k);
    auto wub = want.upper_bound(k);
    ASSERT_EQ(ub == got.end(), wub == want.end()) << k;
    if (wub != want.end()) {
      EXPECT_EQ(ub->first, wub->first) << k;
    }
  }
}

TEST(CowMapTest, EmptyMapAnswersNothing) {
  Small m;
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.find(1), nullptr);
  EXPECT_TRUE(m.begin() == m.end());
  EXPECT_TRUE(m.lower_bound(1) == m.end());
  EXPECT_FALSE(m.erase(1));
}

// Chunks of 4 split often; chunks of 8 also merge (a chunk under 8 / 4 joins its successor).
template <size_t N>
void random_writes_match_std_map(unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> key(0, 200), op(0, 9);
  CowMap<int, int, N> m;
  std::map<int, int> want;
  for (int step = 0; step < 5000; ++step) {
    const int k = key(rng);
    if (op(rng) < 6) {  // inserts outnumber erases, so the map grows and shrinks
      m.set(k, step);
      want[k] = step;
    } else {
      EXPECT_EQ(m.erase(k), want.erase(k) == 1);
    }
    if (step % 250 == 0) expect_same(m, want);
  }
  expect_same(m, want);
  for (auto it = want.begin(); it != want.end();) {  // erase everything: chunks merge, then go
    EXPECT_TRUE(m.erase(it->first));
    it = want.erase(it);
  }
  expect_same(m, want);
}

TEST(CowMapTest, MatchesStdMapUnderRandomWrites) {
  random_writes_match_std_map<4>(7);
  random_writes_match_std_map<8>(11);
  random_writes_match_std_map<64>(13);
}

TEST(CowMapTest, BuiltInOnePassItAnswersAndChangesLikeStdMap) {
  for (int n : {0, 1, 4, 5, 8, 9, 203}) {
    std::map<int, int> want;
    for (int k = 0; k < n; ++k) want[k * 2] = k;
    Small m = Small::from(std::map<int, int>(want));
    expect_same(m, want);
    for (int k = -1; k < 2 * n + 2; k += 3) {  // then written to: chunks fill, split, shrink
      m.set(k, -k);
      want[k] = -k;
      EXPECT_EQ(m.erase(k + 1), want.erase(k + 1) == 1);
    }
    expect_same(m, want);
  }
}

TEST(CowMapTest, CopiesAreUnaffectedByLaterWrites) {
  Small m;
  for (int k = 0; k < 100; ++k) m.set(k, k);
  const Small before = m;
  const auto before_items = items(before);
  m.set(50, -1);
  m.set(1000, 1000);
  m.erase(3);
  for (int k = 10; k < 40; ++k) m.erase(k);
  EXPECT_EQ(items(before), before_items);
  EXPECT_EQ(*before.find(50), 50);
  EXPECT_EQ(before.find(1000), nullptr);
  EXPECT_EQ(*m.find(50), -1);
  EXPECT_EQ(m.size(), 100u + 1 - 1 - 30);
}

TEST(CowMapTest, StringKeysKeepTheirOrder) {
  CowMap<std::string, int, 2> m;
  for (std::string k : {"ep_c", "ep_a", "ep_e", "ep_b", "ep_d"}) m.set(k, 1);
  std::string joined;
  for (const auto& [k, v] : m) joined += k + ",";
  EXPECT_EQ(joined, "ep_a,ep_b,ep_c,ep_d,ep_e,");
  EXPECT_EQ(m.upper_bound("ep_b")->first, "ep_c");
}

}  // namespace
}  // namespace sealhook
