#pragma once
// Runs an io_context on the calling thread until it is stopped or runs out of work. An exception
// that escapes a handler (a bug, or an environment failure such as the random source failing)
// is logged and the loop goes on: one bad request never ends the process.
#include <boost/asio/io_context.hpp>
#include <string_view>

namespace sealhook::net {

// Returns the number of exceptions caught (for tests).
size_t run_guarded(boost::asio::io_context& io, std::string_view thread_name);

}  // namespace sealhook::net
