#pragma once
// The redis backend of the contract suites: a real redis-server, started by the ctest fixture
// `redis` (scripts/start-redis.sh), found through SEALHOOK_TEST_REDIS (its URL) or
// SEALHOOK_TEST_REDIS_ENV (the file start-redis.sh --env-file wrote). Each test keeps its keys
// under a prefix of its own, written in its directory so that reopening finds the same state,
// and deletes them when it ends.
#include "contract/queue_contract.hpp"

namespace sealhook::contract {

QueueBackend redis_backend();

}  // namespace sealhook::contract
