// The real-mode applications: user map and reduce functions in C++ (§2.1 "the user of the
// MapReduce library expresses the computation as two functions"), the partitioners (§4.1) and
// the sequential single-process run every distributed run is compared with, byte for byte.
//
// Determinism rule shared by the reducers and the sequential run: a reduce partition's pairs
// are sorted by (key, value) before grouping (§4.2 "ordering guarantees"), so the values a
// reduce call sees, and therefore every output byte, do not depend on which map finished first.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/mapreduce/job.hpp"
#include "protocols/mapreduce/messages.hpp"

namespace faultline::mapreduce {

class App {
 public:
  virtual ~App() = default;
  virtual std::string_view name() const = 0;
  /// map(): one split's text (whole lines), the file it comes from and the split's byte offset
  /// in it; appends pairs to `out` in any order.
  virtual void map(std::string_view file, std::uint64_t offset, std::string_view text,
                   std::vector<KeyValue>& out) const = 0;
  /// reduce(): one key and its values (sorted); appends the output lines to `out`.
  virtual void reduce(const std::string& key, const std::vector<std::string>& values,
                      std::string& out) const = 0;
  /// The combiner (§4.3), when the application has one: partial reduce of one key's values
  /// within one map output partition; appends pairs to `out`.
  virtual bool has_combiner() const { return false; }
  virtual void combine(const std::string& key, const std::vector<std::string>& values,
                       std::vector<KeyValue>& out) const;
  /// The reduce task of a key: hash(key) mod R (§4.1), or a range partitioner (sort).
  virtual int partition(const std::string& key, int reduce_tasks) const;
};

/// wordcount | inverted-index | grep | sort; nullptr for an unknown name.
std::unique_ptr<App> make_app(const Config& config);
/// The names make_app knows.
const std::vector<std::string>& app_names();

/// A map task's output split into R partitions, each sorted by (key, value); with the combiner
/// applied per partition when `combine` is set.
std::vector<std::vector<KeyValue>> run_map(const App& app, const Job& job, const Split& split,
                                           bool combine);
/// One reduce task: merges the fetched partitions, sorts by (key, value), groups and reduces.
/// Returns the output file's content.
std::string run_reduce(const App& app, const std::vector<KvList>& partitions);
/// The reference: the same functions in one process, no distribution, no faults (the 6.824
/// lab's mrsequential, partitioned like the distributed run so files compare one to one).
/// Returns the R output files' contents.
std::vector<std::string> run_sequential(const App& app, const Job& job, bool combine);
/// Serialized size of pairs (key + value + 2 bytes each): the bytes a partition occupies on
/// disk and on the wire in real mode.
std::uint64_t pairs_bytes(const std::vector<KeyValue>& pairs);

}  // namespace faultline::mapreduce
