#pragma once
// A set of delivery ids for checking many at once (recovery holds a million of them): an id
// new_id("msg_") made is kept as its 16 bytes, any other as a string. Add, then seal(), then
// ask contains(). About 16 bytes an id, where a hash set of strings takes ~90.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/ids.hpp"

namespace sealhook {

class IdSet {
 public:
  static constexpr std::string_view kPrefix = "msg_";

  void add(std::string_view id) {
    if (auto bits = id_bits(id, kPrefix)) {
      packed_.push_back(*bits);
    } else {
      others_.emplace(id);
    }
  }
  void reserve(size_t n) { packed_.reserve(n); }
  // Sorts what was added; contains() is valid afterwards (until the next add()).
  void seal() {
    std::sort(packed_.begin(), packed_.end());
    packed_.erase(std::unique(packed_.begin(), packed_.end()), packed_.end());
    packed_.shrink_to_fit();
  }
  bool contains(std::string_view id) const {
    if (auto bits = id_bits(id, kPrefix))
      return std::binary_search(packed_.begin(), packed_.end(), *bits);
    return others_.find(std::string(id)) != others_.end();
  }
  // contains() of an id whose id_bits() are `bits`.
  bool contains(std::pair<uint64_t, uint64_t> bits) const {
    return std::binary_search(packed_.begin(), packed_.end(), bits);
  }
  size_t size() const { return packed_.size() + others_.size(); }

 private:
  std::vector<std::pair<uint64_t, uint64_t>> packed_;
  std::unordered_set<std::string> others_;
};

}  // namespace sealhook
