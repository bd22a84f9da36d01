#pragma once
// The kafka queue (docs/kafka-queue.md): deliveries on a topic partitioned by endpoint, read by
// a consumer group (range assignor: a member owns the same partition number of every topic);
// what the queue contract needs beside the log is kept in Kafka too:
//  - `<prefix>.state` (compacted, key the delivery id, in its endpoint's partition): the
//    attempt about to be made, recorded before the delivery can be leased (so a delivery that
//    kills its worker every time still reaches max_attempts), a retry time, acked, dead;
//  - `<prefix>.orderings` (compacted, one partition): set_ordering(), read whole by every
//    process and followed;
//  - `<prefix>.dead`: dead letters (the store keeps the replayable copy).
// In the process that owns a partition, its deliveries are scheduled by a MemoryQueue (lanes,
// tenant caps, ordered heads, retry times, leases), replaced whole at each (eager) rebalance:
// the leases of the old assignment are lost then (a settle answers lease_lost) and the new
// owner starts from the committed offset with the state it reads back. Offsets are committed
// up to the contiguous prefix of done deliveries; those done past it are skipped on re-reading
// by their state. Retries wait in place (what a partition holds is bounded per partition; past
// the bound it is paused, not dropped).
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include "queue/kafka/handout_line.hpp"
#include "queue/kafka/kafka_handle.hpp"
#include "queue/kafka/kafka_record.hpp"
#include "queue/kafka/push_deadlines.hpp"
#include "queue/memory/memory_queue.hpp"
#include "queue/queue.hpp"

namespace sealhook {

struct KafkaQueueOptions {
  QueueOptions queue;
  std::string brokers;  // HOST:PORT[,...]
  // Topic names: <prefix>.deliveries, <prefix>.state, <prefix>.orderings, <prefix>.dead.
  std::string prefix = "sealhook";
  std::string group;               // the consumer group; "" means "<prefix>.workers"
  std::string owner = "sealhook";  // client.id, as logs and the broker show it
  int partitions = 12;
  std::chrono::milliseconds timeout{5000};               // a push, a write, topic creation, commits
  std::chrono::milliseconds session_timeout{10000};      // a member silent this long is evicted
  size_t held_per_partition = 2000;                      // consumed and not done: past it, paused
  int64_t retention_ms = int64_t{7} * 24 * 3600 * 1000;  // deliveries and dead letters
  bool consume = true;  // join the group (false: only push, for a producer-only process)
};

class KafkaQueue final : public Queue {
 public:
  static Result<std::unique_ptr<KafkaQueue>> open(const KafkaQueueOptions& options,
                                                  const Clock& clock);
  ~KafkaQueue() override;

  Status push(std::vector<QueuedDelivery>&& batch) override;
  void push_async(std::vector<QueuedDelivery>&& batch, std::function<void(Status)> done) override;
  std::vector<Lease> lease(int64_t now_ms, size_t max, int64_t lease_ms) override;
  Status ack(const Lease& lease) override;
  Status retry(const Lease& lease, int64_t at_ms) override;
  Status dead(const Lease& lease) override;
  Status extend(const Lease& lease, int64_t deadline_ms) override;
  Status set_ordering(const EndpointOrdering& ordering) override;
  std::vector<EndpointOrdering> orderings() const override;
  void close() override { closed_ = true; }
  void set_ready_listener(std::function<void()> listener) override;
  std::optional<int64_t> next_due_ms() const override;
  QueueStats stats() const override;
  Status ping() override;
  Result<std::vector<std::string>> holding(const std::vector<std::string>& ids) override;
  bool durable() const override { return true; }
  bool record_before_ack() const override { return true; }

  // Waits until every record produced so far is acknowledged (tests, shutdown).
  void flush();
  // Waits, at most `timeout`, until this process owns partitions, has consumed each to its
  // end and made what it consumed leasable; false if that did not happen in time (tests).
  bool quiesce(std::chrono::milliseconds timeout);
  // Partitions of the deliveries topic this process owns now.
  std::vector<int32_t> assigned() const;

 private:
  KafkaQueue(const KafkaQueueOptions& options, const Clock& clock);

  // A produced batch: `done` runs once every record of it is acknowledged or failed, or, for a
  // push, once its deadline passed (whichever is first: the answer is given once).
  struct Waiter : kafka::Answer {
    std::atomic<int> left{0};
    std::mutex mu;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    int64_t offset = -1;  // the last record's, once acknowledged
    std::function<void(Status)> done;
  };
  // A consumed delivery of an owned partition, by offset.
  struct Entry {
    std::string id;
    bool done = false;
  };
  struct Partition {
    std::map<int64_t, Entry> entries;  // consumed, not yet committed past
    kafka::HandoutLine recording;      // consumed, its hand-out record being written
    int64_t next = -1;                 // the offset after the last consumed (-1: none yet)
    int64_t committed = -1;            // the last offset committed
    size_t done_past = 0;              // done past the commit point, as last committed
    size_t held = 0;                   // consumed and not done: the entries not marked done
    bool paused = false;
    std::unordered_map<std::string, kafka::DeliveryState> state;  // as read back at assign
  };
  struct Known {  // an owned delivery, by id
    int32_t partition = 0;
    int64_t offset = 0;
    int recorded = 0;  // the highest attempt recorded in the state topic
    int base = 0;      // hand-outs of this round made before this assignment
  };

  Status start();
  enum class Role { kMember, kOffsets, kReader };
  Result<kafka::Handle> make_consumer(Role role);
  void produce(const std::string& topic, int32_t partition, const std::string& key,
               const std::string* value, const std::shared_ptr<Waiter>& waiter);
  void write_state(int32_t partition, const std::string& id, const kafka::DeliveryState& s,
                   std::function<void(Status)> done = nullptr);
  static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* msg, void* opaque);
  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* partitions, void* opaque);

  // The consumer thread (kafka_queue_consume.cpp).
  void consume_loop();
  void assign(rd_kafka_topic_partition_list_t* partitions);
  void revoke();
  void drop_partitions();  // under parts_mu_: the assignment's partitions and what they held
  void learn_committed();
  void probe_brokers();  // while down: up again once a broker answers a metadata request  // the
                         // assigned partitions' committed offsets, after assign()
  void on_message(const rd_kafka_message_t* msg);
  // Writes the hand-out record of `d` (of `partition`, consumed in `epoch`); on_recorded() is
  // its answer. rerecord() writes again those that failed (the consumer thread's tick).
  void record(int32_t partition, uint64_t epoch, const QueuedDelivery& d,
              const kafka::DeliveryState& state);
  void on_recorded(int32_t partition, uint64_t epoch, int64_t offset, const Status& written);
  void rerecord();
  // Commits each owned partition's point (asynchronously, or before returning); the state
  // records of the deliveries passed go once the broker has the commit.
  void commit(bool sync);
  static void on_committed(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* offsets, void* opaque);
  void pause_or_resume();
  // The queue's depth over every partition, owned or not: end offset minus committed offset
  // minus what the committed metadata says is done past it (every owner commits that). Two
  // requests (end offsets, committed offsets), unless the last refresh is younger than `fresh`.
  void refresh_depth(std::chrono::milliseconds fresh) const;
  Result<std::unordered_map<std::string, kafka::DeliveryState>> read_state(int32_t partition);
  Status read_orderings();  // assigns the orderings reader and reads to the end
  void follow_orderings();
  void apply_ordering(const EndpointOrdering& o, int64_t offset);

  // A settle: the lease of the current assignment, translated for the inner queue, under the
  // epoch lock; `then` runs once the inner queue took it (known: the delivery's place).
  Status settle(const Lease& lease, const std::function<Status(MemoryQueue&, const Lease&)>& op,
                const std::function<void(const Known&)>& then);
  void mark_done(int32_t partition, int64_t offset);
  std::shared_ptr<MemoryQueue> fresh_inner();

  KafkaQueueOptions options_;
  const Clock& clock_;
  std::string deliveries_topic_, state_topic_, orderings_topic_, dead_topic_;
  // The group member fetches and commits; `offsets_` (the group's id, never a member) asks for
  // offsets and watermarks, which a broker would answer on the member's connection only after
  // its pending fetch; the readers read the state and the orderings back.
  kafka::Handle producer_, consumer_, offsets_, state_reader_, orderings_reader_;
  rd_kafka_queue_t* consumer_queue_ = nullptr;  // where async commits are answered
  std::atomic<bool> running_{true};
  std::atomic<bool> closed_{false};
  std::atomic<bool> up_{true};
  std::atomic<int> unrecorded_{0};  // consumed deliveries not yet leasable (being recorded)
  std::atomic<bool> offsets_pending_{false};  // learn_committed() is due
  // refresh_depth()'s: the partitions not owned here, and every partition's end offset.
  mutable std::mutex refresh_mu_;  // one refresh at a time
  mutable std::mutex depth_mu_;
  mutable size_t depth_elsewhere_ = 0;
  mutable std::map<int32_t, int64_t> ends_;
  mutable std::chrono::steady_clock::time_point refreshed_{};
  kafka::PushDeadlines push_deadlines_;  // answered by the producer thread past the bound
  std::thread producer_thread_, consumer_thread_, orderings_thread_;

  // The epoch: the inner queue of the current assignment. Leases carry it in their token's
  // high bits; a rebalance takes the lock exclusively and replaces the inner queue.
  mutable std::shared_mutex epoch_mu_;
  uint64_t epoch_ = 1;
  std::shared_ptr<MemoryQueue> inner_;

  mutable std::mutex parts_mu_;  // partitions_ and known_
  std::map<int32_t, Partition> partitions_;
  std::unordered_map<std::string, Known> known_;

  mutable std::mutex modes_mu_;
  std::condition_variable modes_cv_;
  std::unordered_map<std::string, EndpointOrdering> modes_;
  int64_t modes_offset_ = -1;  // the last orderings record applied

  std::mutex listener_mu_;
  std::function<void()> listener_;
};

}  // namespace sealhook
