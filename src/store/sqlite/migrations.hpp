#pragma once
// Schema migrations, embedded at build time from sqlite/migrations/*.sql, and their runner.
#include <span>

#include "core/result.hpp"

namespace sealhook::sqlite {

class Connection;

struct Migration {
  int version;       // 1, 2, 3, ... from the file name prefix
  const char* name;  // the .sql file name
  const char* sql;
};

// Every migration, oldest first (generated source).
std::span<const Migration> migrations();

// Brings the database up to the newest version in one transaction; a no-op when it already
// is. Refuses a database written by a newer build.
Status migrate(Connection& conn);

}  // namespace sealhook::sqlite
