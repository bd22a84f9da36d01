#pragma once
// Writes a set of files that only make sense together (a key pair as PEM and JWK): all of
// them or none. Each is written to a temporary file beside its target with its final mode,
// then the temporaries are renamed into place; without `overwrite` no target may exist, and
// none is replaced even if one appears meanwhile.
#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace sealhook::app {

struct FileToWrite {
  std::filesystem::path path;
  std::string text;
  mode_t mode = 0644;
};

// On failure the directory is as it was (with `overwrite`, files already replaced stay
// replaced); the error names the files.
Status write_file_set(const std::vector<FileToWrite>& files, bool overwrite);

}  // namespace sealhook::app
