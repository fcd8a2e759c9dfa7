#include "modules/keys/pkcs11.h"

#include <dlfcn.h>
#include <p11-kit/pkcs11.h>

#include <cstdio>
#include <iterator>
#include <map>
#include <type_traits>
#include <vector>

namespace dzong::keys {

// The header keeps PKCS#11 out of its includes and stores handles as unsigned long.
static_assert(std::is_same_v<CK_SESSION_HANDLE, unsigned long>);
static_assert(std::is_same_v<CK_OBJECT_HANDLE, unsigned long>);

struct Pkcs11Module {
  void* library;  ///< the dlopen() handle, which is also the registry key
  CK_FUNCTION_LIST_PTR functions;
  bool finalize;  ///< false when something else in the process initialised it
  int users;      ///< Tokens using it; guarded by the registry mutex
};

namespace {

constexpr CK_ULONG kEd25519PublicKeyBytes = 32;
constexpr CK_ULONG kEd25519SignatureBytes = 64;

// CKA_EC_PARAMS for Ed25519: the DER of the curve's OID, 1.3.101.112 (RFC 8410).
// PKCS#11 3.0 also allows the PrintableString "edwards25519"; SoftHSM2 2.6.1
// accepts either, and the OID is the form every Ed25519 token knows.
constexpr unsigned char kEd25519Oid[] = {0x06, 0x03, 0x2b, 0x65, 0x70};

std::string ReturnValueName(CK_RV rv) {
  // The return values a client is likely to meet; others print in hex.
  // clang-format off
#define DZONG_CKR(name) {name, #name}
  static const std::map<CK_RV, const char*> kNames = {
      DZONG_CKR(CKR_OK), DZONG_CKR(CKR_HOST_MEMORY), DZONG_CKR(CKR_SLOT_ID_INVALID), DZONG_CKR(CKR_GENERAL_ERROR),
      DZONG_CKR(CKR_FUNCTION_FAILED), DZONG_CKR(CKR_ARGUMENTS_BAD), DZONG_CKR(CKR_ATTRIBUTE_SENSITIVE),
      DZONG_CKR(CKR_ATTRIBUTE_TYPE_INVALID), DZONG_CKR(CKR_ATTRIBUTE_VALUE_INVALID), DZONG_CKR(CKR_DATA_LEN_RANGE),
      DZONG_CKR(CKR_DEVICE_ERROR), DZONG_CKR(CKR_DEVICE_MEMORY), DZONG_CKR(CKR_DEVICE_REMOVED),
      DZONG_CKR(CKR_FUNCTION_NOT_SUPPORTED), DZONG_CKR(CKR_KEY_HANDLE_INVALID), DZONG_CKR(CKR_KEY_TYPE_INCONSISTENT),
      DZONG_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED), DZONG_CKR(CKR_MECHANISM_INVALID),
      DZONG_CKR(CKR_MECHANISM_PARAM_INVALID), DZONG_CKR(CKR_OBJECT_HANDLE_INVALID), DZONG_CKR(CKR_OPERATION_ACTIVE),
      DZONG_CKR(CKR_OPERATION_NOT_INITIALIZED), DZONG_CKR(CKR_PIN_INCORRECT), DZONG_CKR(CKR_PIN_INVALID),
      DZONG_CKR(CKR_PIN_LEN_RANGE), DZONG_CKR(CKR_PIN_EXPIRED), DZONG_CKR(CKR_PIN_LOCKED),
      DZONG_CKR(CKR_SESSION_CLOSED), DZONG_CKR(CKR_SESSION_COUNT), DZONG_CKR(CKR_SESSION_HANDLE_INVALID),
      DZONG_CKR(CKR_SESSION_READ_ONLY), DZONG_CKR(CKR_TEMPLATE_INCOMPLETE), DZONG_CKR(CKR_TEMPLATE_INCONSISTENT),
      DZONG_CKR(CKR_TOKEN_NOT_PRESENT), DZONG_CKR(CKR_TOKEN_NOT_RECOGNIZED), DZONG_CKR(CKR_TOKEN_WRITE_PROTECTED),
      DZONG_CKR(CKR_USER_ALREADY_LOGGED_IN), DZONG_CKR(CKR_USER_NOT_LOGGED_IN),
      DZONG_CKR(CKR_USER_PIN_NOT_INITIALIZED), DZONG_CKR(CKR_USER_TYPE_INVALID),
      DZONG_CKR(CKR_USER_ANOTHER_ALREADY_LOGGED_IN), DZONG_CKR(CKR_DOMAIN_PARAMS_INVALID),
      DZONG_CKR(CKR_CURVE_NOT_SUPPORTED), DZONG_CKR(CKR_BUFFER_TOO_SMALL), DZONG_CKR(CKR_CRYPTOKI_NOT_INITIALIZED),
      DZONG_CKR(CKR_CRYPTOKI_ALREADY_INITIALIZED)
  };
  // clang-format on
#undef DZONG_CKR
  if (auto it = kNames.find(rv); it != kNames.end()) return it->second;
  char hex[32];
  std::snprintf(hex, sizeof hex, "CKR 0x%lx", rv);
  return hex;
}

Error Failed(const std::string& call, CK_RV rv) {
  return Error(errc::kPkcs11Failed, call + ": " + ReturnValueName(rv));
}

// PKCS#11 takes non-const pointers even for inputs it only reads.
CK_BYTE_PTR Bytes(std::string_view bytes) {
  return reinterpret_cast<CK_BYTE_PTR>(const_cast<char*>(bytes.data()));
}

// Keyed by dlopen() handle rather than path, so two paths to one library
// (a symlink) still share one C_Initialize and one C_Finalize.
std::mutex registry_mutex;
std::map<void*, Pkcs11Module> registry;

Result<Pkcs11Module*> AcquireModule(const std::string& path) {
  std::lock_guard lock(registry_mutex);
  // Never unmapped: a module may leave OpenSSL handlers behind, and leak
  // reports must still name it.
  void* library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (library == nullptr) {
    const char* why = dlerror();
    return Error(errc::kPkcs11Failed, "dlopen " + path + ": " + (why != nullptr ? why : "failed"));
  }
  if (auto it = registry.find(library); it != registry.end()) {
    dlclose(library);  // the registry's own reference keeps it loaded
    ++it->second.users;
    return &it->second;
  }
  auto get_function_list = reinterpret_cast<CK_C_GetFunctionList>(dlsym(library, "C_GetFunctionList"));
  if (get_function_list == nullptr) {
    dlclose(library);
    return Error(errc::kPkcs11Failed, path + " is not a PKCS#11 module: it has no C_GetFunctionList");
  }
  CK_FUNCTION_LIST_PTR functions = nullptr;
  CK_RV rv = get_function_list(&functions);
  if (rv != CKR_OK || functions == nullptr) {
    dlclose(library);
    return Failed("C_GetFunctionList", rv);
  }
  // Sessions may be used from several threads (one Token each), so the
  // module must lock for itself.
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  rv = functions->C_Initialize(&args);
  if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
    dlclose(library);
    return Failed("C_Initialize", rv);
  }
  return &registry.emplace(library, Pkcs11Module{library, functions, rv == CKR_OK, 1}).first->second;
}

void ReleaseModule(Pkcs11Module* module) {
  std::lock_guard lock(registry_mutex);
  if (--module->users > 0) return;
  if (module->finalize) module->functions->C_Finalize(nullptr);
  void* library = module->library;
  registry.erase(library);
  dlclose(library);
}

std::string TokenLabel(const CK_TOKEN_INFO& info) {
  std::string label(reinterpret_cast<const char*>(info.label), sizeof info.label);
  // Labels are blank-padded to 32 bytes; some modules pad with NULs instead.
  while (!label.empty() && (label.back() == ' ' || label.back() == '\0')) label.pop_back();
  return label;
}

Result<CK_SLOT_ID> FindSlot(CK_FUNCTION_LIST_PTR f, const TokenSettings& settings) {
  std::vector<CK_SLOT_ID> slots;
  CK_ULONG count = 0;
  CK_RV rv = CKR_OK;
  do {  // the slot list may grow between the two calls
    rv = f->C_GetSlotList(CK_TRUE, nullptr, &count);
    if (rv != CKR_OK) return Failed("C_GetSlotList", rv);
    slots.resize(count);
    rv = f->C_GetSlotList(CK_TRUE, slots.data(), &count);
  } while (rv == CKR_BUFFER_TOO_SMALL);
  if (rv != CKR_OK) return Failed("C_GetSlotList", rv);
  slots.resize(count);
  std::vector<CK_SLOT_ID> matching;
  for (CK_SLOT_ID slot : slots) {
    CK_TOKEN_INFO info{};
    // A token that cannot describe itself is not the one asked for; it
    // should not keep the platform from reaching one that can.
    if (f->C_GetTokenInfo(slot, &info) == CKR_OK && TokenLabel(info) == settings.token_label) {
      matching.push_back(slot);
    }
  }
  if (matching.empty()) {
    return Error(errc::kPkcs11Failed, "no token labelled \"" + settings.token_label + "\" in " + settings.module);
  }
  if (matching.size() > 1) {
    return Error(errc::kPkcs11Failed, "several tokens are labelled \"" + settings.token_label + "\" in " +
                                          settings.module + "; give each a label of its own");
  }
  return matching[0];
}

Result<CK_SESSION_HANDLE> LogIn(CK_FUNCTION_LIST_PTR f, const TokenSettings& settings) {
  DZONG_ASSIGN_OR_RETURN(CK_SLOT_ID slot, FindSlot(f, settings));
  CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
  CK_RV rv = f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &session);
  if (rv != CKR_OK) return Failed("C_OpenSession", rv);
  rv = f->C_Login(session, CKU_USER, Bytes(settings.pin), settings.pin.size());
  if (rv != CKR_OK) {
    f->C_CloseSession(session);
    return Failed("C_Login", rv);
  }
  return session;
}

// CKA_EC_POINT of an Edwards key: SoftHSM returns the DER OCTET STRING of
// the 32 raw bytes; some tokens return the raw bytes. Accept both.
Result<std::string> RawPublicKey(std::string point) {
  if (point.size() == kEd25519PublicKeyBytes + 2 && point[0] == 0x04 &&
      static_cast<unsigned char>(point[1]) == kEd25519PublicKeyBytes) {
    return point.substr(2);
  }
  if (point.size() == kEd25519PublicKeyBytes) return point;
  return Error(errc::kPkcs11Failed,
               "CKA_EC_POINT is " + std::to_string(point.size()) + " bytes, not an Ed25519 public key");
}

Result<std::string> ReadPublicKey(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE session, CK_OBJECT_HANDLE key) {
  CK_ATTRIBUTE point{CKA_EC_POINT, nullptr, 0};
  CK_RV rv = f->C_GetAttributeValue(session, key, &point, 1);
  if (rv != CKR_OK) return Failed("C_GetAttributeValue(CKA_EC_POINT)", rv);
  std::string value(point.ulValueLen, '\0');
  point.pValue = value.data();
  rv = f->C_GetAttributeValue(session, key, &point, 1);
  if (rv != CKR_OK) return Failed("C_GetAttributeValue(CKA_EC_POINT)", rv);
  value.resize(point.ulValueLen);
  return RawPublicKey(std::move(value));
}

}  // namespace

Token::Token(Pkcs11Module* module, unsigned long session) : module_(module), session_(session) {}

Result<std::unique_ptr<Token>> Token::Open(const TokenSettings& settings) {
  DZONG_ASSIGN_OR_RETURN(Pkcs11Module * module, AcquireModule(settings.module));
  Result<CK_SESSION_HANDLE> session = LogIn(module->functions, settings);
  if (!session.ok()) {
    ReleaseModule(module);
    return std::move(session).error();
  }
  return std::unique_ptr<Token>(new Token(module, *session));
}

Token::~Token() {
  // Failures here have nowhere to go, and the session ends either way.
  module_->functions->C_Logout(session_);
  module_->functions->C_CloseSession(session_);
  ReleaseModule(module_);
}

Result<unsigned long> Token::FindKey(unsigned long object_class, const std::string& label) {
  CK_FUNCTION_LIST_PTR f = module_->functions;
  CK_OBJECT_CLASS wanted_class = object_class;
  CK_KEY_TYPE key_type = CKK_EC_EDWARDS;
  CK_ATTRIBUTE wanted[] = {{CKA_CLASS, &wanted_class, sizeof wanted_class},
                           {CKA_KEY_TYPE, &key_type, sizeof key_type},
                           {CKA_LABEL, Bytes(label), label.size()}};
  CK_RV rv = f->C_FindObjectsInit(session_, wanted, std::size(wanted));
  if (rv != CKR_OK) return Failed("C_FindObjectsInit", rv);
  CK_OBJECT_HANDLE found[2];  // two are enough to tell "one" from "several"
  CK_ULONG count = 0;
  rv = f->C_FindObjects(session_, found, std::size(found), &count);
  const CK_RV final_rv = f->C_FindObjectsFinal(session_);  // ends the search on every path
  if (rv != CKR_OK) return Failed("C_FindObjects", rv);
  if (final_rv != CKR_OK) return Failed("C_FindObjectsFinal", final_rv);
  const std::string half = object_class == CKO_PRIVATE_KEY ? "private" : "public";
  if (count == 0) {
    return Error(errc::kPkcs11NoKey, "the token has no Ed25519 " + half + " key labelled \"" + label + "\"");
  }
  if (count > 1) {
    return Error(errc::kPkcs11Failed, "the token has several Ed25519 " + half + " keys labelled \"" + label + "\"");
  }
  return found[0];
}

Result<std::string> Token::GenerateEd25519(const std::string& label) {
  std::lock_guard lock(mutex_);
  for (CK_OBJECT_CLASS half : {CKO_PUBLIC_KEY, CKO_PRIVATE_KEY}) {
    Result<unsigned long> existing = FindKey(half, label);
    if (existing.ok()) {
      return Error(errc::kPkcs11KeyExists, "the token already has an Ed25519 key labelled \"" + label + "\"");
    }
    if (existing.error().code != errc::kPkcs11NoKey) return std::move(existing).error();
  }
  CK_FUNCTION_LIST_PTR f = module_->functions;
  CK_MECHANISM mechanism{CKM_EC_EDWARDS_KEY_PAIR_GEN, nullptr, 0};
  CK_BBOOL yes = CK_TRUE;
  CK_BBOOL no = CK_FALSE;
  CK_ATTRIBUTE public_template[] = {
      {CKA_EC_PARAMS, const_cast<unsigned char*>(kEd25519Oid), sizeof kEd25519Oid},
      {CKA_TOKEN, &yes, sizeof yes},  // kept in the token, not only for this session
      {CKA_PRIVATE, &no, sizeof no},  // readable before login too
      {CKA_VERIFY, &yes, sizeof yes},
      {CKA_LABEL, Bytes(label), label.size()},
      {CKA_ID, Bytes(label), label.size()},  // pairs the halves, as PKCS#11 tools expect
  };
  CK_ATTRIBUTE private_template[] = {
      {CKA_TOKEN, &yes, sizeof yes},            // kept in the token
      {CKA_PRIVATE, &yes, sizeof yes},          // usable only after login
      {CKA_SENSITIVE, &yes, sizeof yes},        // its value is never revealed
      {CKA_EXTRACTABLE, &no, sizeof no},        // nor wrapped out of the token
      {CKA_SIGN, &yes, sizeof yes},             // for signing
      {CKA_LABEL, Bytes(label), label.size()},  // how FindKey finds it
      {CKA_ID, Bytes(label), label.size()},
  };
  CK_OBJECT_HANDLE public_key = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE private_key = CK_INVALID_HANDLE;
  CK_RV rv = f->C_GenerateKeyPair(session_, &mechanism, public_template, std::size(public_template), private_template,
                                  std::size(private_template), &public_key, &private_key);
  if (rv != CKR_OK) return Failed("C_GenerateKeyPair", rv);
  Result<std::string> raw = ReadPublicKey(f, session_, public_key);
  if (!raw.ok()) {
    // A pair whose public half cannot be read is of no use, and left behind
    // it would make the label taken.
    f->C_DestroyObject(session_, private_key);
    f->C_DestroyObject(session_, public_key);
  }
  return raw;
}

Result<std::string> Token::PublicKey(const std::string& label) {
  std::lock_guard lock(mutex_);
  DZONG_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE key, FindKey(CKO_PUBLIC_KEY, label));
  return ReadPublicKey(module_->functions, session_, key);
}

Result<std::string> Token::Sign(const std::string& label, std::string_view message) {
  std::lock_guard lock(mutex_);
  DZONG_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE key, FindKey(CKO_PRIVATE_KEY, label));
  CK_FUNCTION_LIST_PTR f = module_->functions;
  CK_MECHANISM mechanism{CKM_EDDSA, nullptr, 0};  // no parameters: pure Ed25519 (RFC 8032)
  CK_RV rv = f->C_SignInit(session_, &mechanism, key);
  if (rv != CKR_OK) return Failed("C_SignInit", rv);
  // A buffer of the size the token asks for, because a C_Sign that returns
  // CKR_BUFFER_TOO_SMALL leaves the operation active and the session stuck.
  CK_ULONG length = 0;
  rv = f->C_Sign(session_, Bytes(message), message.size(), nullptr, &length);
  if (rv != CKR_OK) return Failed("C_Sign", rv);
  std::string signature(length, '\0');
  rv = f->C_Sign(session_, Bytes(message), message.size(), Bytes(signature), &length);
  if (rv != CKR_OK) return Failed("C_Sign", rv);
  if (length != kEd25519SignatureBytes) {
    return Error(errc::kPkcs11Failed, "C_Sign returned " + std::to_string(length) + " bytes, not an Ed25519 signature");
  }
  return signature;
}

}  // namespace dzong::keys
