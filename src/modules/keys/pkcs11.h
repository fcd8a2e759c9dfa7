#pragma once
// A PKCS#11 client for keeping the platform's Ed25519 signing key in a
// hardware token: the secret half is made inside the token, never leaves it,
// and signs there. Tested against SoftHSM2.

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "base/result.h"

namespace dzong::keys {

namespace errc {
inline constexpr char kPkcs11Failed[] = "keys.pkcs11_failed";
inline constexpr char kPkcs11NoKey[] = "keys.pkcs11_no_key";
inline constexpr char kPkcs11KeyExists[] = "keys.pkcs11_key_exists";
}  // namespace errc

/// A loaded, initialised module, shared by the Tokens that use it (pkcs11.cpp).
struct Pkcs11Module;

/// Where the token is and how to log in to it.
struct TokenSettings {
  std::string module;       ///< path of the PKCS#11 module (.so)
  std::string token_label;  ///< the token's label
  std::string pin;          ///< the user PIN
};

/// A logged-in session on one token. Thread-safe (a mutex around the session).
///
/// A module loaded by several Tokens in one process is initialised once and
/// finalised when the last of them goes. Login state belongs to the process,
/// not the session, so only one Token at a time may be open on a given token:
/// a second Open fails with "C_Login: CKR_USER_ALREADY_LOGGED_IN" rather than
/// share a login whose PIN it never checked.
class Token {
 public:
  /// dlopen()s the module, C_Initialize, finds the slot whose token has this label, opens a
  /// R/W session and logs in as CKU_USER. Errors (code keys.pkcs11_failed) name what failed
  /// and the PKCS#11 return value (e.g. "C_Login: CKR_PIN_INCORRECT").
  static Result<std::unique_ptr<Token>> Open(const TokenSettings& settings);
  /// Logs out, closes the session, and releases the module (C_Finalize and
  /// dlclose when no other Token uses it).
  ~Token();
  Token(const Token&) = delete;
  Token& operator=(const Token&) = delete;

  /// Generates an Ed25519 key pair in the token: token objects, the private
  /// half sensitive, non-extractable and for signing; both halves
  /// labelled `label` with CKA_ID = the label's bytes. Returns the 32-byte raw
  /// public key. Errors: keys.pkcs11_key_exists when an Ed25519 key already
  /// has this label (a second one would make the label ambiguous),
  /// keys.pkcs11_failed.
  Result<std::string> GenerateEd25519(const std::string& label);
  /// The 32-byte raw public key of the key pair labelled `label`.
  /// Errors: keys.pkcs11_no_key when absent, keys.pkcs11_failed.
  Result<std::string> PublicKey(const std::string& label);
  /// Ed25519 signature (64 raw bytes) over `message` with the private key
  /// labelled `label` (CKM_EDDSA). Errors: keys.pkcs11_no_key, keys.pkcs11_failed.
  Result<std::string> Sign(const std::string& label, std::string_view message);

 private:
  Token(Pkcs11Module* module, unsigned long session);

  /// The one object of `object_class` that is an Ed25519 key labelled
  /// `label`; the caller holds mutex_.
  Result<unsigned long> FindKey(unsigned long object_class, const std::string& label);

  Pkcs11Module* module_;   ///< counted: released by the destructor
  unsigned long session_;  ///< a CK_SESSION_HANDLE
  std::mutex mutex_;
};

}  // namespace dzong::keys
