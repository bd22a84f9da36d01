#pragma once
// The queue backends the contract suites run over (memory, sqlite; redis and kafka join here).
#include "contract/queue_contract.hpp"

namespace sealhook::contract {

extern const QueueBackend kMemory;
extern const QueueBackend kSqlite;
extern const QueueBackend kRedis;  // a real redis-server (redis_backend.hpp)
extern const QueueBackend kKafka;  // a real Kafka broker (kafka_backend.hpp)

}  // namespace sealhook::contract
