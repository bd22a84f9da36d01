#pragma once
// The contract suite's kafka backend: the real broker of the ctest fixture `kafka`, each test
// under topics and a consumer group of its own.
#include "contract/queue_contract.hpp"

namespace sealhook::contract {

QueueBackend kafka_backend();

}  // namespace sealhook::contract
