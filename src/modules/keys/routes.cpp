// The published keys, and the operator's rotation and retirement of them.
#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "http/errors.h"
#include "http/json_input.h"
#include "http/router.h"
#include "modules/keys/keys.h"

namespace dzong::keys {
namespace {

using nlohmann::json;

json ToJson(const PublicKey& key) {
  return {{"kid", key.kid},
          {"algorithm", "Ed25519"},
          {"public_key", Base64UrlEncode(key.key)},
          {"status", key.status},
          {"created_at", key.created_at},
          {"retired_at", key.retired_at ? json(*key.retired_at) : json()}};
}

}  // namespace

Status AddRoutes(http::Router& router, KeyRing& keys) {
  DZONG_TRY(router.Add({"GET", "/.well-known/dzong-keys.json", http::kPublic, http::kNoAuditEvent,
                        [&keys](const http::Request& r, const http::PathParams&) {
                          auto published = keys.Published();
                          if (!published.ok()) return http::ErrorResponse(published.error(), r.request_id);
                          http::Response response;
                          response.content_type = "application/jwk-set+json";
                          response.body = KeysToJwks(*published);
                          response.SetHeader("Cache-Control", "public, max-age=300");
                          return response;
                        },
                        "the platform's public signing keys (JWKS)"}));
  DZONG_TRY(router.Add({"GET", "/api/v1/keys", "keys.manage", http::kNoAuditEvent,
                        [&keys](const http::Request& r, const http::PathParams&) {
                          auto published = keys.Published();
                          if (!published.ok()) return http::ErrorResponse(published.error(), r.request_id);
                          json items = json::array();
                          for (const auto& key : *published) items.push_back(ToJson(key));
                          return http::JsonResponse(200, {{"items", std::move(items)}});
                        },
                        "every signing key and its period"}));
  DZONG_TRY(router.Add({"POST", "/api/v1/keys/rotate", "keys.manage", "keys.rotate",
                        [&keys](const http::Request& r, const http::PathParams&) {
                          auto key = keys.Rotate(audit::ActorOf(r));
                          if (!key.ok()) return http::ErrorResponse(key.error(), r.request_id);
                          return http::JsonResponse(201, ToJson(*key));
                        },
                        "make a new active signing key"}));
  DZONG_TRY(router.Add({"POST", "/api/v1/keys/{kid}/retire", "keys.manage", "keys.retire",
                        [&keys](const http::Request& r, const http::PathParams& p) {
                          auto key = keys.Retire(p.at("kid"), audit::ActorOf(r));
                          if (!key.ok()) return http::ErrorResponse(key.error(), r.request_id);
                          return http::JsonResponse(200, ToJson(*key));
                        },
                        "end a replaced key's period"}));
  return {};
}

}  // namespace dzong::keys
