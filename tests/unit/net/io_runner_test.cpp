#include "net/io_runner.hpp"

#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <stdexcept>
#include <variant>

namespace sealhook::net {
namespace {

TEST(IoRunner, AHandlerThatThrowsIsLoggedAndTheLoopGoesOn) {
  boost::asio::io_context io;
  int after = 0;
  boost::asio::post(io, [] { throw std::runtime_error("RAND_bytes failed"); });
  boost::asio::post(io, [] { std::get<0>(std::variant<int, double>(1.0)); });  // bad access
  boost::asio::post(io, [] { throw 42; });
  boost::asio::post(io, [&] { ++after; });
  EXPECT_EQ(run_guarded(io, "test"), 3u);
  EXPECT_EQ(after, 1);
}

}  // namespace
}  // namespace sealhook::net
