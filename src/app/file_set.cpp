#include "app/file_set.hpp"

#include <fcntl.h>
#include <stdio.h>  // renameat2, RENAME_NOREPLACE
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sealhook::app {
namespace {

namespace fs = std::filesystem;

Error file_error(const fs::path& path, const std::string& what) {
  return make_error(ErrorKind::kConflict, "file_error", path.string() + ": " + what);
}

Error os_error(const fs::path& path, const std::string& doing) {
  return file_error(path, doing + ": " + std::strerror(errno));
}

// The text in a new temporary file beside `f.path`, with its mode set before any byte is
// written. Returns the temporary's path.
Result<fs::path> write_temporary(const FileToWrite& f) {
  std::string name = (f.path.parent_path() / ("." + f.path.filename().string() + ".XXXXXX"));
  int fd = ::mkstemp(name.data());  // created 0600
  if (fd < 0) return os_error(f.path, "cannot create a temporary file");
  const char* p = f.text.data();
  size_t left = f.text.size();
  bool ok = ::fchmod(fd, f.mode) == 0;
  while (ok && left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    p += ok ? n : 0;
    left -= ok ? static_cast<size_t>(n) : 0;
  }
  ok = ok && ::fsync(fd) == 0;
  int saved = errno;
  ok = ::close(fd) == 0 && ok;
  if (!ok) {
    ::unlink(name.c_str());
    errno = saved;
    return os_error(f.path, "cannot write");
  }
  return fs::path(name);
}

void remove_all(const std::vector<fs::path>& paths) {
  for (const auto& p : paths) ::unlink(p.c_str());
}

}  // namespace

Status write_file_set(const std::vector<FileToWrite>& files, bool overwrite) {
  if (!overwrite) {
    std::string existing;
    for (const auto& f : files) {
      std::error_code ec;
      if (fs::symlink_status(f.path, ec).type() != fs::file_type::not_found)
        existing += (existing.empty() ? "" : ", ") + f.path.string();
    }
    if (!existing.empty())
      return make_error(ErrorKind::kConflict, "file_exists",
                        existing +
                            " already there; nothing was written (use --force to "
                            "replace the whole set)");
  }
  std::vector<fs::path> temporaries;
  for (const auto& f : files) {
    auto t = write_temporary(f);
    if (!t) {
      remove_all(temporaries);
      return t.error();
    }
    temporaries.push_back(std::move(t.value()));
  }
  std::vector<fs::path> placed;
  for (size_t i = 0; i < files.size(); ++i) {
    const unsigned flags = overwrite ? 0 : RENAME_NOREPLACE;
    if (::renameat2(AT_FDCWD, temporaries[i].c_str(), AT_FDCWD, files[i].path.c_str(), flags) !=
        0) {
      Error e = os_error(files[i].path, "cannot put in place");
      remove_all({temporaries.begin() + static_cast<std::ptrdiff_t>(i), temporaries.end()});
      if (!overwrite) remove_all(placed);  // new files only: the directory is as it was
      return e;
    }
    placed.push_back(files[i].path);
  }
  return {};
}

}  // namespace sealhook::app
