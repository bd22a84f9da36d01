#pragma once
// Schema migrations, embedded at build time from postgres/migrations/*.sql (by
// ../embed_migrations.cmake, as SQLite's are), and their runner.
#include <span>

#include "core/result.hpp"
#include "store/migration.hpp"

namespace sealhook::postgres {

class Connection;

using sealhook::Migration;

// Every migration, oldest first (generated source).
std::span<const Migration> migrations();

// Brings the database up to the newest version, each migration in its own transaction, under
// an advisory lock: processes starting together migrate one after the other, and the later
// ones find nothing left to do. Refuses a database written by a newer build.
Status migrate(Connection& conn);

}  // namespace sealhook::postgres
