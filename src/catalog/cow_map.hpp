#pragma once
// An ordered map whose copies share storage: entries live in sorted, immutable chunks held by
// shared_ptr, so copying the map copies one pointer per chunk (about size / 64), and a write
// copies only the chunk it changes. The catalog snapshot is copied on every catalog write;
// with this, a write costs O(size / kChunk + kChunk) however large the catalog grows, and
// readers holding the old snapshot never see the change.
#include <algorithm>
#include <cstddef>
#include <iterator>
#include <map>
#include <memory>
#include <utility>
#include <vector>

namespace sealhook {

template <class K, class V, size_t kChunk = 64>
class CowMap {
  using Entry = std::pair<K, V>;
  using Chunk = std::vector<Entry>;  // sorted by key, never empty, never changed once shared

 public:
  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Entry;
    using difference_type = std::ptrdiff_t;
    using pointer = const Entry*;
    using reference = const Entry&;

    const_iterator() = default;
    reference operator*() const { return (*map_->chunks_[chunk_])[pos_]; }
    pointer operator->() const { return &**this; }
    const_iterator& operator++() {
      if (++pos_ == map_->chunks_[chunk_]->size()) {
        ++chunk_;
        pos_ = 0;
      }
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator old = *this;
      ++*this;
      return old;
    }
    bool operator==(const const_iterator& o) const { return chunk_ == o.chunk_ && pos_ == o.pos_; }

   private:
    friend class CowMap;
    const_iterator(const CowMap* map, size_t chunk, size_t pos)
        : map_(map), chunk_(chunk), pos_(pos) {}
    const CowMap* map_ = nullptr;
    size_t chunk_ = 0;
    size_t pos_ = 0;
  };

  // Built in one pass (loading the catalog: a set() per entry would copy a chunk each time).
  static CowMap from(std::map<K, V>&& sorted) {
    CowMap m;
    Chunk chunk;
    for (auto& [k, v] : sorted) {
      if (chunk.size() == kChunk) {
        m.chunks_.push_back(std::make_shared<const Chunk>(std::move(chunk)));
        chunk = Chunk{};
      }
      chunk.emplace_back(k, std::move(v));
    }
    if (!chunk.empty()) m.chunks_.push_back(std::make_shared<const Chunk>(std::move(chunk)));
    m.size_ = sorted.size();
    return m;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const_iterator begin() const { return {this, 0, 0}; }
  const_iterator end() const { return {this, chunks_.size(), 0}; }

  // The first entry whose key is >= k (lower_bound) or > k (upper_bound).
  const_iterator lower_bound(const K& k) const { return bound(k, false); }
  const_iterator upper_bound(const K& k) const { return bound(k, true); }

  const V* find(const K& k) const {
    if (chunks_.empty()) return nullptr;
    const Chunk& c = *chunks_[chunk_for(k)];
    auto it = std::lower_bound(c.begin(), c.end(), k, key_less);
    return it != c.end() && !(k < it->first) ? &it->second : nullptr;
  }
  bool contains(const K& k) const { return find(k) != nullptr; }

  // Inserts k, or replaces its value.
  void set(const K& k, V v) {
    if (chunks_.empty()) {
      chunks_.push_back(std::make_shared<const Chunk>(Chunk{Entry{k, std::move(v)}}));
      size_ = 1;
      return;
    }
    const size_t i = chunk_for(k);
    Chunk next = *chunks_[i];
    auto it = std::lower_bound(next.begin(), next.end(), k, key_less);
    if (it != next.end() && !(k < it->first)) {
      it->second = std::move(v);
    } else {
      next.insert(it, Entry{k, std::move(v)});
      ++size_;
    }
    if (next.size() <= 2 * kChunk) {
      chunks_[i] = std::make_shared<const Chunk>(std::move(next));
      return;
    }
    const auto half = next.begin() + static_cast<std::ptrdiff_t>(next.size() / 2);
    auto upper = std::make_shared<const Chunk>(std::make_move_iterator(half),
                                               std::make_move_iterator(next.end()));
    next.erase(half, next.end());
    chunks_[i] = std::make_shared<const Chunk>(std::move(next));
    chunks_.insert(chunks_.begin() + static_cast<std::ptrdiff_t>(i) + 1, std::move(upper));
  }

  // Removes k; false when it was not there.
  bool erase(const K& k) {
    if (chunks_.empty()) return false;
    const size_t i = chunk_for(k);
    const Chunk& c = *chunks_[i];
    auto found = std::lower_bound(c.begin(), c.end(), k, key_less);
    if (found == c.end() || k < found->first) return false;
    --size_;
    if (c.size() == 1) {
      chunks_.erase(chunks_.begin() + static_cast<std::ptrdiff_t>(i));
      return true;
    }
    Chunk next;
    next.reserve(c.size() - 1);
    for (auto it = c.begin(); it != c.end(); ++it)
      if (it != found) next.push_back(*it);
    // A chunk worn down by deletes joins its successor, so chunks stay few.
    if (next.size() < kChunk / 4 && i + 1 < chunks_.size() &&
        next.size() + chunks_[i + 1]->size() <= 2 * kChunk) {
      next.insert(next.end(), chunks_[i + 1]->begin(), chunks_[i + 1]->end());
      chunks_.erase(chunks_.begin() + static_cast<std::ptrdiff_t>(i) + 1);
    }
    chunks_[i] = std::make_shared<const Chunk>(std::move(next));
    return true;
  }

 private:
  static bool key_less(const Entry& e, const K& k) { return e.first < k; }

  // The chunk that holds k, or would: the last whose first key is <= k (the first chunk
  // for keys below every first key).
  size_t chunk_for(const K& k) const {
    auto it = std::upper_bound(chunks_.begin(), chunks_.end(), k,
                               [](const K& key, const auto& c) { return key < c->front().first; });
    return it == chunks_.begin() ? 0 : static_cast<size_t>(it - chunks_.begin()) - 1;
  }

  const_iterator bound(const K& k, bool strictly_above) const {
    for (size_t i = chunks_.empty() ? 0 : chunk_for(k); i < chunks_.size(); ++i) {
      const Chunk& c = *chunks_[i];
      auto it = strictly_above
                    ? std::upper_bound(c.begin(), c.end(), k,
                                       [](const K& key, const Entry& e) { return key < e.first; })
                    : std::lower_bound(c.begin(), c.end(), k, key_less);
      if (it != c.end()) return {this, i, static_cast<size_t>(it - c.begin())};
    }
    return end();
  }

  std::vector<std::shared_ptr<const Chunk>> chunks_;
  size_t size_ = 0;
};

}  // namespace sealhook
