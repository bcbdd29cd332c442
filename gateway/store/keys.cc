#include "gateway/store/keys.h"

#include "absl/strings/str_format.h"

namespace switchboard::gateway::store {
namespace {

constexpr char kSep = '\0';

std::string Join(absl::string_view tag, absl::string_view a) {
  std::string out;
  out.reserve(tag.size() + 1 + a.size());
  out.append(tag.data(), tag.size());
  out.push_back(kSep);
  out.append(a.data(), a.size());
  return out;
}

}  // namespace

const char* CfName(Cf cf) {
  switch (cf) {
    case Cf::kRegistry: return "registry";
    case Cf::kClients: return "clients";
    case Cf::kMessages: return "messages";
    case Cf::kDedup: return "dedup";
    case Cf::kOutbox: return "outbox";
    case Cf::kDeliveries: return "deliveries";
    case Cf::kAudit: return "audit";
    case Cf::kMeta: return "meta";
    case Cf::kConsents: return "consents";
    case Cf::kCarePlans: return "careplans";
    case Cf::kCount: break;
  }
  return "?";
}

std::string EncodeSeq(uint64_t seq) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(seq & 0xff);
    seq >>= 8;
  }
  return out;
}

std::optional<uint64_t> DecodeSeq(absl::string_view bytes) {
  if (bytes.size() != 8) return std::nullopt;
  uint64_t seq = 0;
  for (unsigned char c : bytes) seq = (seq << 8) | c;
  return seq;
}

namespace keys {

std::string Organisation(absl::string_view id) { return Join("org", id); }
std::string CertificateSan(absl::string_view san) { return Join("san", san); }
std::string Subscription(absl::string_view organisation_id) {
  return Join("sub", organisation_id);
}
std::string AdapterVersion(absl::string_view organisation_id, uint32_t version) {
  return AdapterVersionPrefix(organisation_id) + EncodeSeq(version);
}
std::string AdapterVersionPrefix(absl::string_view organisation_id) {
  std::string out = Join("adapter", organisation_id);
  out.push_back(kSep);
  return out;
}
std::string AdapterBinding(absl::string_view organisation_id) {
  return Join("adapter-binding", organisation_id);
}
std::string User(absl::string_view organisation_id, absl::string_view username) {
  return UserPrefix(organisation_id) + std::string(username);
}
std::string UserPrefix(absl::string_view organisation_id) {
  std::string out = Join("user", organisation_id);
  out.push_back(kSep);
  return out;
}
std::string Client(absl::string_view client_id) { return Join("client", client_id); }
std::string Identifier(absl::string_view system, absl::string_view value) {
  std::string out = Join("ident", system);
  out.push_back(kSep);
  out.append(value.data(), value.size());
  return out;
}
std::string CareTeam(absl::string_view client_id) { return Join("team", client_id); }
std::string ClientReview(uint64_t seq) {
  std::string out(kClientReviewPrefix);
  out.append(EncodeSeq(seq));
  return out;
}
std::string ClientReviewOfMessage(absl::string_view source, absl::string_view message_id) {
  std::string out = Join("review-of", source);
  out.push_back(kSep);
  out.append(message_id.data(), message_id.size());
  return out;
}

std::string Sequence(uint64_t seq) { return EncodeSeq(seq); }

std::string Dedup(absl::string_view source, absl::string_view message_id) {
  std::string out(source);
  out.push_back(kSep);
  out.append(message_id.data(), message_id.size());
  return out;
}

std::string RecipientPrefix(absl::string_view recipient) {
  std::string out(recipient);
  out.push_back(kSep);
  return out;
}

std::string RecipientSeq(absl::string_view recipient, uint64_t seq) {
  return RecipientPrefix(recipient) + EncodeSeq(seq);
}

std::optional<uint64_t> SeqOfRecipientKey(absl::string_view key) {
  if (key.size() < 9 || key[key.size() - 9] != kSep) return std::nullopt;
  return DecodeSeq(key.substr(key.size() - 8));
}

std::string ConsentPrefix(absl::string_view client_id) {
  std::string out = Join("consent", client_id);
  out.push_back(kSep);
  return out;
}
std::string Consent(absl::string_view client_id, absl::string_view consent_id) {
  std::string out = ConsentPrefix(client_id);
  out.append(consent_id.data(), consent_id.size());
  return out;
}
std::string ConsentVersionPrefix(absl::string_view client_id) {
  std::string out = Join("consentv", client_id);
  out.push_back(kSep);
  return out;
}
std::string ConsentVersion(absl::string_view client_id, absl::string_view consent_id,
                           uint64_t version) {
  std::string out = ConsentVersionPrefix(client_id);
  out.append(consent_id.data(), consent_id.size());
  out.push_back(kSep);
  out += EncodeSeq(version);
  return out;
}
std::string BreakGlassPrefix(absl::string_view client_id) {
  std::string out = Join("glass", client_id);
  out.push_back(kSep);
  return out;
}
std::string BreakGlass(absl::string_view client_id, absl::string_view organisation_id) {
  std::string out = BreakGlassPrefix(client_id);
  out.append(organisation_id.data(), organisation_id.size());
  return out;
}
std::string WithheldPrefix(absl::string_view recipient, absl::string_view client_id) {
  std::string out = Join("withheld", recipient);
  out.push_back(kSep);
  out.append(client_id.data(), client_id.size());
  out.push_back(kSep);
  return out;
}
std::string Withheld(absl::string_view recipient, absl::string_view client_id, uint64_t seq) {
  return WithheldPrefix(recipient, client_id) + EncodeSeq(seq);
}

std::string PlanPrefix(absl::string_view client_id) {
  std::string out = Join("plan", client_id);
  out.push_back(kSep);
  return out;
}
std::string PlanHead(absl::string_view client_id) { return Join("plan-head", client_id); }
std::string PlanVersion(absl::string_view client_id, uint64_t version) {
  return PlanPrefix(client_id) + EncodeSeq(version);
}
std::string ReferralPrefix(absl::string_view client_id) {
  std::string out = Join("referral", client_id);
  out.push_back(kSep);
  return out;
}
std::string Referral(absl::string_view client_id, absl::string_view referral_id) {
  std::string out = ReferralPrefix(client_id);
  out.append(referral_id.data(), referral_id.size());
  return out;
}
std::string ReferralDue(uint64_t due_micros, absl::string_view client_id,
                        absl::string_view referral_id) {
  std::string out(kReferralDuePrefix);
  out += EncodeSeq(due_micros);
  out.append(client_id.data(), client_id.size());
  out.push_back(kSep);
  out.append(referral_id.data(), referral_id.size());
  return out;
}
std::string TimelinePrefix(absl::string_view client_id) {
  std::string out = Join("timeline", client_id);
  out.push_back(kSep);
  return out;
}
std::string TimelineEntry(absl::string_view client_id, uint64_t occurred_micros, uint64_t seq) {
  return TimelinePrefix(client_id) + EncodeSeq(occurred_micros) + EncodeSeq(seq);
}
std::optional<uint64_t> TrailingSeq(absl::string_view key) {
  if (key.size() < 8) return std::nullopt;
  return DecodeSeq(key.substr(key.size() - 8));
}

}  // namespace keys

std::string PrefixUpperBound(absl::string_view prefix) {
  std::string bound(prefix);
  while (!bound.empty()) {
    unsigned char last = static_cast<unsigned char>(bound.back());
    if (last != 0xff) {
      bound.back() = static_cast<char>(last + 1);
      return bound;
    }
    bound.pop_back();
  }
  return bound;
}

std::string GatewayMessageId(uint64_t seq) { return absl::StrFormat("msg-%016x", seq); }
std::string DeliveryId(uint64_t seq) { return absl::StrFormat("dlv-%016x", seq); }

namespace {

std::optional<uint64_t> ParsePrefixedSeq(absl::string_view id, absl::string_view prefix) {
  if (id.size() != 20 || id.substr(0, 4) != prefix) return std::nullopt;
  uint64_t seq = 0;
  for (char c : id.substr(4)) {
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else {
      return std::nullopt;
    }
    seq = (seq << 4) | static_cast<uint64_t>(v);
  }
  return seq;
}

}  // namespace

std::optional<uint64_t> ParseDeliveryId(absl::string_view id) { return ParsePrefixedSeq(id, "dlv-"); }
std::optional<uint64_t> ParseGatewayMessageId(absl::string_view id) {
  return ParsePrefixedSeq(id, "msg-");
}

}  // namespace switchboard::gateway::store
