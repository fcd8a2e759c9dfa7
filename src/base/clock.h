#pragma once
// Time comes from a Clock passed in, so tests can fix it. Stored times are
// UTC, ISO 8601 with microseconds and a Z: they sort as text on both engines.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace dzong {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override { return std::chrono::system_clock::now(); }
};

/// "2026-11-29T14:37:59.123456Z"
std::string FormatUtc(std::chrono::system_clock::time_point t);

/// "2026-11-29" as a calendar day; nullopt unless it is exactly a real date
/// of the years 1800 to 2200.
std::optional<std::chrono::sys_days> ParseDate(std::string_view text);

}  // namespace dzong
