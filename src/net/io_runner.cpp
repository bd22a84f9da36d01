#include "net/io_runner.hpp"

#include <spdlog/spdlog.h>

#include <exception>

namespace sealhook::net {

size_t run_guarded(boost::asio::io_context& io, std::string_view thread_name) {
  size_t caught = 0;
  for (;;) {
    try {
      io.run();  // Asio allows run() again after a handler threw
      return caught;
    } catch (const std::exception& e) {
      ++caught;
      spdlog::error("{} thread: a handler threw ({}); still serving", thread_name, e.what());
    } catch (...) {
      ++caught;
      spdlog::error("{} thread: a handler threw; still serving", thread_name);
    }
  }
}

}  // namespace sealhook::net
