// Reading a typed record from JSON without exceptions. Every getter fails with a Status that
// names the record and the key ("run journal '/s/runs/r.json': key 'pid' is missing or not an
// integer"), so a damaged or hand-edited state file is reported like any other error instead
// of escaping as nlohmann's type_error.
//
// Thread safety: a JsonFields only reads the JSON it was given; it does not own it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "base/time.h"

namespace lifeboat {

class JsonFields {
 public:
  using MakeStatus = Status (*)(std::string, std::string);
  // `where` names the record in messages; `make` is the kind of error a bad field is:
  // Status::Corruption for records in the repository (exit 3), Status::IO for the local state
  // files a process writes (exit 2). `j` must outlive this object.
  JsonFields(const nlohmann::json& j, std::string where, MakeStatus make = &Status::Corruption)
      : j_(j), where_(std::move(where)), make_(make) {}

  // The value itself is an object (call first).
  Status IsObject() const;
  // Whether `key` is present (an optional field: absent means its default).
  bool Has(const char* key) const { return j_.contains(key); }
  Status String(const char* key, std::string* out) const;
  Status Int(const char* key, int64_t* out) const;
  Status Int(const char* key, int* out) const;
  Status Uint64(const char* key, uint64_t* out) const;
  Status Uint32(const char* key, uint32_t* out) const;
  Status Double(const char* key, double* out) const;  // any number
  Status Bool(const char* key, bool* out) const;
  // An ISO 8601 time, as FormatIso8601 writes it.
  Status Time(const char* key, UnixNanos* out) const;
  Status Strings(const char* key, std::vector<std::string>* out) const;
  // Optional fields: when `key` is absent, `out` is left empty.
  Status OptionalTime(const char* key, std::optional<UnixNanos>* out) const;
  Status OptionalInt(const char* key, std::optional<int>* out) const;
  // A figure that may not have been measured: absent or null leaves `out` empty.
  Status OptionalDouble(const char* key, std::optional<double>* out) const;
  // An object or an array, copied out.
  Status Object(const char* key, nlohmann::json* out) const;
  Status Array(const char* key, nlohmann::json* out) const;
  // One of the enum values `all`, written as its `name` (a state stored as "running").
  template <typename E, size_t N>
  Status Enum(const char* key, const E (&all)[N], const char* (*name)(E), const std::string& expected,
              E* out) const {
    std::string text;
    if (!String(key, &text).ok()) return Bad(key, expected);
    for (E e : all) {
      if (text == name(e)) {
        *out = e;
        return Status::Ok();
      }
    }
    return Bad(key, expected);
  }
  // The error for `key`, which holds something other than `expected` ("an LSN").
  Status Bad(const std::string& key, const std::string& expected) const;
  const std::string& where() const { return where_; }

 private:
  const nlohmann::json& j_;
  std::string where_;
  MakeStatus make_;
};

}  // namespace lifeboat
