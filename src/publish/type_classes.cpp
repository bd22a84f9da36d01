#include "publish/type_classes.hpp"

namespace sealhook {

TypeClassCounts::TypeClassCounts(size_t max_classes)
    : max_(max_classes), slots_(std::make_unique<Slot[]>(max_classes)) {}

std::string_view TypeClassCounts::class_of(std::string_view event_type) {
  return event_type.substr(0, event_type.find('.'));
}

TypeClassCounts::Slot* TypeClassCounts::find(std::string_view name, size_t from, size_t to) const {
  for (size_t i = from; i < to; ++i)
    if (slots_[i].name == name) return &slots_[i];
  return nullptr;
}

void TypeClassCounts::count(std::string_view event_type) {
  const std::string_view name = class_of(event_type);
  if (name.empty() || name == kOtherTypeClass) {  // never a second "other" sample
    other_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  size_t used = used_.load(std::memory_order_acquire);
  Slot* slot = find(name, 0, used);
  if (slot == nullptr && used < max_) {
    std::lock_guard lock(claim_mu_);
    const size_t now = used_.load(std::memory_order_acquire);
    slot = find(name, used, now);  // claimed meanwhile by another thread
    if (slot == nullptr && now < max_) {
      slot = &slots_[now];
      slot->name = name;
      used_.store(now + 1, std::memory_order_release);
    }
  }
  (slot != nullptr ? slot->count : other_).fetch_add(1, std::memory_order_relaxed);
}

std::vector<std::pair<std::string, uint64_t>> TypeClassCounts::snapshot() const {
  const size_t used = used_.load(std::memory_order_acquire);
  std::vector<std::pair<std::string, uint64_t>> out;
  out.reserve(used + 1);
  for (size_t i = 0; i < used; ++i)
    out.emplace_back(slots_[i].name, slots_[i].count.load(std::memory_order_relaxed));
  out.emplace_back(kOtherTypeClass, other_.load(std::memory_order_relaxed));
  return out;
}

}  // namespace sealhook
