#pragma once
// A schema migration, as every store's migrations are embedded (embed_migrations.cmake turns
// BACKEND/migrations/NNNN_name.sql into a table of these), and which of them a database needs.
#include <span>
#include <string>

#include "core/result.hpp"

namespace sealhook {

struct Migration {
  int version;       // 1, 2, 3, ... from the file name prefix
  const char* name;  // the .sql file name
  const char* sql;
};

// The migrations of `all` (oldest first) a database at `version` still needs; an error when it
// is newer than this build knows (written by a later release: refused, not guessed at).
inline Result<std::span<const Migration>> migrations_after(std::span<const Migration> all,
                                                           int version) {
  int newest = all.empty() ? 0 : all.back().version;
  if (version > newest) {
    return make_error(ErrorKind::kInternal, "store_error",
                      "The database is at schema version " + std::to_string(version) +
                          ", newer than this build knows (" + std::to_string(newest) + ").");
  }
  size_t first = 0;
  while (first < all.size() && all[first].version <= version) ++first;
  return all.subspan(first);
}

}  // namespace sealhook
