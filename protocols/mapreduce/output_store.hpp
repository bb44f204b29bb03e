// The global file system the reduce output goes to (GFS in the paper), as far as MapReduce's
// atomic commit needs it (§3.3 "Semantics in the presence of failures"): each reduce attempt
// writes a private temporary file; the commit is an atomic rename to the final name
// `mr-out-<r>`, and when two executions of one reduce task commit, the first rename wins and
// the final file holds exactly one execution's output. Lives in the simulator, outside every
// node: it survives worker crashes. Pure bookkeeping, applied through the workers' PersistOps.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "common/ids.hpp"
#include "common/time.hpp"

namespace faultline::mapreduce {

/// A worker's output operations (its PersistOp): durable once applied.
struct WriteTemp {
  int reduce = 0;
  int attempt = 0;
  NodeId worker = kNoNode;
  std::uint64_t bytes = 0;
  std::string content;  // real mode; empty in modelled mode
};
struct RenameOutput {
  int reduce = 0;
  int attempt = 0;
  NodeId worker = kNoNode;
};
using OutputOp = std::variant<WriteTemp, RenameOutput>;

class OutputStore {
 public:
  struct Final {
    int attempt = 0;
    NodeId worker = kNoNode;
    std::uint64_t bytes = 0;
    std::string content;
    Time committed_at = 0;
  };
  struct RenameRecord {
    int reduce = 0;
    int attempt = 0;
    NodeId worker = kNoNode;
    Time at = 0;
    bool won = false;  // false: the final name already existed (a duplicate execution)
  };

  /// Applies one op at time `now`. A rename of a temporary file that does not exist is a
  /// faultline bug (aborts).
  void apply(const OutputOp& op, Time now);

  bool committed(int reduce) const { return finals_.count(reduce) != 0; }
  const std::map<int, Final>& finals() const { return finals_; }
  const std::vector<RenameRecord>& renames() const { return renames_; }
  /// Temporary files never renamed (left by crashed or losing attempts): never visible as output.
  std::size_t temporaries() const { return temps_.size(); }

 private:
  std::map<std::tuple<int, int, NodeId>, WriteTemp> temps_;  // (reduce, attempt, worker)
  std::map<int, Final> finals_;
  std::vector<RenameRecord> renames_;
};

}  // namespace faultline::mapreduce
