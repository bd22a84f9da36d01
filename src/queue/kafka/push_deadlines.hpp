#pragma once
// Pushes waiting for the broker's answer, by deadline (--kafka-timeout-ms after the push): one
// still unanswered then is answered "timed out" by the queue itself. librdkafka's own message
// timeout does not bound every push: one in flight when its broker is SIGKILLed was seen
// answered four times past it (the e2e kill test).
#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace sealhook::kafka {

// One push's answer, given once: by the broker's delivery reports or by its deadline.
struct Answer {
  std::atomic<bool> given{false};
  // True for the one caller that gives the answer.
  bool claim() { return !given.exchange(true); }
};

class PushDeadlines {
 public:
  using Time = std::chrono::steady_clock::time_point;

  // Deadlines are added in order (every push has the same bound), within a hair.
  void add(const std::shared_ptr<Answer>& answer, Time deadline);
  // The answers past their deadline at `now` not given yet, each claimed for the caller (who
  // answers them "timed out"); those given meanwhile, or gone, are dropped.
  std::vector<std::shared_ptr<Answer>> expired(Time now);
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::deque<std::pair<Time, std::weak_ptr<Answer>>> items_;
};

}  // namespace sealhook::kafka
