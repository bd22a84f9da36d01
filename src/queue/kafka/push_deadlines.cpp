#include "queue/kafka/push_deadlines.hpp"

namespace sealhook::kafka {

void PushDeadlines::add(const std::shared_ptr<Answer>& answer, Time deadline) {
  std::lock_guard lock(mu_);
  items_.emplace_back(deadline, answer);
}

std::vector<std::shared_ptr<Answer>> PushDeadlines::expired(Time now) {
  std::vector<std::shared_ptr<Answer>> out;
  std::lock_guard lock(mu_);
  while (!items_.empty() && items_.front().first <= now) {
    if (auto a = items_.front().second.lock(); a && a->claim()) out.push_back(std::move(a));
    items_.pop_front();
  }
  return out;
}

size_t PushDeadlines::size() const {
  std::lock_guard lock(mu_);
  return items_.size();
}

}  // namespace sealhook::kafka
