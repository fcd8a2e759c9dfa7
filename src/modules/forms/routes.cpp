// Applying through the API: a citizen's app or an agency's system sends
// the answers in one call, with an idempotency key, and gets the
// application's reference.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "http/errors.h"
#include "http/json_input.h"
#include "http/router.h"
#include "modules/forms/forms.h"

namespace dzong::forms {

Status AddRoutes(http::Router& router, FormService& forms) {
  FormService* f = &forms;
  return router.Add(
      {"POST", "/api/v1/services/{code}/applications", "account.self", "forms.application_submitted",
       [f](const http::Request& r, const http::PathParams& p) {
         if (r.principal.kind != "citizen") {
           return http::ErrorResponse(Error(dzong::errc::kForbidden, "only a citizen applies for themselves through the API"),
                                      r.request_id);
         }
         auto body = http::ParseJsonObject(r);
         if (!body.ok()) return http::ErrorResponse(body.error(), r.request_id);
         std::vector<FieldError> problems;
         for (const auto& [name, value] : body->items()) {
           if (name != "answers" && name != "consent") problems.push_back({name, "unknown", "not a field of an application"});
         }
         if (!body->contains("answers") || !(*body)["answers"].is_object()) {
           problems.push_back({"answers", "required", "answers is an object of field id to answer"});
         }
         if (body->contains("consent") && !(*body)["consent"].is_boolean()) {
           problems.push_back({"consent", "type", "consent is true (fill in from my records) or false"});
         }
         if (!problems.empty()) return http::ErrorResponse(Invalid(std::move(problems)), r.request_id);
         const bool consent = body->value("consent", false);
         const std::string key(r.HeaderValue("Idempotency-Key"));
         auto made = f->SubmitAnswers(p.at("code"), r.principal.id, consent, (*body)["answers"], key, audit::ActorOf(r));
         if (!made.ok()) return http::ErrorResponse(made.error(), r.request_id);
         nlohmann::json out = {{"reference", made->reference}, {"service", made->service},
                               {"service_version", made->version}, {"state", made->state},
                               {"channel", made->channel},     {"submitted_at", made->submitted_at}};
         http::Response res = http::JsonResponse(201, out);
         res.SetHeader("Location", "/api/v1/applications/" + made->reference);
         return res;
       },
       "apply for a published service in one call, with an Idempotency-Key header: the same key and request again "
       "give the same application"});
}

}  // namespace dzong::forms
