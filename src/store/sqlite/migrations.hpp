#pragma once
// Schema migrations, embedded at build time from sqlite/migrations/*.sql, and their runner.
#include <span>

#include "core/result.hpp"
#include "store/migration.hpp"

namespace sealhook::sqlite {

class Connection;

using sealhook::Migration;

// Every migration, oldest first (generated source).
std::span<const Migration> migrations();

// Brings the database up to the newest version in one transaction; a no-op when it already
// is. Refuses a database written by a newer build.
Status migrate(Connection& conn);

}  // namespace sealhook::sqlite
