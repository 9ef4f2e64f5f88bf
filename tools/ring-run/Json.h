//===- Json.h - strict JSON parsing over llvm::json -------------*- C++ -*-===//
//
// This file declares the JSON parsing of artifact manifests: llvm::json does
// the parsing; around it sit a nesting bound and a duplicate-key check that
// llvm::json does not do, and errors that give the line and column.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRUN_JSON_H
#define RINGRUN_JSON_H

#include "llvm/Support/JSON.h"

#include <string>

namespace ringrun {

/// The deepest nesting of arrays and objects parseJson accepts. A manifest
/// nests three deep; the bound keeps hostile input from exhausting the
/// stack of llvm::json's recursive parser.
constexpr int kMaxJsonDepth = 64;

/// Parses `text` into `out`. On failure returns false and sets `error` to
/// "line L, column C: what". Rejects nesting deeper than kMaxJsonDepth and
/// an object that holds the same key twice ("duplicate key "k" in spec").
bool parseJson(const std::string &text, llvm::json::Value &out,
               std::string &error);

/// "null", "boolean", "number", "string", "array" or "object".
const char *jsonKindName(const llvm::json::Value &v);

} // namespace ringrun

#endif // RINGRUN_JSON_H
