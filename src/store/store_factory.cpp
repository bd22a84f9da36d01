// The one place that maps a store spec onto a backend.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

#include "store/postgres/postgres_store.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/store.hpp"

namespace sealhook {
namespace {

namespace fs = std::filesystem;

Error invalid(std::string message) {
  return make_error(ErrorKind::kBadRequest, "invalid_store", std::move(message));
}

// Creates the database file owner-only before SQLite opens it: it holds endpoint secrets.
// SQLite gives its -wal and -shm files the same permissions.
Status create_private_file(const fs::path& file) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
    return {};
  }
  if (errno == EEXIST) return {};
  return make_error(ErrorKind::kUnavailable, "store_unavailable",
                    "Cannot create the SQLite database " + file.string() + ": " +
                        std::generic_category().message(errno) + ".");
}

// "PATH.db" is the database file; any other PATH is a directory holding sealhook.db.
Result<std::unique_ptr<Store>> open_sqlite(const std::string& path) {
  if (path == ":memory:") return sqlite::SqliteStore::open(path);
  if (path.empty()) {
    return invalid("The store spec \"sqlite:\" needs a path: sqlite:DIR or sqlite:FILE.db.");
  }
  fs::path file =
      fs::path(path).extension() == ".db" ? fs::path(path) : fs::path(path) / "sealhook.db";
  std::error_code ec;
  if (file.has_parent_path()) fs::create_directories(file.parent_path(), ec);
  if (ec) {
    return make_error(
        ErrorKind::kUnavailable, "store_unavailable",
        "Cannot create the directory " + file.parent_path().string() + ": " + ec.message() + ".");
  }
  if (Status s = create_private_file(file); !s) return s.error();
  return sqlite::SqliteStore::open(file.string());
}

}  // namespace

Result<std::unique_ptr<Store>> make_store(const std::string& spec) {
  if (spec.starts_with("sqlite:")) return open_sqlite(spec.substr(7));
  // Given to libpq as a connection URI (its parameters and PG* variables apply), less our
  // pool knobs.
  if (spec.starts_with("postgres://") || spec.starts_with("postgresql://")) {
    auto parsed = postgres::parse_spec(spec);
    if (!parsed) return parsed.error();
    return postgres::PostgresStore::open(parsed->first, parsed->second);
  }
  return invalid("Unknown store spec \"" + spec +
                 "\": expected sqlite:PATH (a directory or a .db file), sqlite::memory:, or"
                 " postgres://USER@HOST:PORT/DB.");
}

}  // namespace sealhook
