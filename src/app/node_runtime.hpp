#pragma once
// What `serve` and `worker` do alike once assemble() has built a Node: io threads, the
// dispatcher, SIGTERM/SIGINT, the timers every process runs (memory given back, reconcile on
// the blocking pool) and the stop sequence. The commands add their own listeners around it.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "app/node.hpp"
#include "queue/queue.hpp"

namespace sealhook::app {

class NodeRuntime {
 public:
  explicit NodeRuntime(Node& node);
  ~NodeRuntime();
  NodeRuntime(const NodeRuntime&) = delete;
  NodeRuntime& operator=(const NodeRuntime&) = delete;

  // Starts the io threads, the dispatcher and the timers; SIGTERM/SIGINT are caught from here.
  void start();
  // Store records pending that no queue holds are settled, on the blocking pool: once now,
  // and with a shared queue again every --reconcile-after-ms, only for records unchanged that
  // long (another process may be delivering a newer one this moment). The metrics' slow gauges
  // start being counted here too: after the banner, which a log line of theirs (a failed count)
  // would otherwise cut into.
  void start_reconcile();
  // Blocks until SIGTERM or SIGINT.
  void wait_for_signal();

  struct Stopped {
    bool drained = false;  // nothing in flight (memory queue: nothing queued either)
    QueueStats left;       // the queue's count as the dispatcher stopped
  };
  // The queue is closed to pushes; a durable queue keeps what it holds, so leasing stops and
  // only the attempts in flight finish; the memory queue is drained. Both for up to
  // --drain-timeout-ms. Then everything stops, the io threads last.
  Stopped stop();

 private:
  void arm_release();
  // The store gauges (/metrics) are counted now, on the blocking pool, then every
  // --metrics-refresh-ms.
  void arm_gauges(std::chrono::milliseconds after);
  void arm_reconcile();
  void reconcile_now();

  Node& n_;
  boost::asio::steady_timer release_timer_;
  boost::asio::steady_timer reconcile_timer_;
  boost::asio::steady_timer gauges_timer_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
  boost::asio::io_context signal_io_;
  boost::asio::signal_set signals_;
  bool stopped_ = false;
};

}  // namespace sealhook::app
