#pragma once
// librdkafka (Debian's librdkafka-dev 2.0.2, the C API) made safe to hold: owning handles, a
// configuration built from key/value pairs with its error, topic creation through the Admin
// API, and the one partition function every topic of the kafka queue shares.
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace sealhook::kafka {

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
struct ConfDeleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rd_kafka_topic_partition_list_destroy(l);
  }
};
using Handle = std::unique_ptr<rd_kafka_t, HandleDeleter>;
using Conf = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

using Settings = std::vector<std::pair<std::string, std::string>>;

// A configuration with every setting applied, or the first one librdkafka refused.
Result<Conf> make_conf(const Settings& settings);
// A producer or consumer made from `conf` (taken over, also when it fails).
Result<Handle> make_handle(rd_kafka_type_t type, Conf conf);

struct TopicSpec {
  std::string name;
  int partitions = 1;
  Settings config;  // topic-level settings (cleanup.policy, retention.ms, ...)
};
// Creates the topics that do not exist yet (one that exists is left as it is), waiting at most
// `timeout`. Replication factor 1 unless the broker's default (-1) is asked for.
Status create_topics(rd_kafka_t* rk, const std::vector<TopicSpec>& topics,
                     std::chrono::milliseconds timeout, int replication = -1);

// A partition's low and high watermarks from the broker, asked again while the partition is
// not known or led yet (just after its topic was made), at most `timeout` in all.
Status query_watermarks(rd_kafka_t* rk, const std::string& topic, int32_t partition, int64_t& low,
                        int64_t& high, std::chrono::milliseconds timeout);

// The partition of a key among `partitions`: FNV-1a, stable across builds and processes (every
// topic of the queue puts an endpoint's records in the same partition number).
int32_t partition_of(const std::string& key, int partitions);

Error kafka_error(rd_kafka_resp_err_t err, const std::string& what);

}  // namespace sealhook::kafka
