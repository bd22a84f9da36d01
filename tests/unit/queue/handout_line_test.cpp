#include "queue/kafka/handout_line.hpp"

#include <gtest/gtest.h>

namespace sealhook::kafka {
namespace {

void add(HandoutLine& line, int64_t offset, bool by_mark = false) {
  auto d = std::make_shared<QueuedDelivery>();
  d->id = "dlv_" + std::to_string(offset);
  line.add(offset, d, DeliveryState{DeliveryState::Kind::kHandout, 1, 0, offset}, by_mark);
}

std::vector<std::string> ids(const std::vector<QueuedDelivery>& ds) {
  std::vector<std::string> out;
  for (const auto& d : ds) out.push_back(d.id);
  return out;
}

using Ids = std::vector<std::string>;

TEST(HandoutLine, WrittenInOrderEachBecomesLeasableAtItsAnswer) {
  HandoutLine line;
  add(line, 10);
  add(line, 11);
  EXPECT_EQ(ids(line.answer(10, true)), Ids{"dlv_10"});
  EXPECT_EQ(ids(line.answer(11, true)), Ids{"dlv_11"});
  EXPECT_EQ(line.size(), 0u);
}

TEST(HandoutLine, AFailedWriteHoldsBackWhatFollowsUntilItIsWrittenAgain) {
  HandoutLine line;
  add(line, 1);  // an ordered endpoint's head
  add(line, 2);  // its successor, in the same partition
  EXPECT_TRUE(line.answer(1, false).empty());
  EXPECT_TRUE(line.answer(2, true).empty()) << "the successor must not overtake its head";
  auto again = line.rewrite();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].offset, 1);
  EXPECT_EQ(again[0].delivery->id, "dlv_1");
  EXPECT_TRUE(line.rewrite().empty()) << "being written again: not handed out twice";
  EXPECT_EQ(ids(line.answer(1, true)), (Ids{"dlv_1", "dlv_2"}));
  EXPECT_EQ(line.size(), 0u);
}

TEST(HandoutLine, AnswersOutOfOrderReleaseThePrefixOnly) {
  HandoutLine line;
  for (int64_t o = 5; o < 9; ++o) add(line, o);
  EXPECT_TRUE(line.answer(7, true).empty());
  EXPECT_TRUE(line.answer(6, true).empty());
  EXPECT_EQ(ids(line.answer(5, true)), (Ids{"dlv_5", "dlv_6", "dlv_7"}));
  EXPECT_EQ(line.size(), 1u);
}

TEST(HandoutLine, AnAnswerForNothingBeingWrittenChangesNothing) {
  HandoutLine line;
  add(line, 3);
  EXPECT_TRUE(line.answer(4, true).empty());  // never added
  EXPECT_TRUE(line.answer(3, false).empty());
  EXPECT_TRUE(line.answer(3, true).empty()) << "failed, not being written: a stray answer";
  EXPECT_EQ(line.rewrite().size(), 1u);
  EXPECT_EQ(ids(line.answer(3, true)), Ids{"dlv_3"});
}

TEST(HandoutLine, AMarkAnswersTheFirstHandoutsThroughItsOffsetOnly) {
  HandoutLine line;
  add(line, 1, true);
  add(line, 2);  // a record of its own (handed out before, by a previous owner)
  add(line, 3, true);
  add(line, 4, true);  // after the mark being written
  EXPECT_EQ(ids(line.answer_marked(3, true)), Ids{"dlv_1"}) << "2 waits for its own record";
  EXPECT_EQ(ids(line.answer(2, true)), (Ids{"dlv_2", "dlv_3"}));
  EXPECT_TRUE(line.answer(4, true).empty()) << "4 is the next mark's, not a record's";
  EXPECT_EQ(ids(line.answer_marked(4, true)), Ids{"dlv_4"});
  EXPECT_EQ(line.size(), 0u);
}

TEST(HandoutLine, AFailedMarkIsWrittenAgainAsRecordsOfTheirOwn) {
  HandoutLine line;
  add(line, 5, true);
  add(line, 6, true);
  EXPECT_TRUE(line.answer_marked(6, false).empty());
  EXPECT_TRUE(line.answer_marked(6, true).empty()) << "failed: answered once";
  auto again = line.rewrite();
  ASSERT_EQ(again.size(), 2u);
  EXPECT_FALSE(again[0].by_mark);
  EXPECT_FALSE(again[1].by_mark);
  EXPECT_TRUE(line.answer(6, true).empty());
  EXPECT_EQ(ids(line.answer(5, true)), (Ids{"dlv_5", "dlv_6"}));
}

}  // namespace
}  // namespace sealhook::kafka
