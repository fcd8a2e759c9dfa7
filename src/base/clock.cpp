#include "base/clock.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace dzong {

std::string FormatUtc(std::chrono::system_clock::time_point t) {
  const auto micros = std::chrono::time_point_cast<std::chrono::microseconds>(t);
  const auto seconds = std::chrono::time_point_cast<std::chrono::seconds>(micros);
  const auto fraction = (micros - seconds).count();
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:06d}Z", seconds, fraction);
}

}  // namespace dzong
