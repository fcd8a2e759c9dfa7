#pragma once
// The exchange seen from an agency's system: a read signed with the
// system's key (RFC 9421, Ed25519, a fresh nonce), and the platform's signed
// answer checked against its published keys. `dzong exchange get` is this.

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/signing.h"

namespace dzong::exchange {

/// The secret half of a system's key, as a key file holds it: the 64-byte
/// Ed25519 secret key in base64, on one line.
struct SystemKey {
  std::string secret_key;  ///< raw, 64 bytes
  std::string PublicKey() const { return secret_key.substr(32); }
};
/// Errors: request.invalid (not a key file).
Result<SystemKey> ParseKeyFile(const std::string& text);
/// A new key and its file text.
std::string NewKeyFile();

struct ReadRequest {
  std::string server;     ///< http://host:port
  std::string client;     ///< the system's registered name, BT/GOV/<ORG>/<SUBSYSTEM>
  SystemKey key;
  std::string purpose;    ///< the agreement's purpose code
  std::string issue;      ///< the case or application number; optional
  std::string registry;
  std::string record_key;
  /// The platform's published keys; fetched from the server when absent.
  std::optional<std::vector<PublicKey>> platform_keys;
};

struct ReadAnswer {
  int status = 0;
  std::string body;
  std::string error_code;  ///< for a refusal
  std::string message;
  /// The answer's own signature, checked: only answered reads carry one.
  std::optional<SignatureCheck> signature;
  std::string signed_by;  ///< its key id
  bool digest_matches = false;
};

/// Signs and sends the read, and checks the answer. Errors:
/// client.unreachable, client.bad_response, request.invalid.
Result<ReadAnswer> Read(const ReadRequest& request);

}  // namespace dzong::exchange
