// A synthetic population register: households in the 20 dzongkhags and
// their real gewogs, with names as Bhutanese people bear them, plausible
// ages, and parents' CIDs that exist. The same seed gives the same people.
#include <array>
#include <cctype>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/csv.h"
#include "modules/registries/internal.h"
#include "modules/registries/registries.h"

namespace dzong {
std::span<const EmbeddedFile> RegistryReferenceFiles();
}

namespace dzong::registries {
namespace {

using nlohmann::json;

/// splitmix64: small, fast and the same everywhere.
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  int Between(int lo, int hi) { return lo + static_cast<int>(Next() % static_cast<std::uint64_t>(hi - lo + 1)); }
  bool Chance(int percent) { return Between(1, 100) <= percent; }
  template <typename T>
  const T& Pick(const std::vector<T>& items) {
    return items[Next() % items.size()];
  }

 private:
  std::uint64_t state_;
};

struct Dzongkhag {
  std::string code;
  std::string name;
  std::vector<std::string> gewogs;
  int weight = 1;
  int southern_percent = 5;  ///< share of Lhotshampa households
};

struct Names {
  std::vector<std::string> male, female;                    ///< Ngalop and Sharchop given names
  std::vector<std::string> south_male, south_female, surnames;  ///< Lhotshampa
};

std::string_view File(std::string_view name) {
  for (const auto& f : RegistryReferenceFiles()) {
    if (f.name.ends_with(name)) return f.content;
  }
  return {};
}

std::vector<Dzongkhag> LoadDzongkhags() {
  std::map<std::string, Dzongkhag> by_code;
  for (const auto& r : CsvRecords(File("dzongkhags.csv"))) {
    if (r.size() < 2) continue;
    by_code[r[0]] = Dzongkhag{r[0], r[1], {}, 1, 5};
  }
  for (const auto& r : CsvRecords(File("gewogs.csv"))) {
    if (r.size() < 3 || !by_code.contains(r[0])) continue;
    by_code[r[0]].gewogs.push_back(r[2]);
  }
  std::vector<Dzongkhag> out;
  for (auto& [code, d] : by_code) {
    // More people where the towns are; southern dzongkhags with more
    // Lhotshampa households.
    d.weight = static_cast<int>(d.gewogs.size()) + (code == "14" ? 40 : code == "02" ? 15 : 0);
    if (code == "12" || code == "13" || code == "18" || code == "03" || code == "02") d.southern_percent = 55;
    if (!d.gewogs.empty()) out.push_back(std::move(d));
  }
  return out;
}

Names LoadNames() {
  Names n;
  for (const auto& r : CsvRecords(File("names.csv"))) {
    if (r.size() < 4) continue;
    const bool south = r[0].starts_with("Lhotshampa");
    const std::string& name = r[1];
    const std::string& kind = r[2];
    const std::string& sex = r[3];
    if (kind.starts_with("surname")) {
      if (south) n.surnames.push_back(name);
      continue;
    }
    if (kind != "given name") continue;
    auto& male = south ? n.south_male : n.male;
    auto& female = south ? n.south_female : n.female;
    if (sex == "m" || sex == "both") male.push_back(name);
    if (sex == "f" || sex == "both") female.push_back(name);
  }
  return n;
}

struct Person {
  std::string cid;
  std::string given_name;
  std::optional<std::string> surname;
  std::string date_of_birth;
  std::string sex;
  std::optional<std::string> father, mother;
  std::string marital_status;
  std::string status = "alive";
};

}  // namespace

Result<PopulationReport> RegistryService::SeedPopulation(std::int64_t people, std::uint64_t seed, bool demo,
                                                         const audit::Actor& actor) {
  const std::vector<Dzongkhag> dzongkhags = LoadDzongkhags();
  const Names names = LoadNames();
  if (dzongkhags.size() != 20 || names.male.empty() || names.female.empty() || names.surnames.empty()) {
    return Error(dzong::errc::kInternal, "the reference data for the population seed is incomplete");
  }
  int total_weight = 0;
  for (const auto& d : dzongkhags) total_weight += d.weight;
  Random rng(seed);
  constexpr int kReferenceYear = 2026;  // ages are counted to 1 January of this year
  std::map<std::string, int> serial;     // per dzongkhag; generated CIDs start above the demo range
  const auto next_cid = [&](const std::string& dz) { return fmt::format("1{}{:08}", dz, 20000000 + ++serial[dz]); };
  const auto birth = [&](int age) {
    return fmt::format("{:04}-{:02}-{:02}", kReferenceYear - 1 - age, rng.Between(1, 12), rng.Between(1, 28));
  };

  PopulationReport report;
  std::vector<std::pair<std::string, json>> rows;  // key, data
  std::vector<std::pair<std::string, json>> plots, licences;
  std::map<std::string, int> plot_serial;  // per dzongkhag and gewog
  int next_licence = 1000002;              // 1000001 is the demo citizen's
  rows.reserve(static_cast<std::size_t>(people) + 1);
  if (demo) {
    // The demo citizen holds a plot of family land and a licence for her shop.
    plots.emplace_back("CHA-000001", json{{"plot_id", "CHA-000001"}, {"thram_number", "T14900001"},
                                          {"owner_cid", "11410012345"}, {"dzongkhag", "Thimphu"},
                                          {"gewog", "Chang"}, {"area_acres", 0.42}, {"land_type", "kamzhing"}});
    licences.emplace_back("1000001", json{{"licence_number", "1000001"}, {"business_name", "Choden General Shop"},
                                          {"owner_cid", "11410012345"}, {"activity", "General retail"},
                                          {"dzongkhag", "Thimphu"}, {"issued_on", "2024-07-01"},
                                          {"expires_on", "2027-06-30"}, {"capital_nu", 250000}});
    rows.emplace_back("11410012345", json{{"cid", "11410012345"}, {"given_name", "Sonam Choden"},
                                          {"date_of_birth", "1994-03-12"}, {"sex", "female"},
                                          {"dzongkhag", "Thimphu"}, {"gewog", "Chang"}, {"village", "Chiwog 2, Chang"},
                                          {"household_number", "14900001"}, {"marital_status", "single"},
                                          {"status", "alive"}});
  }
  std::map<std::string, int> households;
  while (static_cast<std::int64_t>(rows.size()) < people + (demo ? 1 : 0)) {
    int pick = rng.Between(1, total_weight);
    const Dzongkhag* dz = &dzongkhags.front();
    for (const auto& d : dzongkhags) {
      if ((pick -= d.weight) <= 0) {
        dz = &d;
        break;
      }
    }
    const std::string& gewog = rng.Pick(dz->gewogs);
    const std::string village = fmt::format("Chiwog {}, {}", rng.Between(1, 5), gewog);
    const std::string household = fmt::format("{}{:06}", dz->code, ++households[dz->code]);
    ++report.households;
    const bool south = rng.Chance(dz->southern_percent);
    const std::optional<std::string> surname =
        south ? std::optional<std::string>(rng.Pick(names.surnames)) : std::nullopt;
    const auto given = [&](const std::string& sex) {
      const auto& pool = south ? (sex == "male" ? names.south_male : names.south_female)
                               : (sex == "male" ? names.male : names.female);
      const auto& fallback = sex == "male" ? names.male : names.female;
      const auto& list = pool.empty() ? fallback : pool;
      if (south) return rng.Pick(list);
      // Ngalop and Sharchop names: two given names, no family name.
      std::string first = rng.Pick(list);
      std::string second = rng.Pick(list);
      if (second == first) second = rng.Pick(list);
      return first + " " + second;
    };
    const int father_age = rng.Between(24, 70);
    const int mother_age = std::max(20, father_age - rng.Between(-3, 8));
    Person father{next_cid(dz->code), given("male"), surname, birth(father_age), "male", {}, {}, "married"};
    Person mother{next_cid(dz->code), given("female"), std::nullopt, birth(mother_age), "female", {}, {}, "married"};
    if (father_age > 60 && rng.Chance(8)) {
      father.status = "deceased";
      mother.marital_status = "widowed";
    }
    std::vector<Person> family = {father, mother};
    const int children = mother_age >= 19 ? rng.Between(0, 4) : 0;
    for (int i = 0; i < children; ++i) {
      const int age = rng.Between(0, std::min(mother_age - 18, 40));
      const std::string sex = rng.Chance(50) ? "male" : "female";
      Person child{next_cid(dz->code), given(sex), surname, birth(age), sex, father.cid, mother.cid,
                   age >= 22 && rng.Chance(40) ? "married" : "single"};
      family.push_back(std::move(child));
    }
    const std::size_t first = rows.size();
    for (const Person& p : family) {
      if (static_cast<std::int64_t>(rows.size()) >= people + (demo ? 1 : 0)) break;
      json data = {{"cid", p.cid},
                   {"given_name", p.given_name},
                   {"date_of_birth", p.date_of_birth},
                   {"sex", p.sex},
                   {"dzongkhag", dz->name},
                   {"gewog", gewog},
                   {"village", village},
                   {"household_number", household},
                   {"marital_status", p.marital_status},
                   {"status", p.status}};
      if (p.surname) data["surname"] = *p.surname;
      if (p.father) data["father_cid"] = *p.father;
      if (p.mother) data["mother_cid"] = *p.mother;
      rows.emplace_back(p.cid, std::move(data));
    }
    if (rows.size() == first) continue;
    // Land: most households hold one to three plots in their gewog, in the
    // name of a living parent; some hold none.
    const Person& holder = father.status == "alive" ? father : mother;
    const int plot_count = rng.Chance(85) ? rng.Between(1, 3) : 0;
    for (int i = 0; i < plot_count; ++i) {
      std::string prefix;
      for (char c : gewog) {
        if (std::isalpha(static_cast<unsigned char>(c)) && prefix.size() < 3) prefix += static_cast<char>(std::toupper(c));
      }
      const std::string plot = fmt::format("{}-{}{:05}", prefix, dz->code, ++plot_serial[dz->code + gewog]);
      static constexpr std::array<const char*, 5> kTypes = {"kamzhing", "chhuzhing", "orchard", "residential",
                                                           "commercial"};
      const char* type = kTypes[static_cast<std::size_t>(rng.Between(0, dz->code == "14" ? 4 : 2))];
      plots.emplace_back(plot, json{{"plot_id", plot}, {"thram_number", "T" + household}, {"owner_cid", holder.cid},
                                    {"dzongkhag", dz->name}, {"gewog", gewog},
                                    {"area_acres", rng.Between(10, 500) / 100.0}, {"land_type", type}});
    }
    // Businesses: about one household in twelve runs one.
    if (rng.Chance(8) && holder.status == "alive") {
      static constexpr std::array<const char*, 10> kActivities = {
          "General retail", "Restaurant", "Hotel", "Handicrafts", "Construction contractor",
          "Transport", "IT services", "Tour operator", "Grocery", "Tailoring"};
      const std::string activity = kActivities[static_cast<std::size_t>(rng.Between(0, 9))];
      const std::string number = fmt::format("{}", next_licence++);
      const int issued = rng.Between(2016, 2025);
      const std::string issued_on = fmt::format("{:04}-{:02}-{:02}", issued, rng.Between(1, 12), rng.Between(1, 28));
      const std::string expires_on = fmt::format("{:04}{}", issued + rng.Between(1, 5), issued_on.substr(4));
      const std::string owner_first = holder.given_name.substr(0, holder.given_name.find(' '));
      licences.emplace_back(number, json{{"licence_number", number},
                                         {"business_name", fmt::format("{} {}", owner_first, activity)},
                                         {"owner_cid", holder.cid},
                                         {"activity", activity},
                                         {"dzongkhag", dz->name},
                                         {"issued_on", issued_on},
                                         {"expires_on", expires_on},
                                         {"capital_nu", rng.Between(50, 5000) * 1000}});
    }
  }

  auto land = Get("land");
  auto licence_register = Get("business_licences");
  if (!land.ok() || !licence_register.ok()) {
    return Error(dzong::errc::kInternal, "the land and business licence registers are missing: run dzong seed");
  }
  return db_.WriteValue<PopulationReport>([&](db::Connection& c) -> Result<PopulationReport> {
    const std::string now = FormatUtc(clock_.Now());
    // Inserts the first versions of one register's records, skipping keys it
    // holds already; returns how many were new.
    const auto insert = [&](const std::string& registry, const std::vector<std::pair<std::string, json>>& records)
        -> Result<std::int64_t> {
      constexpr std::size_t kPerStatement = 50;
      std::vector<db::Value> params;
      std::int64_t inserted = 0;
      for (std::size_t at = 0; at < records.size(); at += kPerStatement) {
        const std::size_t n = std::min(kPerStatement, records.size() - at);
        std::string sql =
            "INSERT INTO registry_records (registry, record_key, version, schema_version, data, retired, valid_from, "
            "changed_by, reason) VALUES ";
        params.clear();
        for (std::size_t i = 0; i < n; ++i) {
          sql += i ? ", " : "";
          sql += "(?, ?, 1, 1, ?, 0, ?, ?, 'synthetic seed')";
          params.emplace_back(registry);
          params.emplace_back(records[at + i].first);
          params.emplace_back(records[at + i].second.dump());
          params.emplace_back(now);
          params.emplace_back(actor.id);
        }
        sql += " ON CONFLICT DO NOTHING";
        DZONG_ASSIGN_OR_RETURN(std::int64_t changed, c.Execute(sql, params));
        inserted += changed;
      }
      return inserted;
    };
    DZONG_ASSIGN_OR_RETURN(report.people, insert("population", rows));
    report.already_present = static_cast<std::int64_t>(rows.size()) - report.people;
    DZONG_ASSIGN_OR_RETURN(report.plots, insert("land", plots));
    DZONG_ASSIGN_OR_RETURN(report.licences, insert("business_licences", licences));
    for (const auto& [key, data] : plots) DZONG_TRY(IndexSubjects(c, *land, key, data));
    for (const auto& [key, data] : licences) DZONG_TRY(IndexSubjects(c, *licence_register, key, data));
    DZONG_TRY(audit::Append(c,
                            audit::For(actor, "registries.population_seeded", "registry", "population",
                                       json({{"people", report.people}, {"plots", report.plots},
                                             {"licences", report.licences}, {"seed", seed}})
                                           .dump()),
                            clock_));
    return report;
  });
}

}  // namespace dzong::registries
