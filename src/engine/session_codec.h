#pragma once
// A session as a cache entry: its State plus the bookkeeping a restored session needs (turns,
// tokens, created / last used, whether the last turn ended on a stop, and the tokens sampled but
// not yet run through the model), so a session evicted to the state cache, or written there by
// another worker, continues exactly where it stopped.
//
// Checkpoint::state holds a small header ("DTSS", version, counters, pending token ids)
// followed by State::Serialize() bytes; Checkpoint::tokens = SessionInfo::tokens; no logits
// (the next turn starts with its own tokens). Pure functions; thread-safe.

#include <utility>

#include "base/status.h"
#include "cache/checkpoint.h"
#include "engine/session_store.h"

namespace dte {

Checkpoint EncodeSession(std::string_view model_id, const SessionInfo& info,
                         const SessionLease& lease);
// Refuses entries that are not sessions, are damaged, or hold a state for another model shape.
Result<std::pair<SessionInfo, SessionLease>> DecodeSession(const ModelConfig& config,
                                                           const Checkpoint& checkpoint);

}  // namespace dte
