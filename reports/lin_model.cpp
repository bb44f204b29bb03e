// The models of the linearizability checker: values and compilation of ops (lin_model.hpp).
#include "reports/lin_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace faultline::lin::detail {

json normalize(const json& v) {
  switch (v.type()) {
    case json::value_t::number_float: {
      const double d = v.get<double>();
      if (std::isfinite(d) && std::trunc(d) == d && d >= -9.2e18 && d <= 9.2e18)
        return json(static_cast<std::int64_t>(d));
      return v;
    }
    case json::value_t::number_unsigned: {
      const auto u = v.get<std::uint64_t>();
      if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return json(static_cast<std::int64_t>(u));
      return v;
    }
    case json::value_t::array: {
      json out = json::array();
      for (const auto& e : v) out.push_back(normalize(e));
      return out;
    }
    case json::value_t::object: {
      json out = json::object();
      for (const auto& [k, e] : v.items()) out[k] = normalize(e);
      return out;
    }
    default:
      return v;
  }
}

std::string canonical(const json& v) { return normalize(v).dump(); }

std::string kv_string(const json& v) { return v.is_string() ? v.get<std::string>() : canonical(v); }

namespace {

std::string op_where(const Op& op, std::size_t index) {
  return fmt::format("op {} (process {}, history line {})", index, op.process, op.invoke_line);
}

std::string key_name(const json& k) { return k.is_string() ? k.get<std::string>() : canonical(k); }

}  // namespace

std::optional<std::string> compile(const Op& op, std::size_t index, Machine& m, COp& out) {
  out.index = index;
  out.ok = op.status == Op::Status::Ok;
  const Model model = m.model();
  const auto fs = model_functions(model);
  if (std::find(fs.begin(), fs.end(), op.f) == fs.end())
    return fmt::format("{}: '{}' is not an operation of the {} model ({})", op_where(op, index),
                       op.f, to_string(model), fmt::join(fs, ", "));
  const bool kv = model == Model::Kv;
  auto val = [&](const json& v) {
    return kv ? m.values().intern(kv_string(v)) : m.values().intern(canonical(v));
  };
  if (op.f == "read" || op.f == "get") {
    out.kind = Kind::Read;
    out.a = (out.ok && op.output_known) ? val(op.output) : kUnknown;
  } else if (op.f == "write" || op.f == "put") {
    out.kind = Kind::Write;
    out.a = val(op.value);
  } else if (op.f == "append") {
    out.kind = Kind::Append;
    out.a = val(op.value);
  } else if (op.f == "cas") {
    if (!op.value.is_array() || op.value.size() != 2)
      return fmt::format("{}: a cas value must be [expected, new], not {}", op_where(op, index),
                         op.value.dump());
    const bool matched = !(out.ok && op.cas_result.has_value() && !*op.cas_result);
    out.kind = matched ? Kind::Cas : Kind::CasNoMatch;
    out.a = val(op.value[0]);
    out.b = val(op.value[1]);
  } else {  // txn
    const json& body =
        (out.ok && op.output_known && op.output.is_array() && op.output.size() == op.value.size())
            ? op.output
            : op.value;
    if (!body.is_array())
      return fmt::format("{}: a txn value must be a list of [f, key, value], not {}",
                         op_where(op, index), body.dump());
    out.kind = Kind::Txn;
    out.micro_begin = static_cast<std::uint32_t>(m.micro().size());
    for (const auto& mo : body) {
      if (!mo.is_array() || mo.size() != 3 || !mo[0].is_string())
        return fmt::format("{}: a txn micro-op must be [read|write, key, value], not {}",
                           op_where(op, index), mo.dump());
      const auto f = mo[0].get<std::string>();
      Micro micro;
      if (f == "read" || f == "r") {
        micro.write = false;
      } else if (f == "write" || f == "w") {
        micro.write = true;
      } else {
        return fmt::format("{}: unknown txn micro-op '{}' (read or write)", op_where(op, index), f);
      }
      micro.key = m.key_id(key_name(mo[1]));
      micro.value = (!micro.write && mo[2].is_null()) ? kUnknown : val(mo[2]);
      m.micro().push_back(micro);
    }
    out.micro_end = static_cast<std::uint32_t>(m.micro().size());
  }
  out.preserving = out.kind == Kind::Read || out.kind == Kind::CasNoMatch;
  if (out.kind == Kind::Txn) {
    out.preserving = true;
    for (std::uint32_t i = out.micro_begin; i < out.micro_end; ++i)
      out.preserving = out.preserving && !m.micro()[i].write;
  }
  return std::nullopt;
}

}  // namespace faultline::lin::detail
