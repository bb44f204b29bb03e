#include "protocols/mapreduce/job.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace faultline::mapreduce {

std::string_view Job::text(const Split& s) const {
  const std::string& content = files.at(static_cast<std::size_t>(s.file)).content;
  return std::string_view(content).substr(s.offset, s.bytes);
}

std::uint64_t Job::modelled_partition_bytes(int m) const {
  // Uniform partitions, rounded down: a worker reports R times this as the map's intermediate
  // bytes, and a reducer fetches exactly this much of it, so the two always agree.
  const Split& s = splits.at(static_cast<std::size_t>(m));
  const double bytes = static_cast<double>(s.bytes) * config.intermediate_ratio /
                       static_cast<double>(std::max(1, reduce_tasks));
  return bytes <= 0 ? 0 : static_cast<std::uint64_t>(bytes);
}

Job plan_job(const Config& config, std::vector<InputFile> files, std::vector<NodeId> workers,
             NodeId coordinator, std::vector<int> rack_of, Rng placement) {
  Job job;
  job.config = config;
  std::sort(workers.begin(), workers.end());
  workers.erase(std::unique(workers.begin(), workers.end()), workers.end());
  job.workers = std::move(workers);
  job.coordinator = coordinator;
  job.rack_of = std::move(rack_of);
  job.files = std::move(files);
  job.reduce_tasks = static_cast<int>(std::max<std::int64_t>(1, config.reduce_tasks));
  const std::uint64_t split_size = std::max<std::uint64_t>(1, config.split_size);

  // §3.1 step 1: "splits the input files into M pieces". Split ids follow file order, then
  // offset, so the same input always gives the same tasks.
  if (config.payload == Payload::Real) {
    for (std::size_t f = 0; f < job.files.size(); ++f) {
      const std::string& content = job.files[f].content;
      std::uint64_t offset = 0;
      while (offset < content.size()) {
        // The split ends after the first '\n' at or after split_size bytes (records are lines
        // and never straddle two splits); the file's end closes the last one.
        std::uint64_t end = content.size();
        if (offset + split_size < content.size()) {
          const std::size_t nl = content.find('\n', offset + split_size - 1);
          if (nl != std::string::npos) end = nl + 1;
        }
        Split s;
        s.id = static_cast<int>(job.splits.size());
        s.bytes = end - offset;
        s.file = static_cast<int>(f);
        s.offset = offset;
        job.splits.push_back(std::move(s));
        offset = end;
      }
    }
  } else {
    const std::uint64_t m = (config.input_size + split_size - 1) / split_size;
    job.splits.reserve(m);
    for (std::uint64_t i = 0; i < m; ++i) {
      Split s;
      s.id = static_cast<int>(i);
      s.bytes = std::min(split_size, config.input_size - i * split_size);
      job.splits.push_back(std::move(s));
    }
  }

  // GFS chunk placement (§3.4): input_replicas distinct workers per split, uniformly at random.
  // A partial Fisher-Yates shuffle of a permutation kept across splits: each split's prefix is a
  // uniform k-subset whatever order the earlier splits left.
  const std::size_t n = job.workers.size();
  const std::size_t k = std::min<std::size_t>(
      n, static_cast<std::size_t>(std::max<std::int64_t>(0, config.input_replicas)));
  std::vector<NodeId> perm = job.workers;
  for (Split& s : job.splits) {
    for (std::size_t i = 0; i < k; ++i) {
      const std::size_t j = i + static_cast<std::size_t>(placement.below(n - i));
      std::swap(perm[i], perm[j]);
    }
    s.replicas.assign(perm.begin(), perm.begin() + static_cast<std::ptrdiff_t>(k));
  }
  return job;
}

}  // namespace faultline::mapreduce
