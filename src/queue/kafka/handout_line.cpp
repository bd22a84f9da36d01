#include "queue/kafka/handout_line.hpp"

#include <algorithm>

namespace sealhook::kafka {

void HandoutLine::add(int64_t offset, std::shared_ptr<QueuedDelivery> delivery,
                      const DeliveryState& state, bool by_mark) {
  items_.push_back(Entry{Item{offset, std::move(delivery), state, by_mark}});
}

std::vector<QueuedDelivery> HandoutLine::answer(int64_t offset, bool written) {
  std::vector<QueuedDelivery> ready;
  auto it = std::find_if(items_.begin(), items_.end(),
                         [&](const Entry& e) { return e.item.offset == offset; });
  if (it == items_.end() || it->step != Step::kWriting || it->item.by_mark)
    return ready;  // not this one's answer
  it->step = written ? Step::kWritten : Step::kFailed;
  return pop_written();
}

std::vector<QueuedDelivery> HandoutLine::answer_marked(int64_t through, bool written) {
  for (Entry& e : items_) {
    if (e.item.offset > through) break;
    if (e.item.by_mark && e.step == Step::kWriting)
      e.step = written ? Step::kWritten : Step::kFailed;
  }
  return pop_written();
}

std::vector<QueuedDelivery> HandoutLine::pop_written() {
  std::vector<QueuedDelivery> ready;
  while (!items_.empty() && items_.front().step == Step::kWritten) {
    ready.push_back(*items_.front().item.delivery);
    items_.pop_front();
  }
  return ready;
}

std::vector<HandoutLine::Item> HandoutLine::rewrite() {
  std::vector<Item> out;
  for (Entry& e : items_)
    if (e.step == Step::kFailed) {
      e.step = Step::kWriting;
      e.item.by_mark = false;
      out.push_back(e.item);
    }
  return out;
}

}  // namespace sealhook::kafka
