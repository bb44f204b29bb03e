#include "protocols/mapreduce/messages.hpp"

#include <iterator>
#include <type_traits>

namespace faultline::mapreduce {

namespace {

// A control message: RPC header, ids, epoch, a few integers. Exact to within a few bytes is all
// the network model needs; what matters is the data messages' payload.
constexpr std::uint64_t kControlBytes = 64;
// One MapLocation on the wire: map id, worker id, attempt (plus padding).
constexpr std::uint64_t kLocationBytes = 16;

constexpr const char* kNames[] = {"register",      "ping",          "pong",          "assign_map",
                                  "assign_reduce", "map_locations", "map_done",      "reduce_done",
                                  "abort_task",    "read_split",    "split_data",    "fetch",
                                  "fetch_reply",   "shuffle_done",  "replica_write", "replica_ack"};
static_assert(std::variant_size_v<Message> == std::size(kNames));

}  // namespace

const char* kind_name(const Message& m) { return kNames[m.index()]; }

const std::vector<std::string>& kind_names() {
  static const std::vector<std::string> names(std::begin(kNames), std::end(kNames));
  return names;
}

std::uint64_t wire_size(const Message& message) {
  return std::visit(
      [](const auto& m) -> std::uint64_t {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, AssignReduce> || std::is_same_v<T, MapLocations> ||
                      std::is_same_v<T, Fetch>) {
          return kControlBytes + kLocationBytes * m.maps.size();
        } else if constexpr (std::is_same_v<T, Pong>) {
          return kControlBytes + kLocationBytes * m.running.size();
        } else if constexpr (std::is_same_v<T, FetchReply>) {
          return kControlBytes + kLocationBytes * (m.found.size() + m.missing.size()) + m.bytes;
        } else if constexpr (std::is_same_v<T, SplitData> || std::is_same_v<T, ReplicaWrite>) {
          return kControlBytes + m.bytes;
        } else {
          return kControlBytes;
        }
      },
      message);
}

}  // namespace faultline::mapreduce
