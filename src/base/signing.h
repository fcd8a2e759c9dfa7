#pragma once
// The platform's signatures as the modules that sign and check them see
// them: a signer that names the key it used, and the published public keys
// (JWKS) that anyone can check a signature against.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace dzong {

/// An Ed25519 signature and the id of the key that made it.
struct Signature {
  std::string kid;
  std::string bytes;  ///< 64 raw bytes
};

/// A published public key and the period in which it could sign.
struct PublicKey {
  std::string kid;
  std::string key;         ///< 32 raw bytes
  std::string created_at;  ///< UTC, as FormatUtc writes it
  std::optional<std::string> retired_at;
  std::string status;      ///< active, previous, retired
};

/// Signs with the platform's active key, and lists every key it has used.
class Signer {
 public:
  virtual ~Signer() = default;
  virtual Result<Signature> Sign(std::string_view message) = 0;
  /// The key Sign will use, made first when there is none yet: call it
  /// before taking the time a signature will state.
  virtual Result<std::string> ActiveKeyId() = 0;
  virtual Result<std::vector<PublicKey>> Published() const = 0;
};

enum class SignatureCheck { kValid, kUnknownKey, kOutsideKeyPeriod, kBadSignature };
std::string_view SignatureCheckName(SignatureCheck check);

/// Checks `signature` over `message`, made at `signed_at` (UTC text), against
/// `keys`: the key must be known, must have existed then and not yet been
/// retired, and the signature must hold.
SignatureCheck CheckSignature(const std::vector<PublicKey>& keys, const Signature& signature,
                              std::string_view message, std::string_view signed_at);

/// The keys as a JSON Web Key Set (RFC 7517) of OKP/Ed25519 keys (RFC 8037),
/// with each key's period in "dzong:created", "dzong:retired" and "dzong:status".
std::string KeysToJwks(const std::vector<PublicKey>& keys);
/// Reads a JWKS written by KeysToJwks (e.g. a saved copy of
/// /.well-known/dzong-keys.json). Errors: keys.invalid_jwks.
Result<std::vector<PublicKey>> KeysFromJwks(std::string_view jwks);

}  // namespace dzong
