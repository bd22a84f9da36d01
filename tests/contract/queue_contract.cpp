#include "contract/queue_contract.hpp"

#include <unistd.h>
#include <algorithm>

#include <chrono>
#include <fstream>

namespace sealhook::contract {

std::vector<std::string> ids(const std::vector<Lease>& leases) {
  std::vector<std::string> out;
  for (const auto& l : leases) out.push_back(l.delivery->id);
  return out;
}

std::string shared_name_for(const std::string& dir, const std::string& stem,
                            const std::string& separator) {
  const std::string file = dir + "/shared-name";
  std::string name;
  if (std::ifstream in(file); in && std::getline(in, name) && !name.empty()) return name;
  std::string base = dir.substr(dir.find_last_of('/') + 1);
  name = stem + separator + std::to_string(::getpid()) + separator + base;
  std::ofstream(file) << name << "\n";
  return name;
}

void QueueContract::SetUp() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string test = std::string(info->name()).substr(0, std::string(info->name()).find('/'));
  if (auto skip = GetParam().skips.find(test); skip != GetParam().skips.end())
    GTEST_SKIP() << GetParam().name << " cannot: " << skip->second;
  std::string name = std::string(info->test_suite_name()) + "_" + info->name();
  std::replace(name.begin(), name.end(), '/', '_');
  dir_ = (std::filesystem::temp_directory_path() /
          ("sealhook-contract-" + std::to_string(::getpid()) + "-" + name))
             .string();
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
  open(options_);
}

void QueueContract::TearDown() {
  q.reset();
  if (dir_.empty()) return;  // skipped
  GetParam().cleanup(dir_);
  std::filesystem::remove_all(dir_);
}

void QueueContract::open(QueueOptions options) {
  q.reset();
  options_ = options;
  auto opened = GetParam().open(options_, clock, dir_);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  q = std::move(opened.value());
  q->set_ready_listener([this] {
    std::lock_guard lock(mu_);
    nudges_++;
    cv_.notify_all();
  });
}

void QueueContract::reopen() { open(options_); }

QueuedDelivery QueueContract::make(const std::string& id, const std::string& ep, bool ordered,
                                   int64_t at) {
  QueuedDelivery d;
  d.id = id;
  d.endpoint_id = ep;
  d.tenant_id = "tn";
  d.event_id = "evt_" + id;
  d.event_type = "a";
  d.body = std::make_shared<const std::string>("cipher-" + id);
  d.ordered = ordered;
  d.not_before_ms = at;
  d.published_at_ms = at;
  return d;
}

std::vector<Lease> QueueContract::lease_n(size_t n, int64_t lease_ms, int timeout_ms) {
  std::vector<Lease> out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    uint64_t seen;
    {
      std::lock_guard lock(mu_);
      seen = nudges_;
    }
    for (auto& l : q->lease(clock.now_ms(), n - out.size(), lease_ms)) out.push_back(std::move(l));
    if (out.size() >= n) return out;
    std::unique_lock lock(mu_);
    if (!cv_.wait_until(lock, deadline, [&] { return nudges_ != seen; })) {
      lock.unlock();
      GetParam().quiesce(*q);  // one last look once the backend is quiet
      for (auto& l : q->lease(clock.now_ms(), n - out.size(), lease_ms))
        out.push_back(std::move(l));
      return out;
    }
  }
}

std::vector<Lease> QueueContract::lease_quiet(size_t max, int64_t lease_ms) {
  GetParam().quiesce(*q);
  return q->lease(clock.now_ms(), max, lease_ms);
}

}  // namespace sealhook::contract
