#include "contract/queue_backends.hpp"

#include "contract/kafka_backend.hpp"
#include "contract/redis_backend.hpp"
#include "queue/memory/memory_queue.hpp"
#include "queue/sqlite/sqlite_queue.hpp"

namespace sealhook::contract {

const QueueBackend kMemory{"memory", false,
                           [](const QueueOptions& o, const Clock& c,
                              const std::string&) -> Result<std::unique_ptr<Queue>> {
                             return std::unique_ptr<Queue>(std::make_unique<MemoryQueue>(o, c));
                           }};

const QueueBackend kSqlite{"sqlite", true,
                           [](const QueueOptions& o, const Clock& c,
                              const std::string& dir) -> Result<std::unique_ptr<Queue>> {
                             SqliteQueueOptions so;
                             so.queue = o;
                             so.path = dir + "/queue.db";
                             auto q = SqliteQueue::open(so, c);
                             if (!q) return q.error();
                             return std::unique_ptr<Queue>(std::move(q.value()));
                           },
                           [](Queue& q) { static_cast<SqliteQueue&>(q).quiesce(); }};

const QueueBackend kRedis = redis_backend();
const QueueBackend kKafka = kafka_backend();

}  // namespace sealhook::contract
