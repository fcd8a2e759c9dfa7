#pragma once
// Shared between the certificate module's files; not for other modules.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "base/signing.h"
#include "modules/certificates/certificates.h"

namespace dzong::certificates {

inline constexpr char kCompactPrefix[] = "DZ1.";
/// Bits in one status list: 16 KiB, the W3C minimum, so that one
/// certificate's entry hides among many.
inline constexpr std::int64_t kListBits = 131072;

/// A compact payload taken apart.
struct Compact {
  std::string payload;  ///< the canonical JSON that was signed
  Signature signature;
  nlohmann::json claims;
};
Result<Compact> ParseCompact(std::string_view text);
/// The signature's verdict: valid, unknown key, or forged; `detail` says why.
Verdict CheckCompact(const Compact& compact, const std::vector<PublicKey>& keys, std::string& detail);

/// A status list's bits, GZIP-compressed and multibase base64url ("u…").
std::string EncodeBits(const std::string& bits);
std::optional<std::string> DecodeBits(const std::string& encoded);
bool BitAt(const std::string& bits, std::int64_t index);
void SetBit(std::string& bits, std::int64_t index);
/// The list's number from its URL ("https://…/status/3" → 3); 0 when none.
std::int64_t ListNumber(const std::string& list_url);

}  // namespace dzong::certificates
