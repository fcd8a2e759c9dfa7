#include "base/clock.h"

#include <charconv>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace dzong {

std::string FormatUtc(std::chrono::system_clock::time_point t) {
  const auto micros = std::chrono::time_point_cast<std::chrono::microseconds>(t);
  const auto seconds = std::chrono::time_point_cast<std::chrono::seconds>(micros);
  const auto fraction = (micros - seconds).count();
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:06d}Z", seconds, fraction);
}

std::optional<std::chrono::sys_days> ParseDate(std::string_view text) {
  int y = 0;
  unsigned m = 0, d = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  const auto number = [&](std::size_t at, std::size_t length, auto& out) {
    auto [end, ec] = std::from_chars(text.data() + at, text.data() + at + length, out);
    return ec == std::errc() && end == text.data() + at + length;
  };
  if (!number(0, 4, y) || !number(5, 2, m) || !number(8, 2, d)) return std::nullopt;
  const std::chrono::year_month_day day{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
  if (!day.ok() || y < 1800 || y > 2200) return std::nullopt;
  return std::chrono::sys_days{day};
}

}  // namespace dzong
