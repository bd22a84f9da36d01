#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>

#include "store/store.hpp"
#include "test_util.hpp"

namespace sealhook {
namespace {

using testing::TempDir;

TEST(StoreFactory, RefusesUnknownSpecs) {
  for (const char* spec : {"", "mysql://db", "sqlite", "sqlite:", "memory", "SQLITE:/tmp"}) {
    auto store = make_store(spec);
    ASSERT_FALSE(store.ok()) << spec;
    EXPECT_EQ(store.error().kind, ErrorKind::kBadRequest) << spec;
    EXPECT_EQ(store.error().code, "invalid_store") << spec;
    EXPECT_FALSE(store.error().message.empty());
  }
}

// Nothing listens on port 1: the connection is refused at once, and the store is unavailable
// (503), not a bad spec.
TEST(StoreFactory, PostgresThatCannotBeReachedIsUnavailable) {
  for (const char* spec : {"postgres://sealhook@127.0.0.1:1/sealhook",
                           "postgresql://sealhook@127.0.0.1:1/sealhook?pool_size=2"}) {
    auto store = make_store(spec);
    ASSERT_FALSE(store.ok()) << spec;
    EXPECT_EQ(store.error().kind, ErrorKind::kUnavailable) << spec;
    EXPECT_EQ(store.error().code, "store_unavailable") << spec;
  }
}

// A server that never answers: a socket that listens but never accepts (the kernel completes
// the TCP handshake and keeps the startup packet; no reply ever comes). The open fails within
// its connect_timeout_ms, not when TCP gives up.
TEST(StoreFactory, PostgresThatNeverAnswersFailsWithinTheConnectTimeout) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 16), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string spec = "postgres://sealhook@127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) +
                           "/sealhook?sslmode=disable&connect_timeout_ms=300";
  auto started = std::chrono::steady_clock::now();
  auto store = make_store(spec);
  auto took = std::chrono::steady_clock::now() - started;
  ::close(fd);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().kind, ErrorKind::kUnavailable);
  EXPECT_NE(store.error().message.find("300 ms"), std::string::npos) << store.error().message;
  EXPECT_GE(took, std::chrono::milliseconds(250));
  EXPECT_LT(took, std::chrono::milliseconds(1500));
}

TEST(StoreFactory, RefusesBadPostgresKnobs) {
  for (const char* spec : {"postgres://h/db?pool_size=0", "postgres://h/db?pool_size=x",
                           "postgres://h/db?sslmode=disable&pool_wait_ms=-1",
                           "postgres://h/db?connect_timeout_ms=5"}) {
    auto store = make_store(spec);
    ASSERT_FALSE(store.ok()) << spec;
    EXPECT_EQ(store.error().code, "invalid_store") << spec;
    EXPECT_NE(store.error().message.find("must be a whole number"), std::string::npos) << spec;
  }
}

TEST(StoreFactory, OpensInMemory) {
  auto store = testing::open_store("sqlite::memory:");
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->ping().ok());
}

TEST(StoreFactory, CreatesTheDirectoryAndAPrivateDatabaseFile) {
  TempDir dir;
  auto path = dir.path() / "nested" / "data";
  auto store = testing::open_store("sqlite:" + path.string());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(std::filesystem::exists(path / "sealhook.db"));
  struct stat st {};
  ASSERT_EQ(::stat((path / "sealhook.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(StoreFactory, OpensADotDbFile) {
  TempDir dir;
  auto file = dir.path() / "sub" / "custom.db";
  auto store = testing::open_store("sqlite:" + file.string());
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(std::filesystem::is_regular_file(file));
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "sub" / "custom.db-wal"));  // WAL mode
}

TEST(StoreFactory, ReopenKeepsTheDataAndMigrationsAreIdempotent) {
  TempDir dir;
  const std::string spec = "sqlite:" + dir.path().string();
  {
    auto store = testing::open_store(spec);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(
        store->insert_tenant(testing::tenant("tn_a"), testing::api_key("ak_a", "tn_a")).ok());
    ASSERT_TRUE(store->write_deliveries({{testing::delivery("tn_a", 1), {}, {}, false}}).ok());
  }
  for (int round = 0; round < 2; ++round) {
    auto store = testing::open_store(spec);
    ASSERT_NE(store, nullptr);
    auto catalog = store->load_catalog();
    ASSERT_TRUE(catalog.ok());
    ASSERT_EQ(catalog->tenants.size(), 1u);
    EXPECT_EQ(catalog->tenants[0].id, "tn_a");
    auto count = store->count_deliveries(std::nullopt);
    ASSERT_TRUE(count.ok());
    EXPECT_EQ(*count, 1);
  }
}

TEST(StoreFactory, UnusablePathIsAnErrorNotACrash) {
  TempDir dir;
  auto blocker = dir.path() / "file";
  {
    std::FILE* f = std::fopen(blocker.c_str(), "w");
    std::fclose(f);
  }
  auto store = make_store("sqlite:" + (blocker / "sub").string());  // parent is a file
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().kind, ErrorKind::kUnavailable);
}

TEST(StoreFactory, AFileThatIsNotADatabaseIsAnErrorNotACrash) {
  TempDir dir;
  auto file = dir.path() / "junk.db";
  {
    std::FILE* f = std::fopen(file.c_str(), "w");
    std::fputs("this is not an SQLite database, not even close; padding padding padding", f);
    std::fclose(f);
  }
  auto store = make_store("sqlite:" + file.string());
  ASSERT_FALSE(store.ok());
  EXPECT_FALSE(store.error().message.empty());
}

}  // namespace
}  // namespace sealhook
