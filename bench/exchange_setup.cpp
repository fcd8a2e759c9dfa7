// Sets the scene for bench/exchange.sh on the database the settings name
// (DZONG_DATABASE_URL…): the Ministry of Health asks for six fields of the
// population register and the custodian approves; then writes REQUESTS
// signed reads of random people's records, one per line as
// "path<TAB>Signature-Input<TAB>Signature", each with its own nonce, so the
// load generator sends requests that were signed beforehand.
//
// Usage: dzong_exchange_setup <system-name> <key-file> <requests> <out-file>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "base/crypto.h"
#include "db/database.h"
#include "main/app.h"
#include "main/config.h"
#include "modules/exchange/client.h"
#include "modules/exchange/exchange.h"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: dzong_exchange_setup <system-name> <key-file> <requests> <out-file>\n");
    return 2;
  }
  const std::string system = argv[1];
  std::ifstream key_in(argv[2]);
  std::stringstream key_text;
  key_text << key_in.rdbuf();
  auto key = dzong::exchange::ParseKeyFile(key_text.str());
  if (!key.ok()) {
    std::fprintf(stderr, "%s\n", key.error().message.c_str());
    return 1;
  }
  const long requests = std::atol(argv[3]);
  auto config = dzong::LoadConfig("", dzong::ProcessEnvironment());
  if (!config.ok()) {
    std::fprintf(stderr, "settings: %s\n", config.error().message.c_str());
    return 2;
  }
  auto app = dzong::App::Create(*config, std::make_shared<spdlog::logger>("bench", std::make_shared<spdlog::sinks::null_sink_mt>()));
  if (!app.ok()) {
    std::fprintf(stderr, "%s\n", app.error().message.c_str());
    return 1;
  }
  auto& exchange = (*app)->Exchange();

  dzong::exchange::Agreement ask;
  ask.consumer = "MOH";
  ask.subsystem = system;
  ask.registry = "population";
  ask.fields = {"cid", "given_name", "surname", "date_of_birth", "sex", "dzongkhag"};
  ask.purpose_code = "PATIENT-ID";
  ask.purpose_text = "Registering patients with their registered identity";
  ask.legal_basis = "law";
  ask.legal_reference = "Medical and Health Council Act";
  ask.valid_from = "2026-01-01T00:00:00.000000Z";
  ask.valid_to = "2100-01-01T00:00:00.000000Z";
  dzong::audit::Actor moh;
  moh.id = "bench.moh";
  moh.organisation = "MOH";
  moh.role = "agency_administrator";
  auto made = exchange.Request(ask, moh);
  if (!made.ok()) {
    std::fprintf(stderr, "agreement: %s\n", made.error().message.c_str());
    return 1;
  }
  dzong::audit::Actor dcrc = moh;
  dcrc.id = "bench.dcrc";
  dcrc.organisation = "DCRC";
  if (auto decided = exchange.Decide(made->id, "approve", "benchmark", dcrc); !decided.ok()) {
    std::fprintf(stderr, "decision: %s\n", decided.error().message.c_str());
    return 1;
  }

  // The people: every CID in the register.
  std::vector<std::string> people;
  auto read = (*app)->Database().Read([&](dzong::db::Connection& c) -> dzong::Status {
    return c.QueryEach("SELECT record_key FROM registry_records WHERE registry = 'population' AND valid_to IS NULL", {},
                       [&](const dzong::db::RowView& r) {
                         people.emplace_back(r.Text(0));
                         return true;
                       });
  });
  if (!read.ok() || people.empty()) {
    std::fprintf(stderr, "the population register is empty: seed it first\n");
    return 1;
  }

  std::FILE* out = std::fopen(argv[4], "wb");
  if (!out) return 1;
  std::mt19937_64 random(2026);
  const auto created =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  for (long i = 0; i < requests; ++i) {
    const std::string& cid = people[random() % people.size()];
    const std::string path = "/exchange/v1/registries/population/records/" + cid;
    const std::string params = fmt::format(
        "(\"@method\" \"@path\" \"x-purpose\");created={};keyid=\"{}\";alg=\"ed25519\";nonce=\"{}\"", created, system,
        dzong::RandomHex(16));
    const std::string base =
        fmt::format("\"@method\": GET\n\"@path\": {}\n\"x-purpose\": PATIENT-ID\n\"@signature-params\": {}", path, params);
    const std::string signature = dzong::Base64Encode(dzong::Ed25519Sign(key->secret_key, base));
    std::fprintf(out, "%s\tsig1=%s\tsig1=:%s:\n", path.c_str(), params.c_str(), signature.c_str());
  }
  std::fclose(out);
  std::fprintf(stderr, "agreement %lld approved; %ld signed reads over %zu people\n", static_cast<long long>(made->id),
               requests, people.size());
  return 0;
}
