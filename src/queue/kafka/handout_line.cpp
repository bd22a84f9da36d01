#include "queue/kafka/handout_line.hpp"

#include <algorithm>

namespace sealhook::kafka {

void HandoutLine::add(int64_t offset, std::shared_ptr<QueuedDelivery> delivery,
                      const DeliveryState& state) {
  items_.push_back(Entry{Item{offset, std::move(delivery), state}});
}

std::vector<QueuedDelivery> HandoutLine::answer(int64_t offset, bool written) {
  std::vector<QueuedDelivery> ready;
  auto it = std::find_if(items_.begin(), items_.end(),
                         [&](const Entry& e) { return e.item.offset == offset; });
  if (it == items_.end() || it->step != Step::kWriting) return ready;  // not this one's answer
  it->step = written ? Step::kWritten : Step::kFailed;
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
      out.push_back(e.item);
    }
  return out;
}

}  // namespace sealhook::kafka
