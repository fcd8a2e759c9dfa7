// Certificates as their people meet them: the mother downloads her
// daughter's birth certificate and reads it (pdftotext) and scans it
// (zbarimg); a bank checks one offline against saved keys and a saved
// status list; anyone checks one on the public page or as JSON; an officer
// revokes one; a wallet's verifier, written apart from Dzong, checks the
// Verifiable Credential; rotated keys keep old certificates valid.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "base/signing.h"
#include "main/app.h"
#include "modules/certificates/certificates.h"
#include "modules/registries/registries.h"
#include "support/journeys.h"
#include "support/test_server.h"

namespace dzong::testing {
namespace {

using nlohmann::json;

class CertificatesTest : public ::testing::Test, public JourneySteps {
 protected:
  explicit CertificatesTest(const std::function<void(Config&)>& adjust = {})
      : data_dir_(std::filesystem::temp_directory_path() / ("dzong-certificates-" + RandomHex(6))),
        server_([&](Config& c) {
          c.data_dir = data_dir_.string();
          if (adjust) adjust(c);
        }) {
    std::filesystem::create_directories(data_dir_);
  }
  ~CertificatesTest() override {
    std::error_code ec;
    std::filesystem::remove_all(data_dir_, ec);
  }
  TestServer& server() override { return server_; }

  void SetUp() override {
    audit::Actor seeder;
    seeder.id = "seed";
    ASSERT_TRUE(server_.app().Registries().SeedPopulation(30, 5, true, seeder).ok());
  }

  /// The mother registers Pema's birth, the father confirms, DCRC approves:
  /// the certificate's id.
  std::string BirthCertificate() {
    const std::string father = Person("male");
    NewAccount({{"kind", "citizen"}, {"username", father}, {"display_name", "The father"}, {"password", "Father-Password-2026"}},
               "citizen");
    auto mother = SignIn(kDemoCitizen, kDemoPassword);
    const std::string reference = ApplyForBirth(*mother, father);
    const std::string father_token = Token(father, "account.self");
    EXPECT_EQ(Take(father_token, reference, "father_confirms", Application(father_token, reference)["version"]).status,
              200);
    const std::string officer = Token("pema.wangmo", "account.self applications.work");
    EXPECT_EQ(Take(officer, reference, "approve", Application(officer, reference)["version"]).status, 200);
    return Text("SELECT id FROM certificates WHERE application_reference = '" + reference + "'");
  }

  /// The demo citizen's security clearance (valid a year), cleared by the police.
  std::string ClearanceCertificate() {
    auto citizen = SignIn(kDemoCitizen, kDemoPassword);
    const std::string reference = ApplyForClearance(*citizen);
    if (police_.empty()) police_ = Officer("karma.police.test", "RBP");
    EXPECT_EQ(Take(police_, reference, "approve", Application(police_, reference)["version"]).status, 200);
    return Text("SELECT id FROM certificates WHERE application_reference = '" + reference + "'");
  }

  certificates::Certificate Stored(const std::string& id) { return server_.app().Certificates().Get(id).value(); }

  std::vector<PublicKey> SavedKeys() {
    auto r = server_.Client()->Get("/.well-known/dzong-keys.json");
    EXPECT_EQ(r.status, 200);
    return KeysFromJwks(r.body).value();
  }

  json Get(const std::string& target) {
    auto r = server_.Client()->Get(target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    return json::parse(r.body, nullptr, false);
  }

  std::string Save(const std::string& name, const std::string& bytes) {
    const auto file = data_dir_ / name;
    std::ofstream(file, std::ios::binary) << bytes;
    return file.string();
  }

  certificates::Verdict Offline(const std::string& payload, const std::vector<PublicKey>& keys,
                                const std::string& now, const json* status = nullptr) {
    auto check = certificates::VerifyOffline(payload, keys, now, status);
    EXPECT_TRUE(check.ok()) << check.error().message;
    return check.ok() ? check->verdict : certificates::Verdict::kForged;
  }

  std::string Now() { return FormatUtc(std::chrono::system_clock::now()); }

  std::filesystem::path data_dir_;
  TestServer server_;
  std::string police_;
};

TEST_F(CertificatesTest, TheMotherGetsHerDaughtersBirthCertificateToReadScanAndCheck) {
  const std::string id = BirthCertificate();
  ASSERT_TRUE(id.starts_with("DCRC-BIRTH-")) << id;
  const certificates::Certificate cert = Stored(id);
  EXPECT_EQ(cert.holder, kDemoCitizen);
  EXPECT_EQ(cert.template_id, "birth-certificate");
  EXPECT_EQ(cert.status, "valid");
  EXPECT_FALSE(cert.expires_at.has_value());
  EXPECT_EQ(cert.Fields()["child_given_name"], "Pema");
  EXPECT_EQ(cert.Fields()["place_of_birth"], "In a hospital / སྨན་ཁང་ནང་།");
  // Issuing is audited against the mother, and she is told.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_events WHERE action = 'certificates.issued' AND object_id = '" + id +
                  "' AND subject = '" + kDemoCitizen + "'"),
            1);
  EXPECT_EQ(Notices(kDemoCitizen, "certificate.issued"), 1);

  // She finds it under "my documents" and downloads it.
  auto mother = SignIn(kDemoCitizen, kDemoPassword);
  auto list = mother->Get("/my/documents");
  ASSERT_EQ(list.status, 200);
  EXPECT_NE(list.body.find(id), std::string::npos);
  auto page = mother->Get("/my/documents/" + id);
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("Pema"), std::string::npos);
  EXPECT_NE(page.body.find("/my/documents/" + id + "/credential"), std::string::npos);
  auto pdf = mother->Get("/my/documents/" + id + "/pdf");
  ASSERT_EQ(pdf.status, 200);
  EXPECT_EQ(pdf.Header("content-type"), "application/pdf");
  const std::string file = Save("birth.pdf", pdf.body);

  // Read by a person: Dzongkha and English, the agency, the fields.
  std::string text = RunCommand("pdftotext -enc UTF-8 " + file + " -");
  std::erase(text, ' ');
  for (std::string expected : {std::string("Birth certificate"), std::string("སྐྱེས་ཐོ་ལག་ཁྱེར"), std::string("Pema"),
                               std::string("Department of Civil Registration"), std::string("Inahospital"),
                               std::string("སྨན་ཁང་ནང"), std::string("Certificate number"), id}) {
    std::erase(expected, ' ');
    EXPECT_NE(text.find(expected), std::string::npos) << expected << " is missing from the PDF's text";
  }
  const std::string info = RunCommand("pdfinfo " + file);
  const auto line = [&](const std::string& key) {
    const auto at = info.find(key + ":");
    if (at == std::string::npos) return std::string();
    const auto value = info.find_first_not_of(' ', at + key.size() + 1);
    return info.substr(value, info.find('\n', value) - value);
  };
  EXPECT_EQ(line("Title"), "Birth certificate " + id) << info;
  EXPECT_EQ(line("Author"), "Department of Civil Registration and Census") << info;
  EXPECT_EQ(line("Pages"), "1") << info;
  EXPECT_NE(pdf.body.find("/Lang (dz-BT)"), std::string::npos);

  // Page 1 as a picture (a test artefact to look at), and its QR code scanned.
  const std::filesystem::path artefacts = std::filesystem::path(DZONG_SOURCE_DIR) / "test-artifacts" / "certificates";
  std::filesystem::create_directories(artefacts);
  const std::string png = (artefacts / "birth-certificate-page-1").string();
  RunCommand("pdftoppm -png -r 200 -f 1 -l 1 -singlefile " + file + " " + png);
  ASSERT_TRUE(std::filesystem::exists(png + ".png"));
  std::string scanned = RunCommand("zbarimg --raw -q " + png + ".png");
  while (!scanned.empty() && scanned.back() == '\n') scanned.pop_back();
  const std::string payload = certificates::CompactPayload(cert);
  EXPECT_EQ(scanned, server_.app().Certificates().VerifyUrl(id) + "#" + payload);

  // Checked offline from what was scanned, and from the PDF itself.
  EXPECT_EQ(Offline(scanned, SavedKeys(), Now()), certificates::Verdict::kValid);
  EXPECT_EQ(certificates::PayloadFromPdf(pdf.body).value(), payload);

  // Checked online, by anyone: the public fields only.
  json verified = Get("/verify/" + id);
  EXPECT_EQ(verified["verdict"], "valid");
  EXPECT_EQ(verified["issuer"]["code"], "DCRC");
  EXPECT_EQ(verified["public_fields"]["child_given_name"]["value"], "Pema");
  EXPECT_FALSE(verified["public_fields"].contains("father_given_name"));
  EXPECT_FALSE(verified["public_fields"].contains("place_of_birth"));
  // The check showed the mother's data: she sees it in her data tracker.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_events WHERE action = 'certificates.verify' AND subject = '" +
                  std::string(kDemoCitizen) + "' AND actor = 'anonymous'"),
            1);
  Browser anyone(server_.port());
  auto shown = anyone.Get("/verify/" + id);
  ASSERT_EQ(shown.status, 200);
  EXPECT_NE(shown.body.find("data-verdict=\"valid\""), std::string::npos);
  EXPECT_NE(shown.body.find("Pema"), std::string::npos);
  EXPECT_EQ(shown.body.find(cert.Fields()["father_given_name"].get<std::string>()), std::string::npos);
  // The scanned text pasted into the form checks the same.
  auto pasted = anyone.Get("/verify?q=" + http::PercentEncode(scanned));
  EXPECT_NE(pasted.body.find("data-verdict=\"valid\""), std::string::npos) << pasted.body;
  // Somebody else's documents are not hers to see.
  auto stranger = server_.Client()->Get("/my/documents/" + id + "/pdf",
                                        {{"Authorization", "Bearer " + Token(Person("male"), "consent.self")}});
  EXPECT_EQ(stranger.status, 404);
}

TEST_F(CertificatesTest, OfflineChecksTellValidTamperedExpiredRevokedAndUnknownKeysApart) {
  const std::string id = ClearanceCertificate();
  ASSERT_TRUE(id.starts_with("RBP-SECURITY-CLEARANCE-")) << id;
  const certificates::Certificate cert = Stored(id);
  ASSERT_TRUE(cert.expires_at.has_value());
  const std::string payload = certificates::CompactPayload(cert);
  const std::vector<PublicKey> keys = SavedKeys();
  EXPECT_EQ(Offline(payload, keys, Now()), certificates::Verdict::kValid);

  // Tampered: the name in the payload changed, the signature kept.
  json claims = json::parse(cert.payload);
  claims["f"]["given_name"] = "Somebody";
  const std::string forged_payload = "DZ1." + Base64UrlEncode(claims.dump()) + "." + cert.signature.kid + "." +
                                     Base64UrlEncode(cert.signature.bytes);
  EXPECT_EQ(Offline(forged_payload, keys, Now()), certificates::Verdict::kForged);
  // Expired: a year and a day later.
  EXPECT_EQ(Offline(payload, keys, *cert.expires_at), certificates::Verdict::kExpired);
  // A key nobody published.
  EXPECT_EQ(Offline(payload, {}, Now()), certificates::Verdict::kUnknownKey);
  // Not a payload at all.
  EXPECT_FALSE(certificates::VerifyOffline("DZ1.nonsense", keys, Now()).ok());

  // Revoked: the status list saved after the revocation says so, and its own signature holds.
  const json before = Get("/status/" + std::to_string(cert.status_list));
  EXPECT_EQ(Offline(payload, keys, Now(), &before), certificates::Verdict::kValid);
  auto revoked = server_.Client()->Send("POST", "/api/v1/certificates/" + id + "/revoke",
                                        json{{"reason", "Issued on a forged police record"}}.dump(),
                                        {{"Authorization", "Bearer " + Token("karma.police.test", "certificates.revoke")},
                                         {"Content-Type", "application/json"}});
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  const json after = Get("/status/" + std::to_string(cert.status_list));
  EXPECT_EQ(after["type"][1], "BitstringStatusListCredential");
  EXPECT_EQ(Offline(payload, keys, Now(), &after), certificates::Verdict::kRevoked);
  json altered = after;
  altered["validFrom"] = "2020-01-01T00:00:00Z";
  EXPECT_FALSE(certificates::VerifyOffline(payload, keys, Now(), &altered).ok());

  // The command line says the same, from saved files.
  const std::string keys_file = Save("keys.json", server_.Client()->Get("/.well-known/dzong-keys.json").body);
  const std::string status_file = Save("status.json", after.dump());
  const std::string dzong = DZONG_BINARY;
  EXPECT_EQ(RunCommand(fmt::format("{} verify --keys {} {} 2>&1; echo rc=$?", dzong, keys_file, payload)).substr(0, 5),
            "valid");
  const std::string said = RunCommand(fmt::format("{} verify --keys {} --status-list {} {} 2>&1; echo rc=$?", dzong,
                                                  keys_file, status_file, payload));
  EXPECT_TRUE(said.starts_with("revoked")) << said;
  EXPECT_NE(said.find("rc=1"), std::string::npos) << said;
  const std::string tampered = RunCommand(fmt::format("{} verify --keys {} {} 2>&1; echo rc=$?", dzong, keys_file,
                                                      forged_payload));
  EXPECT_TRUE(tampered.starts_with("forged")) << tampered;
}

TEST_F(CertificatesTest, RotatedKeysKeepOldCertificatesValidAndRetiredKeysStayPublished) {
  const std::string first = ClearanceCertificate();
  const std::string old_kid = Stored(first).signature.kid;
  auto rotated = server_.Client()->Send("POST", "/api/v1/keys/rotate", "", Operator());
  ASSERT_EQ(rotated.status, 201) << rotated.body;
  const std::string second = ClearanceCertificate();
  EXPECT_NE(Stored(second).signature.kid, old_kid);
  auto retired = server_.Client()->Send("POST", "/api/v1/keys/" + old_kid + "/retire", "", Operator());
  ASSERT_EQ(retired.status, 200) << retired.body;
  // Both verify, offline and online; the retired key is still published, in the JWKS and the DID document.
  const std::vector<PublicKey> keys = SavedKeys();
  EXPECT_EQ(Offline(certificates::CompactPayload(Stored(first)), keys, Now()), certificates::Verdict::kValid);
  EXPECT_EQ(Offline(certificates::CompactPayload(Stored(second)), keys, Now()), certificates::Verdict::kValid);
  EXPECT_EQ(Get("/verify/" + first)["verdict"], "valid");
  EXPECT_NE(Get("/.well-known/did.json").dump().find(old_kid), std::string::npos);
  // A certificate claiming to be signed by the retired key after it was retired is not accepted.
  certificates::Certificate late = Stored(first);
  json claims = json::parse(late.payload);
  claims["iat"] = Now();
  const std::string late_payload = "DZ1." + Base64UrlEncode(claims.dump()) + "." + old_kid + "." +
                                   Base64UrlEncode(late.signature.bytes);
  EXPECT_NE(Offline(late_payload, keys, Now()), certificates::Verdict::kValid);
}

TEST_F(CertificatesTest, AnOfficerRevokesWithAReasonAndEveryoneSeesItAtOnce) {
  const std::string id = ClearanceCertificate();
  const std::string rbp = Token("karma.police.test", "certificates.revoke");
  const auto revoke = [&](const std::string& token, const json& body) {
    return server_.Client()->Send("POST", "/api/v1/certificates/" + id + "/revoke", body.dump(),
                                  {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}});
  };
  // No reason: refused, naming the field and the rule; nothing changes.
  auto empty = revoke(rbp, {{"reason", "   "}});
  ASSERT_EQ(empty.status, 422) << empty.body;
  EXPECT_NE(empty.body.find("\"field\":\"reason\""), std::string::npos) << empty.body;
  EXPECT_NE(empty.body.find("\"rule\":\"required\""), std::string::npos) << empty.body;
  EXPECT_EQ(Get("/verify/" + id)["verdict"], "valid");
  // An officer of another agency may not.
  const std::string dcrc = Token("pema.wangmo", "certificates.revoke");
  EXPECT_EQ(revoke(dcrc, {{"reason", "Not ours to revoke"}}).status, 403);
  EXPECT_EQ(Text("SELECT status FROM certificates WHERE id = '" + id + "'"), "valid");
  // The police revoke it.
  auto done = revoke(rbp, {{"reason", "The clearance was given on a record since corrected"}});
  ASSERT_EQ(done.status, 200) << done.body;
  json verified = Get("/verify/" + id);
  EXPECT_EQ(verified["verdict"], "revoked");
  EXPECT_EQ(verified["revocation_reason"], "The clearance was given on a record since corrected");
  EXPECT_EQ(Get("/api/v1/certificates/" + id + "/status")["status"], "revoked");
  EXPECT_EQ(Notices(kDemoCitizen, "certificate.revoked"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_events WHERE action = 'certificates.revoked' AND object_id = '" + id +
                  "' AND subject = '" + kDemoCitizen + "'"),
            1);
  EXPECT_EQ(revoke(rbp, {{"reason", "Again"}}).status, 409);
  // Unknown and forged.
  auto unknown = server_.Client()->Get("/verify/RBP-SECURITY-CLEARANCE-0000000000");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(json::parse(unknown.body)["verdict"], "not_found");
  const std::string other = ClearanceCertificate();
  Execute("UPDATE certificates SET payload = REPLACE(payload, '\"v\":1', '\"v\":2') WHERE id = '" + other + "'");
  EXPECT_EQ(Get("/verify/" + other)["verdict"], "forged");
}

TEST_F(CertificatesTest, TheVerifiableCredentialPassesAVerifierWrittenApartFromDzong) {
  const std::string id = ClearanceCertificate();
  auto citizen = SignIn(kDemoCitizen, kDemoPassword);
  auto vc = citizen->Get("/my/documents/" + id + "/credential");
  ASSERT_EQ(vc.status, 200) << vc.body;
  const json credential = json::parse(vc.body);
  EXPECT_EQ(credential["@context"][0], "https://www.w3.org/ns/credentials/v2");
  EXPECT_TRUE(credential["issuer"]["id"].get<std::string>().starts_with("did:web:127.0.0.1%3A"));
  EXPECT_EQ(credential["credentialSubject"]["id"], std::string("urn:dzong:cid:") + kDemoCitizen);
  EXPECT_EQ(credential["proof"]["cryptosuite"], "eddsa-jcs-2022");
  EXPECT_EQ(credential["credentialStatus"]["type"], "BitstringStatusListEntry");
  const std::string did = Save("did.json", server_.Client()->Get("/.well-known/did.json").body);
  const std::string status = Save("status.json", server_.Client()->Get("/status/1").body);
  const std::string node = std::string("cd ") + DZONG_SOURCE_DIR + " && node tests/vc/verify-credential.mjs ";
  const auto check = [&](const json& document, bool with_status) {
    const std::string file = Save("credential.json", document.dump());
    const std::string out = RunCommand(node + file + " " + did + (with_status ? " " + status : "") + " 2>&1");
    const json result = json::parse(out, nullptr, false);
    EXPECT_TRUE(result.is_object()) << out;
    return result;
  };
  json valid = check(credential, true);
  EXPECT_EQ(valid["verified"], true) << valid.dump();
  EXPECT_EQ(valid["revoked"], false) << valid.dump();
  // Dzong's own check agrees.
  EXPECT_TRUE(certificates::CheckProof(credential, SavedKeys()));
  // Altered, the proof no longer holds for either.
  json altered = credential;
  altered["credentialSubject"]["fields"]["clearance_type"] = "Arms licence";
  EXPECT_EQ(check(altered, false)["verified"], false);
  EXPECT_FALSE(certificates::CheckProof(altered, SavedKeys()));
  // Revoked: the independent verifier reads the bit from the new status list.
  ASSERT_EQ(server_.Client()
                ->Send("POST", "/api/v1/certificates/" + id + "/revoke", json{{"reason", "Withdrawn by the police"}}.dump(),
                       {{"Authorization", "Bearer " + Token("karma.police.test", "certificates.revoke")},
                        {"Content-Type", "application/json"}})
                .status,
            200);
  Save("status.json", server_.Client()->Get("/status/1").body);
  EXPECT_EQ(check(credential, true)["revoked"], true);
}

/// A SoftHSM2 token of its own, in a temporary directory, for one test.
class SoftHsmToken {
 public:
  static constexpr char kModule[] = "/usr/lib/softhsm/libsofthsm2.so";
  SoftHsmToken() : dir_(std::filesystem::temp_directory_path() / ("dzong-softhsm-" + RandomHex(6))) {
    std::filesystem::create_directories(dir_ / "tokens");
    std::ofstream(dir_ / "softhsm2.conf") << "directories.tokendir = " << (dir_ / "tokens").string()
                                          << "\nobjectstore.backend = file\nlog.level = ERROR\n";
    setenv("SOFTHSM2_CONF", (dir_ / "softhsm2.conf").c_str(), 1);
    initialised_ = std::system("softhsm2-util --init-token --free --label dzong-signing --pin 4321 --so-pin 8765 "
                               "> /dev/null") == 0;
  }
  ~SoftHsmToken() {
    unsetenv("SOFTHSM2_CONF");
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  bool initialised_ = false;

 private:
  std::filesystem::path dir_;
};

class TokenCertificatesTest : public SoftHsmToken, public CertificatesTest {
 protected:
  TokenCertificatesTest()
      : CertificatesTest([](Config& c) {
          c.key_encryption_key.clear();
          c.pkcs11 = {SoftHsmToken::kModule, "dzong-signing", "4321"};
        }) {}
};

TEST_F(TokenCertificatesTest, TheSigningKeyStaysInThePkcs11TokenAndItsCertificatesVerify) {
  ASSERT_TRUE(initialised_) << "softhsm2-util could not make a token: install softhsm2";
  // The key was made in the token when the server started; only its public half is stored.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM signing_keys WHERE sealed_secret = 'pkcs11:dzong-signing'"), 1);
  const std::string id = ClearanceCertificate();
  const certificates::Certificate cert = Stored(id);
  EXPECT_EQ(Offline(certificates::CompactPayload(cert), SavedKeys(), Now()), certificates::Verdict::kValid);
  EXPECT_EQ(Get("/verify/" + id)["verdict"], "valid");
  // A rotation makes the next key in the token too; the first certificate still verifies.
  ASSERT_EQ(server_.Client()->Send("POST", "/api/v1/keys/rotate", "", Operator()).status, 201);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM signing_keys WHERE sealed_secret = 'pkcs11:dzong-signing'"), 2);
  const std::string second = ClearanceCertificate();
  EXPECT_NE(Stored(second).signature.kid, cert.signature.kid);
  const std::vector<PublicKey> keys = SavedKeys();
  EXPECT_EQ(Offline(certificates::CompactPayload(Stored(second)), keys, Now()), certificates::Verdict::kValid);
  EXPECT_EQ(Offline(certificates::CompactPayload(cert), keys, Now()), certificates::Verdict::kValid);
  // The credential's proof is made in the token as well.
  auto citizen = SignIn(kDemoCitizen, kDemoPassword);
  auto vc = citizen->Get("/my/documents/" + second + "/credential");
  ASSERT_EQ(vc.status, 200) << vc.body;
  EXPECT_TRUE(certificates::CheckProof(json::parse(vc.body), keys));
}

}  // namespace
}  // namespace dzong::testing
