// MapReduce's run metrics (Dean & Ghemawat, OSDI 2004, §3 and §5), computed from the run
// record's events alone (the EVENT lists in protocols/mapreduce/coordinator.hpp and worker.hpp,
// plus the simulator's crash events and final output_summary): job time, task executions and
// re-executions, backup tasks, wasted work, locality, bytes moved and the data rates of the
// paper's Figures 2 and 3, per-task durations. Everything is a function of simulated time and
// of the events' order, so two runs with the same seed give the same numbers.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/run_record.hpp"

namespace faultline::reports {

/// report.json keys of a MapReduce run (cli/registry.cpp lists them with their help text):
///   job_done, job_failed (0/1), job_failed_reason (only when failed), job_time_s (null when
///   the job did not finish), tasks (M + R), maps, reduces, attempts, reexecuted, backup_tasks,
///   backups_won, wasted_work_pct, maps_local/_rack/_remote, map_assignments_local/_rack/_remote,
///   input_bytes_local/_remote, input_mb, shuffle_mb, output_mb, input_peak_mb_s,
///   shuffle_peak_mb_s, output_peak_mb_s, maps_done_s, shuffle_done_s, output_done_s,
///   map_backup_phase_s, reduce_backup_phase_s, workers_dead, crashes_self, calls_delayed,
///   duplicate_completions, outputs_committed, temporaries_left, duplicate_renames,
///   map_time_s and reduce_time_s (stats), rpcs.<kind>.
/// Values with nothing to measure (no job_done, no transfer of a kind, no output_summary) are
/// null. O(events + simulated seconds) time.
nlohmann::json mapreduce_metrics(const RunRecord& record);

/// rates.csv: `time_s,input_mb_s,shuffle_mb_s,output_mb_s`, one row per 1 s interval
/// [time_s, time_s + 1) from 0 to the end of the run (the series of the paper's Figures 2 and
/// 3). Each transfer's bytes are spread uniformly over [start_s, its event time]; a transfer of
/// zero length counts in the interval holding its instant. When a completed map is `reset` (its
/// output died with its worker, §3.3) the input bytes of that map execution are subtracted at the
/// reset instant: the "negative input rate" of Figure 3(c) (§5.5).
std::string mapreduce_rates_csv(const RunRecord& record);

/// tasks.csv: `task,id,attempt,worker,backup,locality,start_s,end_s,outcome`, one row per task
/// execution in assignment order. outcome: the task_ended outcome (committed, duplicate,
/// aborted, lost, reset: a committed map whose output was later lost), `orphaned` (the
/// coordinator that assigned it crashed before it ended; end_s is the crash) or `running`
/// (still running at the end of the run; end_s empty).
std::string mapreduce_tasks_csv(const RunRecord& record);

}  // namespace faultline::reports
