#pragma once
// Thin wrappers over OpenSSL and libsodium, so that modules do not include them.

#include <optional>
#include <string>
#include <string_view>

namespace dzong {

/// SHA-256 of `data`, as 32 raw bytes.
std::string Sha256(std::string_view data);

/// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

/// Lower-case hex SHA-256 of `data` into `out`, without allocating.
void Sha256HexInto(std::string_view data, char (&out)[64]);

/// `bytes` random bytes from the operating system, hex-encoded.
std::string RandomHex(std::size_t bytes);

/// `bytes` random bytes from the operating system.
std::string RandomBytes(std::size_t bytes);

/// RFC 4648 base32 without padding (TOTP secrets), and back; nullopt when
/// the text is not base32.
std::string Base32Encode(std::string_view bytes);
std::optional<std::string> Base32Decode(std::string_view text);

/// Standard base64 with padding, and back.
std::string Base64Encode(std::string_view bytes);
std::optional<std::string> Base64Decode(std::string_view text);
/// RFC 4648 base64url without padding (JWK members, signatures in JSON), and back.
std::string Base64UrlEncode(std::string_view bytes);
std::optional<std::string> Base64UrlDecode(std::string_view text);
/// Base58 with Bitcoin's alphabet (the multibase "z" encoding of W3C
/// Data Integrity proofs and Multikeys), and back.
std::string Base58BtcEncode(std::string_view bytes);
std::optional<std::string> Base58BtcDecode(std::string_view text);

/// Authenticated encryption (XChaCha20-Poly1305) under a 32-byte key; the
/// random nonce leads the result. `associated` is bound but not encrypted.
inline constexpr std::size_t kSealKeyBytes = 32;
std::string Seal(std::string_view key, std::string_view plaintext, std::string_view associated);
/// nullopt when the key is wrong or the sealed text was altered.
std::optional<std::string> Unseal(std::string_view key, std::string_view sealed, std::string_view associated);

/// HMAC-SHA1 (RFC 2104), as TOTP (RFC 6238) needs it.
std::string HmacSha1(std::string_view key, std::string_view message);
/// HMAC-SHA256, as lower-case hex (payment gateways' signed messages).
std::string HmacSha256Hex(std::string_view key, std::string_view message);

/// Argon2id string hash (libsodium, interactive limits: ~200 ms here).
std::string PasswordHash(std::string_view password);
/// Argon2id at the minimum cost: for test suites, and for comparing against
/// when there is no account (verification cost follows the stored hash).
std::string PasswordHashFast(std::string_view password);
bool PasswordVerify(std::string_view hash, std::string_view password);

/// A new Ed25519 key pair, raw bytes (32-byte public, 64-byte secret).
struct KeyPair {
  std::string public_key;
  std::string secret_key;
};
KeyPair Ed25519KeyPair();
std::string Ed25519Sign(std::string_view secret_key, std::string_view message);

/// Ed25519 signature check (libsodium). Keys and signatures are raw bytes.
bool Ed25519Verify(std::string_view public_key, std::string_view message, std::string_view signature);

/// Compares two secrets in time that does not depend on where they differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace dzong
