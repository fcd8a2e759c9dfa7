#include "modules/keys/keys.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/crypto.h"

namespace dzong {
std::span<const EmbeddedFile> KeysMigrationFiles();
}

namespace dzong::keys {
namespace {

constexpr char kColumns[] = "kid, public_key, created_at, retired_at, status";

PublicKey FromRow(const db::Row& r) {
  PublicKey key;
  key.kid = r.Text(0);
  key.key = Base64UrlDecode(r.Text(1)).value_or(std::string());
  key.created_at = r.Text(2);
  key.retired_at = r.OptText(3);
  key.status = r.Text(4);
  return key;
}

std::string Digits(std::string_view utc) {
  std::string out;
  for (char ch : utc.substr(0, 10)) {
    if (ch != '-') out += ch;
  }
  return out;
}

}  // namespace

std::span<const EmbeddedFile> Migrations() { return KeysMigrationFiles(); }

Result<std::string> ParseKeyEncryptionKey(std::string_view setting, std::string_view text) {
  const auto invalid = [&] {
    return Error("config.invalid",
                 fmt::format("{}: must be 64 hexadecimal digits (32 bytes; make one with `openssl rand -hex 32`)",
                             setting));
  };
  if (text.size() != 2 * kSealKeyBytes) return invalid();
  std::string raw;
  for (std::size_t i = 0; i < text.size(); i += 2) {
    unsigned value = 0;
    for (char ch : text.substr(i, 2)) {
      value <<= 4;
      if (ch >= '0' && ch <= '9') value |= static_cast<unsigned>(ch - '0');
      else if (ch >= 'a' && ch <= 'f') value |= static_cast<unsigned>(ch - 'a' + 10);
      else if (ch >= 'A' && ch <= 'F') value |= static_cast<unsigned>(ch - 'A' + 10);
      else return invalid();
    }
    raw += static_cast<char>(value);
  }
  return raw;
}

KeyRing::KeyRing(db::Database& db, const Clock& clock, std::string kek)
    : db_(db), clock_(clock), kek_(std::move(kek)) {}

void KeyRing::UseToken(std::unique_ptr<Token> token, std::string token_label) {
  token_ = std::move(token);
  token_label_ = std::move(token_label);
}

namespace {
/// What the sealed_secret column holds for a key that lives in a token.
constexpr std::string_view kInToken = "pkcs11:";
}  // namespace

Result<PublicKey> KeyRing::CreateKey(db::Connection& c, const audit::Actor& actor, const std::string& action) {
  if (kek_.empty() && !token_) {
    return Error(errc::kNoKeyEncryptionKey,
                 "no key-encryption key is configured, so no signing key can be made or used: set "
                 "keys.encryption_key or DZONG_KEY_ENCRYPTION_KEY");
  }
  const std::string now = FormatUtc(clock_.Now());
  PublicKey key;
  key.kid = fmt::format("dzong-{}-{}", Digits(now), RandomHex(4));
  key.created_at = now;
  key.status = "active";
  std::string stored_secret;
  if (token_) {
    // Made inside the token, labelled with its kid; the secret never leaves it.
    DZONG_ASSIGN_OR_RETURN(key.key, token_->GenerateEd25519(key.kid));
    stored_secret = std::string(kInToken) + token_label_;
  } else {
    const KeyPair pair = Ed25519KeyPair();
    key.key = pair.public_key;
    stored_secret = Base64Encode(Seal(kek_, pair.secret_key, key.kid));
  }
  const db::Value demote[] = {now};
  DZONG_TRY(c.Execute("UPDATE signing_keys SET status = 'previous', rotated_at = ? WHERE status = 'active'", demote));
  const db::Value row[] = {key.kid, Base64UrlEncode(key.key), stored_secret, now, actor.id};
  DZONG_TRY(c.Execute("INSERT INTO signing_keys (kid, algorithm, public_key, sealed_secret, status, created_at, "
                      "created_by) VALUES (?, 'Ed25519', ?, ?, 'active', ?, ?)",
                      row));
  DZONG_TRY(audit::AppendWithCall(c, audit::For(actor, action, "signing_key", key.kid,
                                                nlohmann::json({{"kid", key.kid}}).dump()),
                                  actor, 201, clock_));
  return key;
}

Result<db::Rows> KeyRing::ActiveRow() {
  // Read each time, so a rotation by another process (dzong keys rotate)
  // takes effect at the next signature.
  const auto read = [](db::Connection& c) {
    return c.Query("SELECT kid, sealed_secret FROM signing_keys WHERE status = 'active'");
  };
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, db_.ReadValue<db::Rows>(read));
  if (!rows.empty()) return rows;
  audit::Actor platform;
  platform.id = "platform";
  return db_.WriteValue<db::Rows>([&](db::Connection& c) -> Result<db::Rows> {
    DZONG_ASSIGN_OR_RETURN(db::Rows again, read(c));
    if (!again.empty()) return again;
    DZONG_TRY(CreateKey(c, platform, "keys.created"));
    return read(c);
  });
}

Result<std::string> KeyRing::ActiveKeyId() {
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, ActiveRow());
  return rows.at(0).Text(0);
}

Result<Signature> KeyRing::Sign(std::string_view message) {
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, ActiveRow());
  return SignRow(rows[0], message);
}

Result<Signature> KeyRing::SignWithin(db::Connection& c, std::string_view message) {
  const auto read = [&c] { return c.Query("SELECT kid, sealed_secret FROM signing_keys WHERE status = 'active'"); };
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, read());
  if (rows.empty()) {
    audit::Actor platform;
    platform.id = "platform";
    DZONG_TRY(CreateKey(c, platform, "keys.created"));
    DZONG_ASSIGN_OR_RETURN(rows, read());
  }
  return SignRow(rows.at(0), message);
}

Result<Signature> KeyRing::SignRow(const db::Row& active, std::string_view message) {
  const std::string kid = active.Text(0);
  const std::string sealed_text = active.Text(1);
  if (sealed_text.starts_with(kInToken)) {
    if (!token_) {
      return Error(errc::kNoToken, fmt::format("the signing key {} is in the PKCS#11 token {}, which is not configured: "
                                               "set keys.pkcs11_module, keys.pkcs11_token and the PIN",
                                               kid, sealed_text.substr(kInToken.size())));
    }
    DZONG_ASSIGN_OR_RETURN(std::string bytes, token_->Sign(kid, message));
    return Signature{kid, std::move(bytes)};
  }
  std::lock_guard lock(mutex_);
  if (kid != cached_kid_) {
    if (kek_.empty()) return Error(errc::kNoKeyEncryptionKey, "no key-encryption key is configured");
    auto sealed = Base64Decode(sealed_text);
    std::optional<std::string> secret = sealed ? Unseal(kek_, *sealed, kid) : std::nullopt;
    if (!secret) {
      return Error(errc::kWrongKeyEncryptionKey,
                   fmt::format("the signing key {} cannot be unsealed with the configured key-encryption key", kid));
    }
    cached_kid_ = kid;
    cached_secret_ = std::move(*secret);
  }
  return Signature{kid, Ed25519Sign(cached_secret_, message)};
}

Result<std::vector<PublicKey>> KeyRing::Published() const {
  return db_.ReadValue<std::vector<PublicKey>>([](db::Connection& c) -> Result<std::vector<PublicKey>> {
    DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query(std::string("SELECT ") + kColumns +
                                                  " FROM signing_keys ORDER BY created_at DESC, kid"));
    std::vector<PublicKey> out;
    for (const auto& r : rows) out.push_back(FromRow(r));
    return out;
  });
}

Result<PublicKey> KeyRing::Rotate(const audit::Actor& actor) {
  return db_.WriteValue<PublicKey>([&](db::Connection& c) { return CreateKey(c, actor, "keys.rotated"); });
}

Result<PublicKey> KeyRing::Retire(const std::string& kid, const audit::Actor& actor) {
  return db_.WriteValue<PublicKey>([&](db::Connection& c) -> Result<PublicKey> {
    const db::Value key[] = {kid};
    DZONG_ASSIGN_OR_RETURN(db::Rows rows,
                           c.Query(std::string("SELECT ") + kColumns + " FROM signing_keys WHERE kid = ?", key));
    if (rows.empty()) return Error(errc::kNotFound, fmt::format("there is no signing key {}", kid));
    PublicKey found = FromRow(rows[0]);
    if (found.status == "active") {
      return Error(errc::kActive, fmt::format("{} is the active key; rotate to a new key before retiring it", kid));
    }
    if (found.status == "retired") return found;
    found.status = "retired";
    found.retired_at = FormatUtc(clock_.Now());
    const db::Value update[] = {*found.retired_at, kid};
    DZONG_TRY(c.Execute("UPDATE signing_keys SET status = 'retired', retired_at = ? WHERE kid = ?", update));
    DZONG_TRY(audit::AppendWithCall(c, audit::For(actor, "keys.retired", "signing_key", kid,
                                                  nlohmann::json({{"kid", kid}}).dump()),
                                    actor, 200, clock_));
    return found;
  });
}

}  // namespace dzong::keys
