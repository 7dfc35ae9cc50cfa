// Package sessions finds the conversation each call belongs to, so that
// every call of one agent's task lands in one Phoenix session (session.id)
// with no setting and no change to the client.
//
// A call's session is, in order of precedence:
//
//  1. the one its LiteLLM fields name (x-session-id, x-litellm-session-id,
//     metadata's session_id): read by package spans, passed in Call;
//  2. the one its client names of its own accord (FromClient): Claude
//     Code's X-Claude-Code-Session-Id header or Messages metadata.user_id,
//     Codex CLI's session-id / session_id / conversation_id headers,
//     OpenCode's x-session-affinity;
//  3. for the Responses API, the session of the response named by
//     previous_response_id, or of the conversation it names;
//  4. the session of the conversation whose answer its history repeats;
//  5. a new one (a random UUID).
//
// The user (user.id) is LiteLLM's, else the one the client names (Claude
// Code's account or device, Gemini CLI's installation).
//
// How a conversation is recognised: an agent loop sends, at each turn, the
// previous call's input, that call's answer and its new turns. Once a call
// has been answered, the hash of its history followed by its answer is
// remembered with its session; a later call whose history has that hash as
// a prefix continues it. Only prefixes that end with one of the model's own
// answers count: two conversations that share a system prompt and a first
// message (Claude Code repeats CLAUDE.md in every first message) share no
// answer the proxy relayed, and stay apart. The hashes are of a normal form
// (see history) that the ways clients rebuild an answer do not change:
// content as a string or as text parts, tool call ids, the spacing and key
// order of tool arguments, thinking blocks and reasoning items dropped or
// sent back encrypted, cache_control moved from turn to turn. A branched
// conversation (a turn retried or edited) continues its session on every
// branch.
//
// Memory is bounded: an LRU of Options.Size conversations (and as many
// Responses ids), each forgotten Options.TTL after its last answer. A nil
// *Resolver infers nothing (SESSION_INFERENCE=off): calls keep the sessions
// their fields and clients name.
//
// Replicas behind a load balancer share what they remember through a
// Store (Options.Shared; package redisstore keeps one in Redis): what a
// Resolver remembers goes there too, and what its own memory lacks, the
// prefixes longer than any it remembers, is looked up there in one call.
// A call that follows an answer this replica relayed does not ask at all.
// A shared store that fails is as one that knows nothing: the Resolver
// threads conversations from its own memory.
//
// Identify runs once the call's answer has gone out, so that the client
// never waits for it; the calls that continue a conversation come after its
// answer, so they find it remembered.
package sessions
