#include "protocols/raft/snapshot.hpp"

namespace faultline::raft {
namespace {

// The same plausible binary encoding as messages.cpp: fixed-width integers, length-prefixed
// strings, a count before every collection.
constexpr std::uint64_t kU64 = 8;
constexpr std::uint64_t kCountBytes = 4;
constexpr std::uint64_t kStringPrefixBytes = 4;

std::uint64_t string_size(const std::string& s) { return kStringPrefixBytes + s.size(); }

}  // namespace

std::uint64_t snapshot_size(const Snapshot& snapshot) {
  std::uint64_t bytes = 2 * kU64;  // last_included_index, last_included_term
  bytes += kCountBytes;
  for (const auto& [key, value] : snapshot.state.data) bytes += string_size(key) + string_size(value);
  bytes += kCountBytes;
  for (const auto& [client_id, session] : snapshot.state.sessions) {
    bytes += 2 * kU64 + kCountBytes;  // client_id, ack_below, result count
    for (const auto& [seq, result] : session.results)
      bytes += kU64 + 1 + string_size(result.value);  // seq, cas_matched, value
  }
  return bytes;
}

}  // namespace faultline::raft
