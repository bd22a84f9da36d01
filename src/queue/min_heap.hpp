#pragma once
// A binary min-heap on a vector (std::push_heap/pop_heap with std::greater): the timer and
// lease-deadline heaps of the queue backends.
#include <algorithm>
#include <functional>
#include <utility>
#include <vector>

namespace sealhook {

template <class T>
void heap_push(std::vector<T>& heap, T value) {
  heap.push_back(std::move(value));
  std::push_heap(heap.begin(), heap.end(), std::greater<>{});
}

// Removes and returns the smallest element (the heap must not be empty).
template <class T>
T heap_pop(std::vector<T>& heap) {
  std::pop_heap(heap.begin(), heap.end(), std::greater<>{});
  T top = std::move(heap.back());
  heap.pop_back();
  return top;
}

}  // namespace sealhook
