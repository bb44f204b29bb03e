#include "protocols/mapreduce/output_store.hpp"

#include <cstdio>
#include <cstdlib>

namespace faultline::mapreduce {

void OutputStore::apply(const OutputOp& op, Time now) {
  if (const auto* w = std::get_if<WriteTemp>(&op)) {
    // A private temporary file per attempt (§3.3): a rewrite by the same attempt replaces it.
    temps_[{w->reduce, w->attempt, w->worker}] = *w;
    return;
  }
  const auto& r = std::get<RenameOutput>(op);
  auto it = temps_.find({r.reduce, r.attempt, r.worker});
  if (it == temps_.end()) {
    std::fprintf(stderr,
                 "faultline bug: mapreduce output store: rename of reduce %d attempt %d by node "
                 "%d without its temporary file\n",
                 r.reduce, r.attempt, r.worker);
    std::abort();
  }
  RenameRecord record{r.reduce, r.attempt, r.worker, now, false};
  // §3.3: "We rely on the atomic rename operation provided by the underlying file system to
  // guarantee that the final file system state contains just the data produced by one execution
  // of the reduce task." The first rename wins; a later one finds the final name taken and
  // leaves its temporary file behind (never visible as output).
  if (finals_.count(r.reduce) == 0) {
    WriteTemp& temp = it->second;
    finals_[r.reduce] = Final{r.attempt, r.worker, temp.bytes, std::move(temp.content), now};
    temps_.erase(it);
    record.won = true;
  }
  renames_.push_back(record);
}

}  // namespace faultline::mapreduce
