#pragma once
// Shared fixtures for the store tests (TempDir for the queue tests too): a temporary directory and
// sample records.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>

#include "store/store.hpp"

namespace sealhook::testing {

// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("sealhook-store-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::unique_ptr<Store> open_store(const std::string& spec) {
  auto store = make_store(spec);
  EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error().message);
  return store.ok() ? std::move(store.value()) : nullptr;
}

inline Tenant tenant(const std::string& id, int64_t at = 1000) {
  return Tenant{id, id + "-name", at};
}

inline ApiKey api_key(const std::string& id, const std::string& tenant_id, int64_t at = 1000) {
  return ApiKey{id, tenant_id, "hash-of-" + id, at};
}

// A delivery whose id sorts by `seq` (ids are compared as strings, newest = greatest).
inline DeliveryRecord delivery(const std::string& tenant_id, int seq,
                               DeliveryStatus status = DeliveryStatus::kPending) {
  char id[40];
  std::snprintf(id, sizeof id, "msg_%026d", seq);
  DeliveryRecord d;
  d.id = id;
  d.tenant_id = tenant_id;
  d.endpoint_id = "ep_1";
  d.event_id = "evt_" + std::to_string(seq);
  d.event_type = "order.created";
  d.status = status;
  d.created_at_ms = 1000 + seq;
  d.updated_at_ms = 1000 + seq;
  return d;
}

}  // namespace sealhook::testing
