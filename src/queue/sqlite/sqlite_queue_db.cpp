// SqliteQueue's own thread: each round takes what publishers and the dispatcher left (pushes,
// settles), arms due deliveries (records their hand-out, loads their body), commits it all in
// one transaction, then makes the result visible. Recovery reads the file back at open.
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <unordered_set>

#include "queue/sqlite/sqlite_queue.hpp"
#include "queue/sqlite/sqlite_queue_round.hpp"
#include "store/sqlite/connection.hpp"

namespace sealhook {

namespace {
// 2: deliveries.body_bytes, so that recovery counts the bytes held without reading bodies.
// 3: endpoint orderings (set_ordering) in their own table, which kSchema makes.
// 4: deliveries.traceparent (the publish's trace context; '' in rows from before).
constexpr int kSchemaVersion = 4;
constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS bodies (id INTEGER PRIMARY KEY, body BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS deliveries ("
    " seq INTEGER PRIMARY KEY, id TEXT NOT NULL, tenant_id TEXT NOT NULL,"
    " endpoint_id TEXT NOT NULL, event_id TEXT NOT NULL, event_type TEXT NOT NULL,"
    " body_id INTEGER NOT NULL, ordered INTEGER NOT NULL, prior_attempts INTEGER NOT NULL,"
    " handouts INTEGER NOT NULL, due_ms INTEGER NOT NULL, published_at_ms INTEGER NOT NULL,"
    " body_bytes INTEGER NOT NULL DEFAULT 0, traceparent TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE IF NOT EXISTS orderings ("
    " endpoint_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, ordered INTEGER NOT NULL);";
constexpr const char* kFromVersion1 =
    "BEGIN;"
    "ALTER TABLE deliveries ADD COLUMN body_bytes INTEGER NOT NULL DEFAULT 0;"
    "UPDATE deliveries SET body_bytes ="
    " (SELECT length(body) FROM bodies WHERE bodies.id = deliveries.body_id);"
    "PRAGMA user_version = 2;"
    "COMMIT;";
constexpr const char* kToVersion4 =
    "ALTER TABLE deliveries ADD COLUMN traceparent TEXT NOT NULL DEFAULT ''";
// After a failed commit (disk full), the next round waits this long.
constexpr std::chrono::milliseconds kFailedRoundPause{100};
constexpr std::chrono::milliseconds kCheckpointEvery{100};
constexpr int kWalRestartFrames = 1024;  // 4 MiB of 4 KiB pages
}  // namespace

Result<std::unique_ptr<SqliteQueue>> SqliteQueue::open(const SqliteQueueOptions& options,
                                                       const Clock& clock) {
  std::error_code ec;
  auto parent = std::filesystem::path(options.path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  // Owner-only, like the store: ciphertext, but also tenant, endpoint and event ids. SQLite
  // gives its -wal and -shm files the same mode.
  if (int fd = ::open(options.path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600); fd >= 0)
    ::close(fd);
  auto conn = sqlite::Connection::open(options.path, {});
  if (!conn) return conn.error();
  sqlite::Connection& c = **conn;
  if (auto st =
          c.exec(options.sync_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
                 "set the queue's sync mode");
      !st)
    return st.error();
  if (auto st = c.exec(kSchema, "create the queue schema"); !st) return st.error();
  auto v = c.query("PRAGMA user_version");
  if (!v) return v.error();
  if ((*v)->step() != SQLITE_ROW) return c.error(SQLITE_ERROR, "read the queue's version");
  int version = (*v)->int32(0);
  v->reset();
  if (version > kSchemaVersion)
    return make_error(ErrorKind::kInternal, "queue_error",
                      "the queue file " + options.path + " is newer than this build");
  if (version == 1) {
    if (auto st = c.exec(kFromVersion1, "upgrade the queue file"); !st) return st.error();
  }
  if (version >= 1 && version < 4) {
    if (auto st = c.exec(kToVersion4, "upgrade the queue file"); !st) return st.error();
  }
  const std::string set_version = "PRAGMA user_version = " + std::to_string(kSchemaVersion);
  if (auto st = c.exec(set_version.c_str(), "set the queue's version"); !st) return st.error();
  // Checkpoints are the checkpointer thread's (checkpoint_loop).
  if (auto st = c.exec("PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 67108864",
                       "set the queue's checkpointing");
      !st)
    return st.error();
  auto cp = sqlite::Connection::open(options.path, {});
  if (!cp) return cp.error();
  std::unique_ptr<SqliteQueue> q(new SqliteQueue(options, clock, std::move(conn.value())));
  q->checkpoint_conn_ = std::move(cp.value());
  sqlite3_wal_hook(q->conn_->handle(), &SqliteQueue::on_wal_commit, q.get());
  if (auto st = q->recover(); !st) return st.error();
  q->thread_ = std::thread([p = q.get()] { p->run(); });
  q->checkpointer_ = std::thread([p = q.get()] { p->checkpoint_loop(); });
  return q;
}

Status SqliteQueue::recover() {
  const int64_t now = clock_.now_ms();
  if (Status st = recover_orderings(); !st) return st;
  auto st = conn_->query(
      "SELECT seq, endpoint_id, body_id, ordered, handouts, due_ms, tenant_id, body_bytes"
      " FROM deliveries ORDER BY seq");
  if (!st) return st.error();
  int rc;
  while ((rc = (*st)->step()) == SQLITE_ROW) {
    const auto& r = **st;
    Slot s;
    s.seq = r.int64(0);
    // A lane whose ordering was never set takes it from its oldest delivery.
    s.lane = lane_for(r.text(1), r.text(6), r.int32(3) != 0);
    s.body_id = r.int64(2);
    s.handouts = r.int32(4);
    s.due_ms = r.int64(5);
    next_seq_ = std::max(next_seq_, s.seq + 1);
    next_body_ = std::max(next_body_, s.body_id + 1);
    BodyRef& ref = body_refs_[s.body_id];
    if (ref.deliveries++ == 0) {
      ref.bytes = static_cast<size_t>(r.int64(7));
      bytes_ += ref.bytes;
    }
    auto [it, fresh] = slots_.emplace(s.seq, std::move(s));
    make_waiting(it->second, now);
  }
  if (rc != SQLITE_DONE) return conn_->error(rc, "recover the queue");
  st->reset();
  auto b = conn_->query("SELECT COALESCE(MAX(id), 0) FROM bodies");
  if (!b) return b.error();
  if ((*b)->step() == SQLITE_ROW) next_body_ = std::max(next_body_, (*b)->int64(0) + 1);
  if (!slots_.empty())
    spdlog::info("queue: recovered {} deliveries from {}", slots_.size(), options_.path);
  return {};
}

void SqliteQueue::checkpoint_loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    checkpoint_cv_.wait_for(lock, kCheckpointEvery, [&] { return stopping_ || wal_wake_; });
    if (stopping_) break;
    wal_wake_ = false;
    lock.unlock();
    // PASSIVE: copies what it can without blocking the writer; a failure (disk full) is
    // tried again next time, the WAL keeps everything meanwhile.
    (void)checkpoint_conn_->exec("PRAGMA wal_checkpoint(PASSIVE)", "checkpoint the queue");
    lock.lock();
    if (wal_frames_ < kWalRestartFrames || stopping_) continue;
    // Rounds held back, the one being written finished: what it and its predecessors added
    // since the pass above is copied, the WAL is then whole in the database file.
    wal_gate_ = true;
    done_cv_.wait(lock, [&] { return !in_round_ || stopping_; });
    lock.unlock();
    int log = 0, copied = 0;
    const int rc = sqlite3_wal_checkpoint_v2(checkpoint_conn_->handle(), nullptr,
                                             SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
    lock.lock();
    wal_gate_ = false;
    if (rc == SQLITE_OK && copied == log) wal_frames_ = 0;  // the next commit restarts it
    work_cv_.notify_all();
  }
}

int SqliteQueue::on_wal_commit(void* self, sqlite3*, const char*, int frames) {
  auto* q = static_cast<SqliteQueue*>(self);
  // Crossing the bound wakes the checkpointer at once (a fast writer fills the WAL well within
  // its interval). One that stays over it (the restart failed: disk full) waits the interval.
  if (q->wal_frames_.exchange(frames) < kWalRestartFrames && frames >= kWalRestartFrames) {
    q->wal_wake_ = true;
    q->checkpoint_cv_.notify_all();
  }
  return SQLITE_OK;
}

bool SqliteQueue::has_work(int64_t now_ms) const {
  if (!jobs_.empty() || !switches_.empty() || ops_taken_ < ops_added_) return true;
  if (!timers_.empty() && timers_.front().first <= now_ms) return true;
  if (!deadlines_.empty() && deadlines_.front().first <= now_ms) return true;
  return !active_.empty() && armed_.size() < options_.max_armed;
}

int64_t SqliteQueue::next_wake_ms() const {
  int64_t wake = 0;
  if (!timers_.empty()) wake = timers_.front().first;
  if (!deadlines_.empty() && (wake == 0 || deadlines_.front().first < wake))
    wake = deadlines_.front().first;
  return wake;
}

void SqliteQueue::run() {
  std::unique_lock lock(mu_);
  auto round_start = std::chrono::steady_clock::time_point{};
  bool busy = false;  // work came while the last round was written
  for (;;) {
    int64_t now = clock_.now_ms();
    while (!stopping_ && (wal_gate_ || !has_work(now))) {
      done_cv_.notify_all();  // quiesce() waiters: nothing to do
      wake_ms_ = next_wake_ms();
      if (wake_ms_ == 0)
        work_cv_.wait(lock);
      else
        work_cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(wake_ms_ - now, 1)));
      now = clock_.now_ms();
    }
    wake_ms_ = 0;
    // Under a steady load (work came while the last round was written), rounds start at least
    // round_gap apart: each commit then carries a gap's worth of work instead of the two or
    // three deliveries that came meanwhile, and every commit rewrites each page it touches
    // (~4.5 WAL pages per delivery at 15,000/s without it). Otherwise (idle, or one ordered
    // endpoint whose next delivery waits for this round's) the next round starts at once.
    if (auto gap_end = round_start + options_.round_gap;
        busy && !stopping_ && pending_push_ < options_.max_group &&
        std::chrono::steady_clock::now() < gap_end) {
      pacing_ = true;
      work_cv_.wait_until(lock, gap_end,
                          [&] { return stopping_ || pending_push_ >= options_.max_group; });
      pacing_ = false;
      continue;  // the checks again: the WAL gate may have closed meanwhile
    }
    if (stopping_ && jobs_.empty() && switches_.empty() && ops_taken_ == ops_added_) break;
    round_start = std::chrono::steady_clock::now();
    Round r;
    collect(r, now);
    in_round_ = true;
    lock.unlock();
    Status st = write(r);
    std::function<void()> listener;
    lock.lock();
    apply(r, st);
    in_round_ = false;
    busy = !jobs_.empty() || !switches_.empty() || ops_added_ != ops_taken_;
    done_cv_.notify_all();
    if (r.armed_any && listener_) listener = listener_;
    lock.unlock();
    // Outside the lock: asynchronous pushers hear their answer, the dispatcher its nudge.
    for (auto& job : r.jobs)
      if (job->callback) job->callback(job->result);
    if (listener) listener();
    lock.lock();
    if (!st) {
      if (stopping_) break;  // nothing more will be written; what is on disk stays
      work_cv_.wait_for(lock, kFailedRoundPause);
    }
  }
  for (auto& sw : switches_) {
    sw->done = true;
    sw->result = make_error(ErrorKind::kUnavailable, "shutting_down", "the queue is closing");
  }
  switches_.clear();
  auto left = std::move(jobs_);
  jobs_.clear();
  for (auto& job : left) {
    job->done = true;
    job->result = make_error(ErrorKind::kUnavailable, "shutting_down", "the queue is closing");
  }
  done_cv_.notify_all();
  lock.unlock();
  for (auto& job : left)
    if (job->callback) job->callback(job->result);
}

// Under the lock: what this round writes. Jobs and settles are taken whole; due deliveries are
// armed lane by lane, round-robin, up to max_armed armed at once.
void SqliteQueue::collect(Round& r, int64_t now_ms) {
  expire(now_ms);
  release_timers(now_ms);
  take_switches(r, now_ms);  // before arming, so that this round arms by the new orderings
  size_t taken = 0;
  while (!jobs_.empty() && (r.jobs.empty() || taken < options_.max_group)) {
    taken += jobs_.front()->slots.size();
    r.jobs.push_back(std::move(jobs_.front()));
    jobs_.pop_front();
  }
  r.ops = std::move(ops_);
  ops_.clear();
  ops_taken_ = ops_added_;
  r.ops_ticket = ops_taken_;
  size_t budget = options_.max_armed > armed_.size() ? options_.max_armed - armed_.size() : 0;
  // One delivery per lane per turn, so that busy lanes share by turns (QueueOptions). A lane
  // held back by its tenant's cap is parked with the tenant; one held back by its own share
  // comes back with its next settle. Each turn arms one or takes a lane out, so the loop ends.
  while (budget > 0 && !active_.empty()) {
    uint32_t li = active_.front();
    active_.pop_front();
    Lane& lane = lanes_[li];
    lane.listed = false;
    if (lane.ready.empty()) continue;
    Slot& s = slots_.at(*lane.ready.begin());
    if (!armable(lane, s, now_ms)) {
      TenantState& t = tenants_[lane.tenant];
      if (t.reserved >= options_.queue.max_inflight_per_tenant) {
        lane.listed = true;
        t.parked.push_back(li);
      }
      continue;
    }
    lane.ready.erase(lane.ready.begin());
    s.state = State::kArming;
    reserve(li);
    budget--;
    r.arms.push_back(Round::Arm{s.seq, s.handouts + 1, s.data == nullptr, nullptr});
    activate(li);
  }
  // New deliveries that may go at once are armed as they are written (hand-out 1), unless an
  // older one of their lane still waits.
  std::unordered_set<uint32_t> blocked;
  for (auto& job : r.jobs) {
    for (Slot& s : job->slots) {
      Lane& lane = lanes_[s.lane];
      bool go = budget > 0 && s.due_ms <= now_ms && lane.ready.empty() &&
                !blocked.contains(s.lane) && armable(lane, s, now_ms);
      if (!go) {
        blocked.insert(s.lane);
        continue;
      }
      s.state = State::kArming;
      s.handouts = 1;
      reserve(s.lane);
      budget--;
    }
  }
}

}  // namespace sealhook
