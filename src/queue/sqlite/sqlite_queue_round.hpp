#pragma once
// One group commit's worth of SqliteQueue work, shared by its two queue-thread files.
#include <memory>
#include <vector>

#include "queue/sqlite/sqlite_queue.hpp"

namespace sealhook {

struct SqliteQueue::Round {
  struct Arm {
    int64_t seq;
    int handouts;  // to record
    bool load;
    std::shared_ptr<QueuedDelivery> data;
  };
  std::vector<std::shared_ptr<PushJob>> jobs;
  std::vector<std::shared_ptr<SwitchJob>> switches;
  std::vector<Op> ops;
  std::vector<Arm> arms;
  uint64_t ops_ticket = 0;
  bool armed_any = false;
};

}  // namespace sealhook
