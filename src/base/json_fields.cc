#include "base/json_fields.h"

#include <limits>

namespace lifeboat {

Status JsonFields::Bad(const std::string& key, const std::string& expected) const {
  return make_(where_ + ": key '" + key + "' is missing or not " + expected, "");
}

Status JsonFields::IsObject() const {
  if (!j_.is_object()) return make_(where_ + ": not a JSON object", "");
  return Status::Ok();
}

Status JsonFields::String(const char* key, std::string* out) const {
  auto it = j_.find(key);
  if (it == j_.end() || !it->is_string()) return Bad(key, "a string");
  *out = it->get<std::string>();
  return Status::Ok();
}

Status JsonFields::Int(const char* key, int64_t* out) const {
  auto it = j_.find(key);
  if (it == j_.end() || !it->is_number_integer()) return Bad(key, "a number");
  if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Bad(key, "a number in range");
  }
  *out = it->get<int64_t>();
  return Status::Ok();
}

Status JsonFields::Int(const char* key, int* out) const {
  int64_t v = 0;
  LB_RETURN_IF_ERROR(Int(key, &v));
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
    return Bad(key, "a number in range");
  }
  *out = static_cast<int>(v);
  return Status::Ok();
}

Status JsonFields::Uint64(const char* key, uint64_t* out) const {
  auto it = j_.find(key);
  if (it == j_.end() || !it->is_number_integer()) return Bad(key, "a number");
  if (!it->is_number_unsigned() && it->get<int64_t>() < 0) return Bad(key, "a number in range");
  *out = it->get<uint64_t>();
  return Status::Ok();
}

Status JsonFields::Uint32(const char* key, uint32_t* out) const {
  int64_t v = 0;
  LB_RETURN_IF_ERROR(Int(key, &v));
  if (v < 0 || v > static_cast<int64_t>(std::numeric_limits<uint32_t>::max())) {
    return Bad(key, "a number in range");
  }
  *out = static_cast<uint32_t>(v);
  return Status::Ok();
}

Status JsonFields::Double(const char* key, double* out) const {
  auto it = j_.find(key);
  if (it == j_.end() || !it->is_number()) return Bad(key, "a number");
  *out = it->get<double>();
  return Status::Ok();
}

Status JsonFields::Bool(const char* key, bool* out) const {
  auto it = j_.find(key);
  if (it == j_.end() || !it->is_boolean()) return Bad(key, "a boolean");
  *out = it->get<bool>();
  return Status::Ok();
}

Status JsonFields::Time(const char* key, UnixNanos* out) const {
  auto it = j_.find(key);
  if (it == j_.end() || !it->is_string()) return Bad(key, "a time");
  Result<UnixNanos> t = ParseTimestamp(it->get<std::string>());
  if (!t.ok()) return Bad(key, "a time");
  *out = *t;
  return Status::Ok();
}

Status JsonFields::OptionalTime(const char* key, std::optional<UnixNanos>* out) const {
  if (!Has(key)) return Status::Ok();
  UnixNanos t = 0;
  LB_RETURN_IF_ERROR(Time(key, &t));
  *out = t;
  return Status::Ok();
}

Status JsonFields::OptionalInt(const char* key, std::optional<int>* out) const {
  if (!Has(key)) return Status::Ok();
  int n = 0;
  LB_RETURN_IF_ERROR(Int(key, &n));
  *out = n;
  return Status::Ok();
}

Status JsonFields::OptionalDouble(const char* key, std::optional<double>* out) const {
  auto it = j_.find(key);
  if (it == j_.end() || it->is_null()) return Status::Ok();
  double v = 0;
  LB_RETURN_IF_ERROR(Double(key, &v));
  *out = v;
  return Status::Ok();
}

Status JsonFields::Strings(const char* key, std::vector<std::string>* out) const {
  auto it = j_.find(key);
  if (it == j_.end() || !it->is_array()) return Bad(key, "a list of strings");
  out->clear();
  for (const auto& e : *it) {
    if (!e.is_string()) return Bad(key, "a list of strings");
    out->push_back(e.get<std::string>());
  }
  return Status::Ok();
}

Status JsonFields::Object(const char* key, nlohmann::json* out) const {
  auto it = j_.find(key);
  if (it == j_.end() || !it->is_object()) return Bad(key, "an object");
  *out = *it;
  return Status::Ok();
}

Status JsonFields::Array(const char* key, nlohmann::json* out) const {
  auto it = j_.find(key);
  if (it == j_.end() || !it->is_array()) return Bad(key, "an array");
  *out = *it;
  return Status::Ok();
}

}  // namespace lifeboat
