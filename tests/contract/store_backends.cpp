// The store backends the contract suite runs over: sqlite, and postgres
// (store_postgres_backend.cpp).
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "contract/store_contract.hpp"
#include "contract/store_postgres_backend.hpp"

namespace sealhook::contract {
namespace {

namespace fs = std::filesystem;

std::atomic<int> next_dir{0};

// A file in a fresh directory of its own: the test's database, with its -wal and -shm files.
Result<std::string> create_sqlite() {
  fs::path dir =
      fs::temp_directory_path() /
      ("sealhook-store-contract-" + std::to_string(::getpid()) + "-" + std::to_string(next_dir++));
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (!fs::create_directories(dir, ec))
    return make_error(ErrorKind::kUnavailable, "store_unavailable",
                      "cannot create " + dir.string() + ": " + ec.message());
  return "sqlite:" + (dir / "store.db").string();
}

void drop_sqlite(const std::string& spec) {
  std::error_code ec;
  fs::remove_all(fs::path(spec.substr(spec.find(':') + 1)).parent_path(), ec);
}

}  // namespace

const std::vector<StoreBackend> kStoreBackends = {
    {"sqlite", create_sqlite, drop_sqlite},
    {"postgres", create_postgres_database, drop_postgres_database},
};

}  // namespace sealhook::contract
