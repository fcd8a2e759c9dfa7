#pragma once
// HTTP Message Signatures (RFC 9421) with Ed25519, as agency systems sign
// their requests: the same scheme the exchange between agencies uses.

#include <chrono>
#include <cstdint>
#include <string>

#include "base/result.h"
#include "http/message.h"

namespace dzong::identity {

/// What a valid Signature-Input names.
struct SignedRequest {
  std::string key_id;     ///< the system's name, BT/GOV/<ORG>/<SUBSYSTEM>
  std::string base;       ///< the signature base the signature covers
  std::string signature;  ///< raw Ed25519 signature bytes
  std::int64_t created = 0;
};

/// Parses Signature-Input and Signature (label "sig1"), checks that the
/// covered components include "@method" and "@path" (and "content-digest",
/// matching the body, when there is one), that alg is ed25519 and that
/// `created` is within five minutes of `now`, and builds the signature base.
/// Errors: auth.unauthenticated with the reason.
Result<SignedRequest> ParseSignedRequest(const http::Request& request, std::chrono::system_clock::time_point now);

/// The Content-Digest value for a body: "sha-256=:<base64>:".
std::string ContentDigest(std::string_view body);

}  // namespace dzong::identity
