#pragma once
// The postgres backend of the store contract suite: a database of its own for each test, made
// with CREATE DATABASE on the server test_postgres_url() names (the ctest fixture `postgres`,
// scripts/start-postgres.sh) and dropped after it.
#include <string>

#include "core/result.hpp"

namespace sealhook::contract {

// The spec of a fresh, empty database: the server's URL with the database name replaced.
Result<std::string> create_postgres_database();
void drop_postgres_database(const std::string& spec);

}  // namespace sealhook::contract
