#include "common/params.hpp"

namespace faultline {

const char* to_string(ParamType type) {
  switch (type) {
    case ParamType::Duration: return "duration";
    case ParamType::DurationRange: return "duration range";
    case ParamType::Integer: return "integer";
    case ParamType::Real: return "number";
    case ParamType::Probability: return "probability";
    case ParamType::Bool: return "bool";
    case ParamType::String: return "string";
    case ParamType::StringList: return "list of strings";
    case ParamType::Size: return "size";
    case ParamType::Bandwidth: return "bandwidth";
  }
  return "?";
}

}  // namespace faultline
