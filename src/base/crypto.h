#pragma once
// Thin wrappers over OpenSSL and libsodium, so that modules do not include them.

#include <string>
#include <string_view>

namespace dzong {

/// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

/// `bytes` random bytes from the operating system, hex-encoded.
std::string RandomHex(std::size_t bytes);

/// Compares two secrets in time that does not depend on where they differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace dzong
