#include "cli/scenario.hpp"

#include <fmt/format.h>

namespace faultline {
namespace {

std::string format_error(const SourceLoc& loc, const std::string& message,
                         const std::string& suggestion) {
  std::string out = fmt::format("{}:{}:{}: error: {}", loc.file, loc.line, loc.column, message);
  if (!suggestion.empty()) out += fmt::format(" ({})", suggestion);
  return out;
}

}  // namespace

ScenarioError::ScenarioError(SourceLoc loc, std::string message, std::string suggestion)
    : std::runtime_error(format_error(loc, message, suggestion)),
      loc_(std::move(loc)),
      message_(std::move(message)),
      suggestion_(std::move(suggestion)) {}

std::string ScenarioError::format() const { return format_error(loc_, message_, suggestion_); }

const char* to_string(FaultKind kind) {
  switch (kind) {
    case FaultKind::Crash:
      return "crash";
    case FaultKind::Restart:
      return "restart";
    case FaultKind::Partition:
      return "partition";
    case FaultKind::Isolate:
      return "isolate";
    case FaultKind::Cut:
      return "cut";
    case FaultKind::Heal:
      return "heal";
    case FaultKind::Slow:
      return "slow";
    case FaultKind::Network:
      return "network";
    case FaultKind::Elect:
      return "elect";
    case FaultKind::Heartbeat:
      return "heartbeat";
    case FaultKind::Nemesis:
      return "nemesis";
  }
  return "?";
}

}  // namespace faultline
