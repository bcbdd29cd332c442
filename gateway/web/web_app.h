// The coordinator web view on the gateway's HTTPS listener: sign-in with
// people accounts (user_ops.h), sessions (sessions.h), the client search and
// the client page rendered by pages.h from what CareReader reads for the
// person's organisation, and the forms that act through the same paths as
// gRPC (Publisher for plan changes and referral steps, referral_ops for
// acknowledgements), so the same rules, version checks and audit apply.
//
// Security: sessions in `Secure; HttpOnly; SameSite=Strict` cookies with idle
// and absolute timeouts; every POST carries the session's CSRF token (the
// sign-in form a pre-session token, double-submitted in a cookie); every
// response has a CSP without inline script or style, frame-ancestors 'none',
// no-referrer and no-store. Every client page view is an audited VIEW naming
// the person and the organisation. A client outside the organisation's care
// teams is 404, as if absent.
//
// Thread-safety: handlers run on the HTTPS server's I/O thread and hand all
// work (store reads, scrypt, rendering) to the app's own workers; answers are
// sent from there. Stop() before the committer stops.
#ifndef SWITCHBOARD_GATEWAY_WEB_WEB_APP_H_
#define SWITCHBOARD_GATEWAY_WEB_WEB_APP_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "gateway/careplan/care_reader.h"
#include "gateway/connectors/https_server.h"
#include "gateway/consent/access.h"
#include "gateway/delivery/executor.h"
#include "gateway/exchange/publisher.h"
#include "gateway/registry/directory.h"
#include "gateway/store/committer.h"
#include "gateway/store/store.h"
#include "gateway/web/sessions.h"
#include "switchboard/v1/config.pb.h"

namespace switchboard::gateway::web {

struct WebOptions {
  SessionLimits sessions;
  // Event codes of plan changes and referrals (config event_types).
  std::string plan_event;
  std::string referral_event;
  // Configured attainment scales by name (`gas` is built in).
  std::map<std::string, v1::AttainmentScale> scales;
  // The identifier systems each organisation issues (identifier_authorities):
  // the identifiers a person may search by and sees.
  absl::flat_hash_map<std::string, std::vector<std::string>> own_systems;
};

class WebApp {
 public:
  WebApp(const store::Store* store, store::Committer* committer,
         const registry::Directory* directory, const consent::AccessDecider* decider,
         const exchange::Publisher* publisher, WebOptions options);
  WebApp(const WebApp&) = delete;
  WebApp& operator=(const WebApp&) = delete;
  ~WebApp();  // Stop()s.

  // Adds the web view's routes (/, /sign-in, /sign-out, /password, /clients,
  // /clients/..., /static/...). Fails when a template is broken.
  absl::Status AddRoutes(connectors::HttpRoutes* routes);

  // Lets running work finish and drops queued requests. Idempotent.
  void Stop();

 private:
  struct Request;
  void Handle(connectors::HttpRequest request, connectors::HttpRespond respond);
  void Serve(Request& r);

  void SignInForm(Request& r, const std::string& error);
  void SignIn(Request& r);
  void SignOut(Request& r);
  void PasswordForm(Request& r, const std::string& error);
  void ChangePassword(Request& r);
  void Clients(Request& r);
  void ClientPage(Request& r, const std::string& client_id);
  void ItemAction(Request& r, const std::string& client_id, const std::string& item_id,
                  const std::string& action);
  void ReferralAction(Request& r, const std::string& client_id, const std::string& referral_id,
                      const std::string& action);
  void Static(Request& r, const std::string& name);

  // Constant after construction.
  const store::Store* const store_;
  store::Committer* const committer_;
  const registry::Directory* const directory_;
  const consent::AccessDecider* const decider_;
  const exchange::Publisher* const publisher_;
  const WebOptions options_;
  const careplan::CareReader reader_;
  SessionStore sessions_;
  delivery::Executor workers_;
};

}  // namespace switchboard::gateway::web

#endif  // SWITCHBOARD_GATEWAY_WEB_WEB_APP_H_
