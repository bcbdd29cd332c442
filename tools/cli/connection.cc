#include "tools/cli/connection.h"

#include "absl/strings/str_cat.h"
#include "gateway/config/config_loader.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "switchboard/common/status_macros.h"

namespace switchboard::tools::sbctl {

absl::StatusOr<std::shared_ptr<grpc::Channel>> Connect(const ConnectionOptions& o) {
  std::string ca = o.ca, cert = o.cert, key = o.key;
  if (!o.as.empty()) {
    if (ca.empty()) ca = absl::StrCat(o.certs_dir, "/ca.pem");
    if (cert.empty()) cert = absl::StrCat(o.certs_dir, "/", o.as, ".pem");
    if (key.empty()) key = absl::StrCat(o.certs_dir, "/", o.as, ".key");
  }
  if (cert.empty() || key.empty() || ca.empty()) {
    return absl::InvalidArgumentError(
        "say who you are: --as ORG (uses var/certs/ORG.pem, ORG.key and ca.pem), or "
        "--cert FILE --key FILE --ca FILE");
  }
  using gateway::config::ReadFile;
  grpc::SslCredentialsOptions ssl;
  SB_ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadFile(ca, "--ca"));
  SB_ASSIGN_OR_RETURN(ssl.pem_cert_chain, ReadFile(cert, "--cert"));
  SB_ASSIGN_OR_RETURN(ssl.pem_private_key, ReadFile(key, "--key"));
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 20000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  args.SetMaxReceiveMessageSize(64 << 20);
  return grpc::CreateCustomChannel(o.addr, grpc::SslCredentials(ssl), args);
}

std::unique_ptr<grpc::ClientContext> NewContext(const ConnectionOptions& o, bool streaming) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!streaming && o.timeout_ms > 0) {
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(o.timeout_ms));
  }
  if (!o.user.empty()) ctx->AddMetadata("sb-user", o.user);
  return ctx;
}

}  // namespace switchboard::tools::sbctl
