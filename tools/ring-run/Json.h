//===- Json.h - minimal JSON reader -----------------------------*- C++ -*-===//
//
// This file declares a small, dependency-free JSON reader for artifact
// manifests: a value tree and a parser whose errors give the line and column.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRUN_JSON_H
#define RINGRUN_JSON_H

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ringrun {

/// A parsed JSON value.
struct JsonValue {
  enum Kind { Null, Bool, Number, String, Array, Object };
  Kind kind = Null;
  bool boolean = false;
  double number = 0;
  bool isInteger = false; ///< Number written without fraction or exponent.
  int64_t integer = 0;    ///< Valid when isInteger.
  std::string string;
  std::vector<JsonValue> array;
  std::vector<std::pair<std::string, JsonValue>> object;

  /// Returns the member `key` of an object, or null if absent / not object.
  const JsonValue *get(const std::string &key) const;
  /// Returns "null", "boolean", "number", "string", "array" or "object".
  const char *kindName() const;
};

/// Parses `text` into `out`; on failure returns false and sets `error` to
/// "line L, column C: what".
bool parseJson(const std::string &text, JsonValue &out, std::string &error);

} // namespace ringrun

#endif // RINGRUN_JSON_H
