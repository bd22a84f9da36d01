#include "store/postgres/catalog_listener.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace sealhook::postgres {

CatalogListener::CatalogListener(std::string conninfo, ConnectOptions connect,
                                 ListenOptions options, std::function<void()> on_change)
    : conninfo_(std::move(conninfo)),
      connect_(connect),
      options_(std::move(options)),
      on_change_(std::move(on_change)),
      stop_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  thread_ = std::thread([this] { run(); });
}

CatalogListener::~CatalogListener() {
  uint64_t one = 1;
  if (stop_fd_ >= 0) (void)!::write(stop_fd_, &one, sizeof one);
  if (thread_.joinable()) thread_.join();
  if (stop_fd_ >= 0) ::close(stop_fd_);
}

bool CatalogListener::pause(std::chrono::milliseconds d) {
  pollfd p{stop_fd_, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(d.count())) > 0;
}

void CatalogListener::run() {
  std::chrono::milliseconds backoff{100};
  while (true) {
    auto conn = Connection::open(conninfo_, connect_);
    if (conn) {
      // The channel is a constant of ours (an identifier, quoted as one).
      if (Status s = (*conn)->exec("LISTEN \"" + options_.channel + "\"", "listen"); s) {
        backoff = std::chrono::milliseconds{100};
        on_change_();  // what was missed while disconnected
        if (listen(**conn)) return;
      }
    }
    if (pause(backoff)) return;
    backoff = std::min(backoff * 2, options_.backoff_max);
  }
}

bool CatalogListener::listen(Connection& conn) {
  int socket = PQsocket(conn.handle());
  if (socket < 0) return false;
  while (true) {
    pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {socket, POLLIN, 0}};
    int n = ::poll(fds, 2, static_cast<int>(options_.probe.count()));
    if (n < 0 && errno != EINTR) return false;
    if (fds[0].revents != 0) return true;
    if (n == 0) {
      // Idle: a round trip tells a live server from one that vanished without a word.
      if (!conn.exec("SELECT 1", "probe the listening connection")) return false;
    } else if (PQconsumeInput(conn.handle()) == 0) {
      return false;
    }
    bool notified = false;
    while (PGnotify* note = PQnotifies(conn.handle())) {
      notified = true;
      PQfreemem(note);
    }
    if (notified) on_change_();
    if (conn.broken()) return false;
  }
}

}  // namespace sealhook::postgres
