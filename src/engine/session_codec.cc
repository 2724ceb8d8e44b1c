#include "engine/session_codec.h"

#include <cstring>

namespace dte {
namespace {

constexpr uint32_t kSessionMagic = 0x53535444;  // "DTSS"
constexpr uint32_t kSessionVersion = 1;

struct SessionHeader {
  uint32_t magic, version;
  int64_t turns, tokens, created_ms, last_used_ms;
  uint32_t ended_with_stop, pending_count;
};
static_assert(sizeof(SessionHeader) == 48);

int64_t ToMillis(SessionStore::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
SessionStore::Clock::time_point FromMillis(int64_t ms) {
  return SessionStore::Clock::time_point(
      std::chrono::duration_cast<SessionStore::Clock::duration>(std::chrono::milliseconds(ms)));
}

}  // namespace

Checkpoint EncodeSession(std::string_view model_id, const SessionInfo& info,
                         const SessionLease& lease) {
  SessionHeader h{kSessionMagic,
                  kSessionVersion,
                  info.turns,
                  info.tokens,
                  ToMillis(info.created),
                  ToMillis(info.last_used),
                  lease.ended_with_stop ? 1u : 0u,
                  static_cast<uint32_t>(lease.pending_tokens.size())};
  const std::vector<uint8_t> state = lease.state.Serialize();
  const size_t pending_bytes = lease.pending_tokens.size() * sizeof(int32_t);
  Checkpoint cp;
  cp.model_id = std::string(model_id);
  cp.tokens = info.tokens;
  cp.state.resize(sizeof(h) + pending_bytes + state.size());
  std::memcpy(cp.state.data(), &h, sizeof(h));
  if (pending_bytes)
    std::memcpy(cp.state.data() + sizeof(h), lease.pending_tokens.data(), pending_bytes);
  std::memcpy(cp.state.data() + sizeof(h) + pending_bytes, state.data(), state.size());
  return cp;
}

Result<std::pair<SessionInfo, SessionLease>> DecodeSession(const ModelConfig& config,
                                                           const Checkpoint& checkpoint) {
  const std::vector<uint8_t>& b = checkpoint.state;
  SessionHeader h;
  if (b.size() < sizeof(h)) return Status::Corrupt("session entry: too short");
  std::memcpy(&h, b.data(), sizeof(h));
  if (h.magic != kSessionMagic) return Status::Corrupt("session entry: not a session");
  if (h.version != kSessionVersion)
    return Status::Unsupported("session entry: version " + std::to_string(h.version));
  const size_t pending_bytes = size_t{h.pending_count} * sizeof(int32_t);
  if (b.size() < sizeof(h) + pending_bytes) return Status::Corrupt("session entry: truncated");
  SessionLease lease;
  lease.pending_tokens.resize(h.pending_count);
  if (pending_bytes) std::memcpy(lease.pending_tokens.data(), b.data() + sizeof(h), pending_bytes);
  for (int32_t id : lease.pending_tokens)
    if (id < 0 || id >= config.n_vocab) return Status::Corrupt("session entry: bad pending token");
  DTE_ASSIGN_OR_RETURN(
      lease.state,
      State::Deserialize(config, std::span<const uint8_t>(b).subspan(sizeof(h) + pending_bytes)));
  lease.ended_with_stop = h.ended_with_stop != 0;
  SessionInfo info;
  info.turns = h.turns;
  info.tokens = h.tokens;
  info.created = FromMillis(h.created_ms);
  info.last_used = FromMillis(h.last_used_ms);
  info.ended_with_stop = lease.ended_with_stop;
  info.state_bytes = lease.state.bytes();
  return std::make_pair(std::move(info), std::move(lease));
}

}  // namespace dte
