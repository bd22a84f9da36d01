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
// by their state. An unordered delivery's retry moves it to `<prefix>.retries` (its endpoint's
// partition, which the same member owns), so the partition it came from goes on: the copy is
// written, then its state (naming the copy), and only then is the original done. An ordered
// head's retry waits in place. What a partition of either topic holds is bounded; past the
// bound it is paused, not dropped.
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
  // Topic names: <prefix>.deliveries, <prefix>.retries, <prefix>.state, <prefix>.orderings,
  // <prefix>.dead.
  std::string prefix = "sealhook";
  std::string group;               // the consumer group; "" means "<prefix>.workers"
  std::string owner = "sealhook";  // client.id, as logs and the broker show it
  int partitions = 12;
  std::chrono::milliseconds timeout{5000};           // a push, a write, topic creation, commits
  std::chrono::milliseconds session_timeout{10000};  // a member silent this long is evicted
  size_t held_per_partition = 2000;                  // consumed and not done: past it, paused
  // How long a produce request gathers records (linger), and a fetch waits for more of them.
  std::chrono::milliseconds batch{3};
  // An ack past its partition's commit point (after a delivery not done yet) is recorded in the
  // state topic once it has been so this long (most holes close sooner: no record then); a
  // process killed meanwhile leaves it to be delivered again. A handover records it at once.
  std::chrono::milliseconds ack_record_after{1000};
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
  Status defer(const Lease& lease, int64_t at_ms) override;
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
  // The first generation record of `<prefix>.orderings` ("generation/MS-RANDOM", written by
  // the first process that found none): topics made afresh (a broker that lost its data) have
  // another.
  std::optional<std::string> generation() const override;

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
  // Owned partitions are numbered by slot: a partition p of the deliveries topic is slot p,
  // partition p of the retries topic slot partitions + p (both map to state partition p).
  // A consumed record of an owned slot, by offset.
  struct Entry {
    std::string id;
    bool done = false;
    // Done by moving to the retries topic: the delivery lives on there, so passing this
    // offset leaves its state alone (unless `drop_state`: the copy finished meanwhile).
    bool moved = false;
    bool drop_state = false;
    // A first hand-out recorded by its partition's mark only: no state record of its own (so
    // none to tombstone), until one is written for it.
    bool unstated = false;
    bool ack_due = false;  // acked, its `A` not written (only if still past the point later)
    std::chrono::steady_clock::time_point acked_at{};
    int64_t origin = -1;     // a retries slot's: the delivery's offset in its deliveries partition
    std::string endpoint{};  // while held (not done): counted in its partition's per_endpoint
  };
  struct Partition {
    std::map<int64_t, Entry> entries;  // consumed, not yet committed past
    kafka::HandoutLine recording;      // consumed, its hand-out record being written
    int64_t next = -1;                 // the offset after the last consumed (-1: none yet)
    int64_t committed = -1;            // the last offset committed
    size_t done_past = 0;              // done past the commit point, as last committed
    size_t held = 0;                   // consumed and not done: the entries not marked done
    std::unordered_map<std::string, size_t> per_endpoint;  // `held`, by endpoint
    bool paused = false;
    // A deliveries slot's: ids whose retried copy finished before this slot read the original
    // (its offset here): their state goes once the commit point passes it.
    std::multimap<int64_t, std::string> drop_at;
    // A deliveries slot's hand-out mark: as read back at assign (every delivery at or before
    // it without a state of its own was handed out once), the highest first hand-out consumed
    // since, and the highest a mark was written for.
    int64_t handed_out = -1;
    int64_t marked = -1;
    int64_t mark_sent = -1;
    size_t acks_due = 0;  // entries with `ack_due`
  };
  struct Move;
  struct Known {  // an owned delivery, by id
    int32_t slot = 0;
    int64_t offset = 0;
    int64_t origin = -1;  // in a retries slot: its offset in the deliveries partition
    int recorded = 0;     // the highest attempt recorded in the state topic
    int base = 0;         // hand-outs of this round made before this assignment
    bool leased = false;  // handed out by this process
    // Being moved to the retries topic, and its copy if consumed before the move was recorded
    // (admitted then, or dropped if the move failed).
    std::shared_ptr<Move> move;
    std::shared_ptr<Move> arriving;  // moved, its copy not consumed yet
    std::shared_ptr<QueuedDelivery> parked;
    int64_t parked_at = -1;
  };
  // A retry moving to the retries topic (kafka_queue_retry.cpp).
  struct Move {
    uint64_t epoch = 0;
    std::shared_ptr<const QueuedDelivery> delivery;  // as leased
    int32_t from_slot = 0;
    int64_t from = 0;     // its offset there
    int64_t origin = -1;  // its offset in its deliveries partition
    int next = 0;         // the attempt it waits to make
    int64_t at_ms = 0;
    int64_t copy = -1;     // its offset in the retries topic, once written
    bool counted = false;  // in copies_in_flight_
    std::atomic<bool> ended{false};
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
  // Writes each deliveries slot's hand-out mark through its last first hand-out consumed (the
  // consumer thread, after each batch of messages); on_marked() is its answer.
  void write_marks();
  void on_marked(int32_t slot, uint64_t epoch, int64_t through, const Status& written);
  // Either answer, under the locks (nothing if `epoch` was revoked): what `answer` returns from
  // the slot's line becomes leasable.
  void leasable(int32_t slot, uint64_t epoch,
                const std::function<std::vector<QueuedDelivery>(kafka::HandoutLine&)>& answer);
  // A revoke's, before it returns: the hand-outs made here are recorded for the next owner
  // (each delivery leased and not done, by a record of its own; the mark goes back to the
  // commit point), so what was read and never handed out is not counted as handed out.
  void hand_back();
  // Commits each owned partition's point (asynchronously, or before returning); the state
  // records of the deliveries passed go once the broker has the commit. The acks past a point
  // for --kafka-ack-record-ms (`sync`, a revoke's: all of them) are recorded.
  void commit(bool sync);
  static void on_committed(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* offsets, void* opaque);
  void pause_or_resume();
  // The queue's depth over every partition, owned or not: end offset minus committed offset
  // minus what the committed metadata says is done past it (every owner commits that). Two
  // requests (end offsets, committed offsets), unless the last refresh is younger than `fresh`.
  void refresh_depth(std::chrono::milliseconds fresh) const;
  // A state partition read back whole: each delivery's state, and its hand-out mark (-1: none).
  Result<std::unordered_map<std::string, kafka::DeliveryState>> read_state(int32_t partition,
                                                                           int64_t& handed_out);
  Status read_orderings();  // assigns the orderings reader and reads to the end
  void follow_orderings();
  void apply_ordering(const EndpointOrdering& o, int64_t offset);
  void on_orderings_record(const rd_kafka_message_t* m);  // an ordering, or a generation
  Status make_generation();  // writes one if none was read, and waits to read the first back

  // A settle: the lease of the current assignment, translated for the inner queue, under the
  // epoch lock; `then` runs once the inner queue took it (known: the delivery's place).
  Status settle(const Lease& lease, const std::function<Status(MemoryQueue&, const Lease&)>& op,
                const std::function<void(const Known&)>& then);
  // Done: `acked` (its `A` is written at a commit tick that finds it past the commit point,
  // else never), or dead (its `D` was written).
  void mark_done(int32_t slot, int64_t offset, bool acked);
  // The retries topic (kafka_queue_retry.cpp): an unordered retry moves there.
  bool moves(const QueuedDelivery& d) const;
  // Its copy's state names attempt `next` (the lease's own again for a deferred one).
  void start_move(const Lease& lease, const Known& k, int64_t at_ms, int next, uint64_t epoch);
  // retry() and defer() (`give_back`: its hand-out uncounted, in its state too).
  Status put_back(const Lease& lease, int64_t at_ms, bool give_back);
  void on_copied(const std::shared_ptr<Move>& m, const Status& written, int64_t copy);
  void on_move_recorded(const std::shared_ptr<Move>& m, const Status& written);
  void stay_in_place(const std::shared_ptr<Move>& m);  // the move failed: retried in place
  void end_move(const std::shared_ptr<Move>& m);
  // Waits, at most `timeout`, until no move is in flight (`copied`: only until each copy and
  // its state are written, not consumed).
  void await_moves(std::chrono::milliseconds timeout, bool copied);
  // Under parts_mu_: the held entry at `offset` of `slot` is done (`moved`: its delivery lives
  // on as a copy elsewhere, so passing it leaves its state alone); its id, or null if it was
  // not held.
  const std::string* finish(int32_t slot, int64_t offset, bool moved);
  void mark_moved(int32_t slot, int64_t offset) { (void)finish(slot, offset, true); }
  // Under parts_mu_: an entry of `part` becomes held (consumed, not done), or done.
  static void hold(Partition& part, Entry& e, const std::string& endpoint);
  void uncount(const std::shared_ptr<Move>& m);  // under parts_mu_: out of copies_in_flight_
  // Under parts_mu_: whether `endpoint` had a delivery retried in the last minute.
  bool failing(const std::string& endpoint);
  static void release(Partition& part, Entry& e);
  // Under parts_mu_: whether `d`, consumed in deliveries slot `slot`, goes straight to the
  // retries topic (its unordered endpoint failed in the last minute and already holds its share
  // of the partition: a failing or hanging endpoint's backlog would otherwise fill the
  // partition's bound and pause it), and if so the move to make (copy_out() it, unlocked).
  std::shared_ptr<Move> spill(int32_t slot, int64_t offset,
                              const std::shared_ptr<QueuedDelivery>& d, int next, uint64_t epoch);
  void copy_out(const std::shared_ptr<Move>& m);  // writes the copy of a move
  // Under parts_mu_: whether the record consumed at `offset` of `slot` is a live delivery to
  // admit, about to make attempt `next` (else it is marked done, or parked for its move);
  // `by_mark`: its first hand-out, recorded by the partition's hand-out mark.
  bool take(int32_t slot, int64_t offset, const std::shared_ptr<QueuedDelivery>& d, int& next,
            int64_t& origin, bool& by_mark);
  // Under parts_mu_: makes `d` known and leasable once its hand-out record (returned: the
  // caller writes it, unlocked, unless `by_mark`) is written.
  kafka::DeliveryState admit(int32_t slot, int64_t offset, const std::shared_ptr<QueuedDelivery>& d,
                             int next, int64_t origin, bool by_mark = false);
  // Under parts_mu_: a state record of its own is being written for the owned delivery `k`.
  void stated(const Known& k);
  // Under parts_mu_: a done entry of `slot` passed by the commit point: whether its state goes.
  bool state_goes(int32_t slot, const Entry& e);
  kafka::DeliveryState state_at(const Known& k, kafka::DeliveryState::Kind kind, int attempt = 0,
                                int64_t at_ms = 0) const;
  int32_t partition_of_slot(int32_t slot) const { return slot % options_.partitions; }
  bool retry_slot(int32_t slot) const { return slot >= options_.partitions; }
  const std::string& topic_of(int32_t slot) const {
    return retry_slot(slot) ? retries_topic_ : deliveries_topic_;
  }
  int32_t slots() const { return 2 * options_.partitions; }
  int32_t slot_of(const char* topic, int32_t partition) const {
    return retries_topic_ == topic ? options_.partitions + partition : partition;
  }
  std::shared_ptr<MemoryQueue> fresh_inner();

  KafkaQueueOptions options_;
  const Clock& clock_;
  std::string deliveries_topic_, retries_topic_, state_topic_, orderings_topic_, dead_topic_;
  // The group member fetches and commits; `offsets_` (the group's id, never a member) asks for
  // offsets and watermarks, which a broker would answer on the member's connection only after
  // its pending fetch; the readers read the state and the orderings back.
  kafka::Handle producer_, consumer_, offsets_, state_reader_, orderings_reader_;
  rd_kafka_queue_t* consumer_queue_ = nullptr;  // where async commits are answered
  std::atomic<bool> running_{true};
  std::atomic<bool> closed_{false};
  std::atomic<bool> up_{true};
  std::atomic<int> unrecorded_{0};  // consumed deliveries not yet leasable (being recorded)
  // Retries being moved to the retries topic, until their copy is consumed and admitted.
  std::atomic<int> moving_{0};
  std::mutex moves_mu_;
  std::condition_variable moves_cv_;          // moving_ went down
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

  mutable std::mutex parts_mu_;              // partitions_, states_ and known_
  std::map<int32_t, Partition> partitions_;  // by slot
  // By state partition: each delivery's state as read back at assign (and, for a retried
  // copy that finished before its original was read again, as this process made it).
  std::map<int32_t, std::unordered_map<std::string, kafka::DeliveryState>> states_;
  std::unordered_map<std::string, Known> known_;
  // Moves whose copy is written and whose original is not done yet: both are in their topics,
  // and the depth counts the delivery once.
  size_t copies_in_flight_ = 0;
  // When each endpoint last had a delivery retried (a failure or a timeout): only such an
  // endpoint's backlog spills to the retries topic (a healthy one's is just a backlog).
  std::unordered_map<std::string, int64_t> failed_at_;

  mutable std::mutex modes_mu_;
  std::condition_variable modes_cv_;
  std::unordered_map<std::string, EndpointOrdering> modes_;
  int64_t modes_offset_ = -1;  // the last orderings record applied
  std::string generation_;     // the first generation record read (modes_mu_)

  std::mutex listener_mu_;
  std::function<void()> listener_;
};

}  // namespace sealhook
