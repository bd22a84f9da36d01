#include "queue/kafka/kafka_handle.hpp"

#include <algorithm>
#include <array>
#include <thread>

namespace sealhook::kafka {

Error kafka_error(rd_kafka_resp_err_t err, const std::string& what) {
  return make_error(ErrorKind::kUnavailable, "queue_unavailable",
                    "kafka: " + what + ": " + rd_kafka_err2str(err));
}

Result<Conf> make_conf(const Settings& settings) {
  Conf conf(rd_kafka_conf_new());
  std::array<char, 512> err{};
  for (const auto& [key, value] : settings)
    if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), err.data(), err.size()) !=
        RD_KAFKA_CONF_OK)
      return make_error(ErrorKind::kBadRequest, "invalid_kafka_setting",
                        "kafka setting " + key + "=" + value + ": " + err.data());
  return conf;
}

Result<Handle> make_handle(rd_kafka_type_t type, Conf conf) {
  std::array<char, 512> err{};
  // rd_kafka_new() owns the configuration once it succeeds, and only then.
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), err.data(), err.size());
  if (rk == nullptr)
    return make_error(ErrorKind::kInternal, "kafka_client", std::string("kafka: ") + err.data());
  conf.release();
  return Handle(rk);
}

namespace {

struct NewTopicsDeleter {
  std::vector<rd_kafka_NewTopic_t*>* topics;
  void operator()(void*) const {
    for (auto* t : *topics) rd_kafka_NewTopic_destroy(t);
  }
};

}  // namespace

Status create_topics(rd_kafka_t* rk, const std::vector<TopicSpec>& specs,
                     std::chrono::milliseconds timeout, int replication) {
  std::vector<rd_kafka_NewTopic_t*> topics;
  std::unique_ptr<void, NewTopicsDeleter> free_topics(&topics, NewTopicsDeleter{&topics});
  std::array<char, 512> err{};
  for (const auto& s : specs) {
    rd_kafka_NewTopic_t* t =
        rd_kafka_NewTopic_new(s.name.c_str(), s.partitions, replication, err.data(), err.size());
    if (t == nullptr)
      return make_error(ErrorKind::kBadRequest, "invalid_kafka_topic",
                        "kafka topic " + s.name + ": " + err.data());
    topics.push_back(t);
    for (const auto& [key, value] : s.config)
      if (auto e = rd_kafka_NewTopic_set_config(t, key.c_str(), value.c_str()); e)
        return kafka_error(e, "topic " + s.name + " setting " + key);
  }
  std::unique_ptr<rd_kafka_queue_t, void (*)(rd_kafka_queue_t*)> queue(rd_kafka_queue_new(rk),
                                                                       rd_kafka_queue_destroy);
  std::unique_ptr<rd_kafka_AdminOptions_t, void (*)(rd_kafka_AdminOptions_t*)> options(
      rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS), rd_kafka_AdminOptions_destroy);
  rd_kafka_AdminOptions_set_operation_timeout(options.get(), static_cast<int>(timeout.count()),
                                              err.data(), err.size());
  rd_kafka_AdminOptions_set_request_timeout(options.get(), static_cast<int>(timeout.count()),
                                            err.data(), err.size());
  rd_kafka_CreateTopics(rk, topics.data(), topics.size(), options.get(), queue.get());
  // The result comes as one event; a little past the request timeout, give up on it.
  std::unique_ptr<rd_kafka_event_t, void (*)(rd_kafka_event_t*)> event(
      rd_kafka_queue_poll(queue.get(), static_cast<int>(timeout.count()) + 1000),
      rd_kafka_event_destroy);
  if (!event)
    return make_error(ErrorKind::kUnavailable, "queue_unavailable",
                      "kafka: creating the queue's topics timed out");
  if (auto e = rd_kafka_event_error(event.get()); e)
    return kafka_error(e, "creating the queue's topics");
  const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(event.get());
  size_t n = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(result, &n);
  for (size_t i = 0; i < n; ++i) {
    auto e = rd_kafka_topic_result_error(results[i]);
    if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
      return kafka_error(e, std::string("topic ") + rd_kafka_topic_result_name(results[i]));
  }
  return {};
}

Status query_watermarks(rd_kafka_t* rk, const std::string& topic, int32_t partition, int64_t& low,
                        int64_t& high, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto e = rd_kafka_query_watermark_offsets(rk, topic.c_str(), partition, &low, &high,
                                              static_cast<int>(std::max<int64_t>(left.count(), 1)));
    if (!e) return {};
    const bool settling = e == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION ||
                          e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                          e == RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION ||
                          e == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE;
    if (!settling || std::chrono::steady_clock::now() + std::chrono::milliseconds(50) >= deadline)
      return kafka_error(e, "reading the watermarks of " + topic);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

int32_t partition_of(const std::string& key, int partitions) {
  uint32_t h = 2166136261u;
  for (unsigned char c : key) {
    h ^= c;
    h *= 16777619u;
  }
  return static_cast<int32_t>(h % static_cast<uint32_t>(partitions));
}

}  // namespace sealhook::kafka
