#pragma once
// Endpoint health: the failure streak of each endpoint (every attempt failed since a time),
// kept in the store so that every process's attempts count toward it, and the automatic
// disable once a streak has lasted --disable-after-ms with at least --disable-min-attempts
// failed attempts (the endpoint may override both). Store calls run on `post` (off the io
// threads); an endpoint's failures are written at most every `flush_ms` (the first of a streak
// at once, so that the streak's start is durable), and a success ends the streak it knows of:
// one this process counted, or one refresh() read from the store.
#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "core/clock.hpp"
#include "core/model.hpp"
#include "store/store.hpp"

namespace sealhook::delivery {

struct HealthOptions {
  int64_t disable_after_ms = 5LL * 24 * 3600 * 1000;
  int disable_min_attempts = 10;
  int64_t flush_ms = 1000;
};

class EndpointHealthTracker {
 public:
  using Post = std::function<void(std::function<void()>)>;
  // Disables the endpoint (tenant id, endpoint id) because it kept failing.
  using Disable = std::function<void(const std::string&, const std::string&)>;
  EndpointHealthTracker(Store& store, const Clock& clock, HealthOptions options, Post post,
                        Disable disable);
  // After each attempt that got an answer or an error (any thread).
  void failed(const Endpoint& endpoint, int64_t at_ms);
  void succeeded(const Endpoint& endpoint);
  // The endpoint was enabled again: its streak ends (blocking: the store is asked), so that
  // the failures that disabled it do not disable it again at its next failure.
  void enabled(const std::string& endpoint_id);
  // Reads which endpoints have a streak (any process's), so that a success here ends those
  // too. Blocking: the store is asked.
  void refresh();
  // Whether a streak of this endpoint's has lasted long enough to disable it at `now_ms`.
  bool due(const Endpoint& endpoint, const EndpointHealth& streak, int64_t now_ms) const;

 private:
  struct Local {
    int unwritten = 0;                        // failures not yet written
    int64_t first_at_ms = 0, last_at_ms = 0;  // of the unwritten ones
    int64_t written_at_ms = 0;                // the last write's start
    bool writing = false;
  };
  void write(const Endpoint& endpoint, int failures, int64_t first_at_ms, int64_t last_at_ms);

  Store& store_;
  const Clock& clock_;
  HealthOptions options_;
  Post post_;
  Disable disable_;
  std::mutex mu_;
  std::unordered_map<std::string, Local> streaks_;  // endpoints this process saw failing
  std::unordered_set<std::string> remote_;          // endpoints with a streak in the store
  std::atomic<size_t> known_{0};                    // streaks_ + remote_: 0 skips the lock
};

}  // namespace sealhook::delivery
