// Certificates: rendering and signing a birth certificate against a bare
// Pango/Cairo render of the same page, and offline verification of its
// signed payload (the check a bank or a border post runs).
//
// The page is the seeded birth-registration template, laid out by the
// platform's own Layout. "Bare" renders it as text and rules only: no
// canonical payload, no signature, no QR code, no metadata. "Render + sign"
// is what issuing and downloading do: the payload canonicalised (RFC 8785)
// and signed (Ed25519), the QR code carrying it drawn, the metadata and the
// language written. Targets: render + sign at least 0.8 of bare; at least
// 15,000 verifications a second.
//
// Usage: dzong_certificates_bench [seconds per measurement, default 3]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/crypto.h"
#include "base/embedded.h"
#include "base/jcs.h"
#include "base/signing.h"
#include "modules/certificates/certificates.h"
#include "render/pdf.h"

namespace dzong {
std::span<const EmbeddedFile> ServiceSeedFiles();
std::span<const EmbeddedFile> WebCatalogueFiles();
}  // namespace dzong

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

nlohmann::json Embedded(std::span<const dzong::EmbeddedFile> files, std::string_view name) {
  for (const auto& f : files) {
    if (f.name.ends_with(name)) return json::parse(f.content);
  }
  std::fprintf(stderr, "%.*s is not embedded\n", static_cast<int>(name.size()), name.data());
  std::exit(1);
}

/// Runs `work` for `seconds` on `threads` threads; returns operations a second.
template <typename Work>
double Rate(double seconds, int threads, Work work) {
  std::atomic<long> done{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> pool;
  const auto start = Clock::now();
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&] {
      long n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        work();
        ++n;
      }
      done += n;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : pool) t.join();
  return static_cast<double>(done.load()) / std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 3.0;  // each of bare, signed, and each verification
  const json definition = Embedded(dzong::ServiceSeedFiles(), "birth-registration.json");
  const json tmpl = definition["certificate"];
  const json en = Embedded(dzong::WebCatalogueFiles(), "en.json");
  const json dz = Embedded(dzong::WebCatalogueFiles(), "dz.json");
  const dzong::certificates::Labels labels = [&](const std::string& key, bool dzongkha) {
    return (dzongkha ? dz : en).value(key, key);
  };

  // A birth certificate as issuing makes it.
  const dzong::KeyPair pair = dzong::Ed25519KeyPair();
  const std::string now = dzong::FormatUtc(std::chrono::system_clock::now());
  const std::vector<dzong::PublicKey> keys = {{"dzong-20261130-bench", pair.public_key, "2026-01-01T00:00:00Z", {}, "active"}};
  const json values = {{"child_given_name", "Pema"},           {"child_date_of_birth", "2026-11-20"},
                       {"child_sex", "Female / མོ།"},          {"place_of_birth", "In a hospital / སྨན་ཁང་ནང་།"},
                       {"given_name", "Sonam Choden"},         {"surname", ""},
                       {"father_given_name", "Dechen Passang"}, {"father_surname", ""}};
  const json claims = {{"v", 1},         {"id", "DCRC-BIRTH-7F3K9Q2MXA"}, {"iss", "DCRC"},
                       {"typ", "birth-certificate"}, {"tv", 1},        {"svc", "birth-registration"},
                       {"app", "DCRC-2026-000123"},  {"sub", "11410012345"}, {"iat", now},
                       {"st", {{"l", 1}, {"i", 4242}}}, {"f", values}};
  dzong::certificates::Certificate cert;
  cert.id = "DCRC-BIRTH-7F3K9Q2MXA";
  cert.application_reference = "DCRC-2026-000123";
  cert.template_id = "birth-certificate";
  cert.issuer = "DCRC";
  cert.holder = "11410012345";
  cert.issued_at = now;
  cert.signature.kid = keys[0].kid;
  std::vector<dzong::certificates::Field> fields;
  for (const auto& f : tmpl["fields"]) {
    fields.push_back({f["field"], f["label"].value("en", ""), f["label"].value("dz", ""),
                      values.value(f["field"].get<std::string>(), ""), f.value("public", false), f.value("block", "main")});
  }
  const std::string agency = "Department of Civil Registration and Census";
  const std::string site = "https://services.gov.bt";

  // Bare: the same page's text and rules, nothing signed, no QR code.
  dzong::render::Document bare =
      dzong::certificates::Layout(cert, tmpl, agency, "", fields, site, labels);
  for (auto& block : bare.blocks) block.qr.clear();
  bare.keywords.clear();
  bare.language.clear();
  const auto render_bare = [&] {
    if (!dzong::render::Pdf(bare).ok()) std::abort();
  };
  // Render + sign: canonical payload, Ed25519, QR code, metadata.
  const auto render_signed = [&] {
    dzong::certificates::Certificate c = cert;
    c.payload = dzong::Canonical(claims).value();
    c.signature.bytes = dzong::Ed25519Sign(pair.secret_key, c.payload);
    if (!dzong::render::Pdf(dzong::certificates::Layout(c, tmpl, agency, "", fields, site, labels)).ok()) std::abort();
  };
  // The two alternate in short rounds, so that a change of the machine's
  // load or clock falls on both; the medians are reported.
  constexpr int kRounds = 9;
  std::vector<double> bare_rates, signed_rates, ratios;
  for (int round = 0; round < kRounds; ++round) {
    bare_rates.push_back(Rate(seconds / kRounds, 1, render_bare));
    signed_rates.push_back(Rate(seconds / kRounds, 1, render_signed));
    ratios.push_back(signed_rates.back() / bare_rates.back());
  }
  const auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("certificate PDF (A4, bilingual), medians of %d alternating rounds: bare render %.0f pages/s; render + "
              "sign %.0f pages/s; ratio %.2f (target 0.80; rounds from %.2f to %.2f)\n",
              kRounds, median(bare_rates), median(signed_rates), median(ratios),
              *std::min_element(ratios.begin(), ratios.end()), *std::max_element(ratios.begin(), ratios.end()));

  // Offline verification of the QR code's payload against saved keys.
  cert.payload = dzong::Canonical(claims).value();
  cert.signature.bytes = dzong::Ed25519Sign(pair.secret_key, cert.payload);
  const std::string scanned = site + "/verify/" + cert.id + "#" + dzong::certificates::CompactPayload(cert);
  const auto verify = [&] {
    auto check = dzong::certificates::VerifyOffline(scanned, keys, now);
    if (!check.ok() || check->verdict != dzong::certificates::Verdict::kValid) std::abort();
  };
  const double one = Rate(seconds, 1, verify);
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const double all = Rate(seconds, static_cast<int>(cores), verify);
  std::printf("offline verification (payload %zu bytes): %.0f/s on 1 thread, %.0f/s on %u threads (target 15000)\n",
              scanned.size(), one, all, cores);
  return 0;
}
