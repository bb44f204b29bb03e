// Reads a scenario file (SCENARIOS.md, "A scenario"), validates every key and value against the
// contract and the protocol's registry entry, fills defaults and returns the Scenario everything
// downstream trusts. Bad input of any kind is a ScenarioError naming file:line:col, what was
// expected and, when one is close, the valid key or value probably meant.
#pragma once

#include <string>
#include <vector>

#include "cli/scenario.hpp"
#include "cli/yaml_tree.hpp"

namespace faultline {

/// Reads, validates and fills defaults. `overrides` are `--set key.path=value` strings (value
/// parsed as YAML, applied to the YAML tree before validation, in order; a bad path or value is
/// a ScenarioError located in the file "<--set key.path=value>", line 1, column = position in
/// that text). Throws ScenarioError on any bad input (an unreadable file is
/// `path:1:1: error: cannot read file: <reason>`), never crashes.
Scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides = {});

/// Same, from text (tests, `faultline validate -`); `file` is used in messages.
Scenario load_scenario_text(const std::string& text, const std::string& file,
                            const std::vector<std::string>& overrides = {});

/// A YAML file's text, with the same errors as load_scenario (unreadable, directory, too large).
std::string read_text_file(const std::string& path);
/// The parsed tree of a scenario file (a mapping), before validation: experiments apply their
/// sweep values to it with yaml::set_at_path and validate each point with load_scenario_tree.
yaml::Node read_scenario_tree(const std::string& path);
Scenario load_scenario_tree(const yaml::Node& root, const std::string& file);

}  // namespace faultline
