#pragma once
// The queue contract (src/queue/queue.hpp), written once and run over every backend. A backend
// joins by adding a QueueBackend to kQueueBackends in queue_contract_test.cpp.
#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "queue/queue.hpp"

namespace sealhook::contract {

struct QueueBackend {
  std::string name;
  bool durable = false;
  // Opens the backend's queue keeping its state under `dir` (the same dir reopens it).
  std::function<Result<std::unique_ptr<Queue>>(const QueueOptions&, const Clock&,
                                               const std::string& dir)>
      open;
  // Returns once the backend has done all it will do on its own for now (no-op if synchronous).
  std::function<void(Queue&)> quiesce = [](Queue&) {};
  // Removes whatever the backend keeps outside `dir` for the test (a shared server's keys).
  std::function<void(const std::string& dir)> cleanup = [](const std::string&) {};
  // Tests of the contract this backend cannot pass, by name, each with the reason (the README
  // says the same): gtest reports them as skipped, never as passed.
  std::map<std::string, std::string> skips = {};
};

// Fixture: a queue of the backend under test, a manual clock, and helpers that wait for what
// a backend may do on its own thread (awaited through the ready listener, never slept).
class QueueContract : public ::testing::TestWithParam<QueueBackend> {
 protected:
  void SetUp() override;
  void TearDown() override;
  void open(QueueOptions options);
  void reopen();  // closes the queue object and opens the same state again

  static QueuedDelivery make(const std::string& id, const std::string& ep, bool ordered = false,
                             int64_t at = 0);
  // Leases until `n` leases came or `timeout_ms` passed.
  std::vector<Lease> lease_n(size_t n, int64_t lease_ms = 60'000, int timeout_ms = 5000);
  // What lease() hands out once the backend is quiet: for checks that nothing more is due.
  std::vector<Lease> lease_quiet(size_t max = 100, int64_t lease_ms = 60'000);

  ManualClock clock{1'000'000};
  QueueOptions options_{.capacity = 10, .max_inflight_per_endpoint = 2};
  std::string dir_;
  std::unique_ptr<Queue> q;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t nudges_ = 0;
};

std::vector<std::string> ids(const std::vector<Lease>& leases);

// A name for the test's state on a shared server (key or topic prefix), made on the first open
// under `dir` from `stem`, the pid and the test's directory, and read back on every later open.
std::string shared_name_for(const std::string& dir, const std::string& stem,
                            const std::string& separator);

}  // namespace sealhook::contract
