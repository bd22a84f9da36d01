#pragma once
// Two catalogs on one store (a SQLite file by default), as two processes sharing it (each its
// own connection).
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "catalog/catalog.hpp"
#include "crypto/keygen.hpp"

namespace sealhook::testing {

struct Side {
  std::unique_ptr<Store> store;
  Registry registry;
  std::unique_ptr<CatalogService> catalog;
};

class TwoCatalogs : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir = std::filesystem::temp_directory_path() /
          ("sealhook-reload-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(dir);
    limits.max_tenants = 1'000'000;
    const std::string shared = shared_store();
    for (Side* s : {&a, &b}) {
      auto store = make_store(shared);
      ASSERT_TRUE(store.ok()) << shared << ": " << store.error().message;
      s->store = std::move(*store);
      s->catalog = std::make_unique<CatalogService>(*s->store, s->registry, clock, limits, guard);
      ASSERT_TRUE(s->catalog->load().ok());
    }
  }
  // The store both open: one SQLite file (PostgreSQL: catalog_feed_pgtest.cpp).
  virtual std::string shared_store() { return "sqlite:" + (dir / "shared.db").string(); }
  void TearDown() override {
    for (Side* s : {&a, &b}) {
      s->catalog.reset();
      s->store.reset();
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  static boost::json::value new_jwk() {
    return crypto::generate_key(crypto::KeyType::kX25519, 0).value().public_key().to_jwk();
  }
  static EndpointSpec spec() {
    EndpointSpec s;
    s.url = "http://127.0.0.1:9/hook";
    return s;
  }
  static TenantPtr tenant_in(const Side& s, const std::string& id) {
    // The snapshot is held while its entry is read: the feed's thread may swap it meanwhile.
    auto snap = s.registry.snapshot();
    const TenantPtr* t = snap->tenants.find(id);
    return t ? *t : nullptr;
  }

  std::filesystem::path dir;
  ManualClock clock;
  delivery::UrlGuard guard{delivery::AddressPolicy{.allow_private = true, .allowed = {}}, {}};
  CatalogLimits limits;
  Side a, b;
};

}  // namespace sealhook::testing
