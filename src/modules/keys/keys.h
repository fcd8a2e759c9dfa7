#pragma once
// The platform's signing keys: created, rotated and retired by the platform
// operator, sealed at rest under the key-encryption key from the
// configuration, or kept in a PKCS#11 token, and published as a JWKS at
// /.well-known/dzong-keys.json.

#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/embedded.h"
#include "base/result.h"
#include "base/signing.h"
#include "db/database.h"
#include "modules/audit/audit.h"
#include "modules/keys/pkcs11.h"

namespace dzong::http {
class Router;
}

namespace dzong::keys {

namespace errc {
inline constexpr char kNoKeyEncryptionKey[] = "keys.no_key_encryption_key";
inline constexpr char kWrongKeyEncryptionKey[] = "keys.wrong_key_encryption_key";
inline constexpr char kNotFound[] = "keys.not_found";
inline constexpr char kActive[] = "keys.active";
inline constexpr char kNoToken[] = "keys.no_token";
}  // namespace errc

/// Reads the key-encryption key as configured: 64 hex digits (32 bytes).
/// Errors: config.invalid, naming `setting`.
Result<std::string> ParseKeyEncryptionKey(std::string_view setting, std::string_view text);

class KeyRing final : public Signer {
 public:
  /// `kek` is the raw 32-byte key-encryption key; empty when none is configured
  /// (then nothing can be signed, and Sign names the setting to set).
  KeyRing(db::Database& db, const Clock& clock, std::string kek);
  /// Keys made from now on are made in `token` and sign there; keys sealed
  /// under the key-encryption key before stay usable until rotated away.
  void UseToken(std::unique_ptr<Token> token, std::string token_label);
  bool HasToken() const { return token_ != nullptr; }

  /// Signs with the active key, creating the first key when there is none.
  Result<Signature> Sign(std::string_view message) override;
  Result<std::string> ActiveKeyId() override;
  /// Signs inside the caller's transaction (a certificate issued with the
  /// decision that issues it): the first key is made in that transaction
  /// when there is none.
  Result<Signature> SignWithin(db::Connection& c, std::string_view message);

  /// Every key ever made, newest first, public halves only.
  Result<std::vector<PublicKey>> Published() const override;
  /// A new active key; the one it replaces stays published as "previous".
  Result<PublicKey> Rotate(const audit::Actor& actor);
  /// Ends a previous key's period: signatures it made before now still
  /// verify, none made from now on will. The active key cannot be retired;
  /// rotate first. Errors: keys.not_found, keys.active.
  Result<PublicKey> Retire(const std::string& kid, const audit::Actor& actor);

 private:
  Result<db::Rows> ActiveRow();
  Result<Signature> SignRow(const db::Row& active, std::string_view message);
  Result<PublicKey> CreateKey(db::Connection& c, const audit::Actor& actor, const std::string& action);

  db::Database& db_;
  const Clock& clock_;
  const std::string kek_;
  std::mutex mutex_;
  std::string cached_kid_;     ///< the active key whose secret is unsealed below
  std::string cached_secret_;
  std::unique_ptr<Token> token_;
  std::string token_label_;
};

/// GET /.well-known/dzong-keys.json; the operator's key listing, rotation
/// and retirement under /api/v1/keys.
Status AddRoutes(http::Router& router, KeyRing& keys);

std::span<const EmbeddedFile> Migrations();

}  // namespace dzong::keys
