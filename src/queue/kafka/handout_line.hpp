#pragma once
// The consumed deliveries of one owned partition whose hand-out record is being written to the
// state topic. A delivery becomes leasable once its record is written and every delivery
// consumed before it in the partition is leasable too: the records are answered in order as a
// rule, but a failed write (timed out, refused) is written again, and what follows it waits, so
// an ordered endpoint's later delivery never overtakes its head.
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "queue/kafka/kafka_record.hpp"
#include "queue/queue.hpp"

namespace sealhook::kafka {

class HandoutLine {
 public:
  struct Item {
    int64_t offset = 0;
    std::shared_ptr<QueuedDelivery> delivery;
    DeliveryState state;  // the hand-out record being written
    // A first hand-out: recorded by its partition's hand-out mark (one record for many), not a
    // record of its own; answered by answer_marked().
    bool by_mark = false;
  };

  // Consumed at `offset` (after every offset added before), its record being written.
  void add(int64_t offset, std::shared_ptr<QueuedDelivery> delivery, const DeliveryState& state,
           bool by_mark = false);
  // The answer of the write for `offset`. Written: the deliveries that became leasable, in
  // offset order (none while an earlier one is still being written or failed). Failed: none;
  // rewrite() hands it out to be written again.
  std::vector<QueuedDelivery> answer(int64_t offset, bool written);
  // The answer of a hand-out mark through `through`: for every item by mark at or before it
  // still being written, as answer().
  std::vector<QueuedDelivery> answer_marked(int64_t through, bool written);
  // The items whose write failed, marked as being written again, each by a record of its own.
  std::vector<Item> rewrite();
  size_t size() const { return items_.size(); }

 private:
  enum class Step { kWriting, kWritten, kFailed };
  struct Entry {
    Item item;
    Step step = Step::kWriting;
  };
  std::vector<QueuedDelivery> pop_written();
  std::deque<Entry> items_;  // in offset order
};

}  // namespace sealhook::kafka
