#include "app/file_set.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>

#include "config_test_util.hpp"

namespace sealhook::app {
namespace {

using testing::ScratchDir;

std::map<std::string, std::string> listing(const std::filesystem::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(e.path());
    out[e.path().filename().string()] = std::string(std::istreambuf_iterator<char>(in), {});
  }
  return out;
}

std::vector<FileToWrite> set_in(const std::filesystem::path& dir) {
  return {{dir / "a", "A\n", 0600}, {dir / "b", "B\n", 0644}, {dir / "c", "C\n", 0600}};
}

TEST(FileSet, WritesEveryFileWithItsMode) {
  ScratchDir dir;
  ASSERT_TRUE(write_file_set(set_in(dir.path()), false).ok());
  EXPECT_EQ(listing(dir.path()),
            (std::map<std::string, std::string>{{"a", "A\n"}, {"b", "B\n"}, {"c", "C\n"}}));
  struct stat st {};
  ASSERT_EQ(::stat((dir.path() / "a").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir.path() / "b").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST(FileSet, AnyFileOfTheSetAlreadyThereLeavesTheDirectoryUnchanged) {
  for (const char* existing : {"a", "b", "c"}) {
    ScratchDir dir;
    dir.write(existing, "old");
    const auto before = listing(dir.path());
    auto st = write_file_set(set_in(dir.path()), false);
    ASSERT_FALSE(st.ok()) << existing;
    EXPECT_NE(st.error().message.find(existing), std::string::npos) << st.error().message;
    EXPECT_EQ(listing(dir.path()), before) << existing;  // no file, no temporary
  }
}

TEST(FileSet, OverwriteReplacesTheWholeSet) {
  ScratchDir dir;
  dir.write("b", "old");
  ASSERT_TRUE(write_file_set(set_in(dir.path()), true).ok());
  EXPECT_EQ(listing(dir.path()).at("b"), "B\n");
  EXPECT_EQ(listing(dir.path()).size(), 3u);
}

TEST(FileSet, AnUnwritableDirectoryLeavesNothing) {
  ScratchDir dir;
  auto missing = dir.path() / "no-such-dir";
  auto st = write_file_set(set_in(missing), false);
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(listing(dir.path()).empty());
}

}  // namespace
}  // namespace sealhook::app
