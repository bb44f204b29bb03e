#include "cli/commands.hpp"

#include <algorithm>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/registry.hpp"
#include "cli/scenario_loader.hpp"
#include "common/suggest.hpp"

namespace faultline {
namespace fs = std::filesystem;
namespace {

const std::vector<std::string> kGenericRoles = {"random", "random-N", "crashed", "all"};

nlohmann::json param_json(const ParamSpec& p) {
  nlohmann::json j = {{"name", p.name}, {"type", to_string(p.type)}, {"default", p.default_yaml}, {"help", p.help}};
  if (!p.choices.empty()) j["choices"] = p.choices;
  return j;
}

std::vector<std::string> protocol_names() {
  std::vector<std::string> names;
  for (const auto& p : protocols()) names.push_back(p.name);
  return names;
}

}  // namespace

std::string scenario_library_dir() {
  std::error_code ec;
  if (fs::is_directory("scenarios", ec)) return "scenarios";
  return std::string(FAULTLINE_SOURCE_DIR) + "/scenarios";
}

int validate_command(const std::vector<std::string>& files) {
  int code = 0;
  for (const auto& file : files) {
    try {
      const Scenario s = load_scenario(file);
      std::cout << fmt::format("{}: ok ({}, {} servers, {} clients, {} faults, {} expectations)\n", file,
                               s.protocol, s.cluster.server_names.size(), s.workload.clients, s.faults.size(),
                               s.expect.size());
    } catch (const ScenarioError& e) {
      std::cerr << e.format() << "\n";
      code = 2;
    }
  }
  return code;
}

int list_command(bool json) {
  nlohmann::json library = nlohmann::json::array();
  const fs::path dir = scenario_library_dir();
  std::vector<fs::path> files;
  std::error_code ec;
  if (fs::is_directory(dir, ec))
    for (const auto& entry : fs::recursive_directory_iterator(dir, ec))
      if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    nlohmann::json item = {{"file", f.string()}};
    try {
      const Scenario s = load_scenario(f.string());
      item["name"] = s.name;
      item["protocol"] = s.protocol;
      item["description"] = s.description;
    } catch (const ScenarioError& e) {
      item["error"] = e.format();
    }
    library.push_back(item);
  }
  if (json) {
    nlohmann::json out = {{"protocols", nlohmann::json::array()}, {"generic_roles", kGenericRoles}, {"scenarios", library}};
    for (const auto& p : protocols())
      out["protocols"].push_back({{"name", p.name}, {"summary", p.summary}, {"implemented", p.implemented},
                                  {"roles", p.roles}, {"checks", [&] {
                                     nlohmann::json c = nlohmann::json::array();
                                     for (const auto& k : p.checks) c.push_back({{"name", k.name}, {"available", k.available}});
                                     return c;
                                   }()}});
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << "Protocols\n";
  for (const auto& p : protocols()) {
    std::cout << fmt::format("  {:<15} {}\n", p.name, p.summary);
    if (!p.implemented) continue;
    std::cout << fmt::format("  {:<15}   roles: {}, {}\n", "", join(p.roles), join(kGenericRoles));
    std::vector<std::string> checks;
    for (const auto& c : p.checks) checks.push_back(c.available ? c.name : c.name + " (coming)");
    std::cout << fmt::format("  {:<15}   checks: {}\n", "", join(checks));
  }
  std::cout << fmt::format("\nScenario library ({})\n", dir.string());
  for (const auto& item : library) {
    std::string desc = item.value("description", item.value("error", std::string()));
    if (auto nl = desc.find('\n'); nl != std::string::npos) desc = desc.substr(0, nl);
    if (desc.size() > 90) desc = desc.substr(0, 87) + "...";
    std::cout << fmt::format("  {:<42} {}\n", item["file"].get<std::string>(), desc);
  }
  std::cout << "\nRun one with: faultline run <file>;  details of a protocol: faultline explain <protocol>\n";
  return 0;
}

int explain_command(const std::string& name, bool json) {
  const ProtocolInfo* p = find_protocol(name);
  if (!p) {
    const std::string hint = did_you_mean(name, protocol_names());
    std::cerr << fmt::format("faultline explain: error: unknown protocol '{}'{} (protocols: {})\n", name,
                             hint.empty() ? "" : " (" + hint + ")", join(protocol_names()));
    return 2;
  }
  nlohmann::json j = {{"name", p->name}, {"summary", p->summary}, {"implemented", p->implemented},
                      {"roles", p->roles}, {"generic_roles", kGenericRoles}, {"workload_ops", p->workload_ops}};
  j["params"] = nlohmann::json::array();
  for (const auto& ps : p->params) j["params"].push_back(param_json(ps));
  j["checks"] = nlohmann::json::array();
  for (const auto& c : p->checks) j["checks"].push_back({{"name", c.name}, {"help", c.help}, {"available", c.available}});
  j["default_checks"] = p->default_checks;
  j["metrics"] = nlohmann::json::array();
  for (const auto* list : {&common_metrics(), &p->metrics})
    for (const auto& m : *list) j["metrics"].push_back({{"path", m.path}, {"help", m.help}, {"stats", m.stats}});
  if (json) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << fmt::format("{} — {}\n", p->name, p->summary);
  if (!p->implemented) return 0;
  std::cout << "\nparams: (scenario key `params:`)\n";
  for (const auto& ps : p->params)
    std::cout << fmt::format("  {:<24} {:<14} default {:<16} {}\n", ps.name, to_string(ps.type), ps.default_yaml, ps.help);
  std::cout << fmt::format("\nroles (fault targets): {}; and {}\n", join(p->roles), join(kGenericRoles));
  std::cout << fmt::format("workload operations (workload.mix): {}\n",
                           p->workload_ops.empty() ? "none (no client workload)" : join(p->workload_ops));
  std::cout << "\nchecks: (scenario key `checks:`; default: " << join(p->default_checks) << ")\n";
  for (const auto& c : p->checks)
    std::cout << fmt::format("  {:<16} {}{}\n", c.name, c.help, c.available ? "" : " [not available yet]");
  std::cout << "\nmetrics: (usable in `expect:` and `stop_when:`; stats have .mean .p50 .p90 .p99 .p999 .max .min)\n";
  for (const auto* list : {&common_metrics(), &p->metrics})
    for (const auto& m : *list) std::cout << fmt::format("  {:<28} {}{}\n", m.path, m.help, m.stats ? " [stats]" : "");
  return 0;
}

}  // namespace faultline
