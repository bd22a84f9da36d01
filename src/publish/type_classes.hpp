#pragma once
// Events published, counted by the class of their type: its first dot-segment ("order" for
// "order.created"). The label stays bounded: the first `max_classes` classes seen get a
// counter each, every later one is counted as "other". Counting takes no lock once a class
// has its counter (a lock only while a new class claims one, at most `max_classes` times).
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sealhook {

inline constexpr std::string_view kOtherTypeClass = "other";

class TypeClassCounts {
 public:
  explicit TypeClassCounts(size_t max_classes);
  TypeClassCounts(const TypeClassCounts&) = delete;
  TypeClassCounts& operator=(const TypeClassCounts&) = delete;

  void count(std::string_view event_type);
  // The classes in the order they were first seen, then "other" (always there, maybe 0).
  std::vector<std::pair<std::string, uint64_t>> snapshot() const;
  // "order" for "order.created", the whole type when it has no dot.
  static std::string_view class_of(std::string_view event_type);

 private:
  struct Slot {
    std::string name;  // written once, before `used_` counts the slot
    std::atomic<uint64_t> count{0};
  };
  // The slot of `name` among the first `from`..`to` claimed ones, or null.
  Slot* find(std::string_view name, size_t from, size_t to) const;

  size_t max_;
  std::unique_ptr<Slot[]> slots_;
  std::atomic<size_t> used_{0};  // slots named (release: their names are visible)
  std::atomic<uint64_t> other_{0};
  std::mutex claim_mu_;  // claiming a slot for a class not seen yet
};

}  // namespace sealhook
