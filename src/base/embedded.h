#pragma once
// Files compiled into the binary by cmake/Embed.cmake.

#include <span>
#include <string_view>

namespace dzong {

/// A file compiled into the binary: its base name and its bytes.
struct EmbeddedFile {
  std::string_view name;
  std::string_view content;
};

}  // namespace dzong
