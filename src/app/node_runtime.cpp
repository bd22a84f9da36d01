#include "app/node_runtime.hpp"

#include <dlfcn.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "net/io_runner.hpp"

namespace sealhook::app {
namespace {

// Hands memory the allocator holds free back to the system. The binary is linked with tcmalloc
// (apps/sealhook), which keeps what a drained backlog freed (gigabytes after a long outage of
// one endpoint) for reuse; it is looked up at run time so that other builds (sanitizers, tests)
// need not link it, and does nothing without it.
void release_free_memory() {
  using Release = void (*)();
  static const auto release =
      reinterpret_cast<Release>(dlsym(RTLD_DEFAULT, "MallocExtension_ReleaseFreeMemory"));
  if (release != nullptr) release();
}

}  // namespace

NodeRuntime::NodeRuntime(Node& node)
    : n_(node),
      release_timer_(node.io),
      reconcile_timer_(node.io),
      gauges_timer_(node.io),
      work_(boost::asio::make_work_guard(node.io)),
      signals_(signal_io_, SIGINT, SIGTERM) {}

NodeRuntime::~NodeRuntime() {
  if (!stopped_) stop();
}

void NodeRuntime::start() {
  signals_.async_wait([](auto, int) {});
  arm_release();
  for (int i = 0; i < n_.config.io_threads; ++i)
    threads_.emplace_back([this] { net::run_guarded(n_.io, "io"); });
  n_.dispatcher->start();
}

void NodeRuntime::arm_release() {
  release_timer_.expires_after(std::chrono::seconds(10));
  release_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    release_free_memory();
    arm_release();
  });
}

void NodeRuntime::arm_gauges(std::chrono::milliseconds after) {
  gauges_timer_.expires_after(after);
  gauges_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    // The count runs on the blocking pool, never on an io thread; one at a time.
    if (n_.slow_gauges.try_begin())
      boost::asio::post(*n_.blocking, [this] {
        n_.slow_gauges.refresh(*n_.store, *n_.queue, n_.clock.now_ms());
        if (n_.health) n_.health->refresh();  // others' failure streaks, for a success to end
        n_.slow_gauges.end();
      });
    arm_gauges(std::chrono::milliseconds(n_.config.metrics_refresh_ms));
  });
}

void NodeRuntime::reconcile_now() {
  const bool shared = shared_queue(n_.config.queue);
  boost::asio::post(*n_.blocking, [this, shared] {
    auto r = reconcile(*n_.store, n_.queue.get(), n_.config.queue, n_.clock.now_ms(),
                       shared ? n_.config.reconcile_after_ms : 0);
    if (!r)
      spdlog::error("recovery: checking pending records against the queue failed: {}",
                    r.error().message);
  });
}

void NodeRuntime::start_reconcile() {
  arm_gauges(std::chrono::milliseconds(0));
  reconcile_now();
  watch_queue_resets(n_);  // a queue that lost its data: what it held is marked lost at once
  if (shared_queue(n_.config.queue)) arm_reconcile();
}

void NodeRuntime::arm_reconcile() {
  reconcile_timer_.expires_after(std::chrono::milliseconds(n_.config.reconcile_after_ms));
  reconcile_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    reconcile_now();
    arm_reconcile();
  });
}

void NodeRuntime::wait_for_signal() { signal_io_.run(); }

NodeRuntime::Stopped NodeRuntime::stop() {
  stopped_ = true;
  const bool durable = n_.queue->durable();
  spdlog::info("shutting down: {} for up to {} ms",
               durable ? "no new leases, finishing attempts in flight" : "draining",
               n_.config.drain_timeout_ms);
  n_.queue->close();
  boost::asio::post(n_.io, [this] {  // the timers are the io threads'
    release_timer_.cancel();
    reconcile_timer_.cancel();
    gauges_timer_.cancel();
  });
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(n_.config.drain_timeout_ms);
  Stopped out;
  if (durable) n_.dispatcher->stop();  // what is queued stays for the next start (or others)
  out.drained = n_.dispatcher->drain(deadline, !durable);
  n_.dispatcher->stop();
  // The queue's own count of leases is the in-flight figure: an attempt sent and not yet
  // answered, or answered and not yet settled, is still leased.
  out.left = n_.queue->stats();
  n_.journal->stop();
  n_.blocking->join();
  n_.reads->join();
  work_.reset();
  n_.io.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  return out;
}

}  // namespace sealhook::app
