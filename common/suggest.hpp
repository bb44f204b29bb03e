// "Did you mean ...?" for error messages: the closest valid key or value to a misspelt one.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace faultline {

/// Edit distance between `a` and `b`: insertions, deletions, substitutions and transpositions of
/// adjacent characters each cost 1 (optimal string alignment; "electon" -> "election" is 1).
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `word`, if it is close enough to be a plausible misspelling
/// (distance <= max(1, length / 3), or equal ignoring case). Ties go to the earlier candidate.
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);

/// "did you mean 'x'?" for the closest match, or "" when there is none.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

/// "a, b, c" (for "valid keys: ..." suggestions).
std::string join(const std::vector<std::string>& items, std::string_view separator = ", ");

}  // namespace faultline
