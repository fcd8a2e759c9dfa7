#include <fmt/format.h>

#include "base/csv.h"

#include "modules/organisations/organisations.h"

namespace dzong {
std::span<const EmbeddedFile> OrganisationSeedFiles();
}

namespace dzong::organisations {
namespace {

std::optional<std::string> NonEmpty(std::string text) {
  if (text.empty()) return std::nullopt;
  return text;
}

}  // namespace

Result<std::vector<NewOrganisation>> DefaultSeed() {
  std::vector<NewOrganisation> out;
  for (const EmbeddedFile& file : OrganisationSeedFiles()) {
    std::string_view rest = file.content;
    int line_number = 0;
    while (!rest.empty()) {
      const auto newline = rest.find('\n');
      const std::string_view line = rest.substr(0, newline);
      rest = newline == std::string_view::npos ? std::string_view{} : rest.substr(newline + 1);
      if (++line_number == 1 || line.empty()) continue;  // header
      auto f = SplitCsvLine(line);
      if (f.size() != 6) {
        return Error("organisations.bad_seed",
                     fmt::format("{} line {}: expected 6 fields, found {}", file.name, line_number, f.size()));
      }
      out.push_back({f[0], f[1], NonEmpty(f[2]), f[3], NonEmpty(f[4]), f[5]});
    }
  }
  return out;
}

}  // namespace dzong::organisations

namespace dzong {
std::span<const EmbeddedFile> OrganisationMigrationFiles();
}

std::span<const dzong::EmbeddedFile> dzong::organisations::Migrations() { return OrganisationMigrationFiles(); }
