//===- Json.cpp - strict JSON parsing over llvm::json -----------*- C++ -*-===//
//
// This file implements parseJson: llvm::json::parse does the parsing. Two
// things it does not do are done here by a small lexical scan:
//
//  - llvm::json::Object is a map, and parse() silently keeps one value of a
//    key written twice. A manifest with two "seq" keys must be an error (which
//    one a reader takes is not something to guess), so after a successful
//    parse the text is scanned again and every object's keys are compared.
//    The scan runs on text llvm::json accepted, so it only has to tell
//    strings from structure; each key is decoded by llvm::json itself so that
//    "a" and "\u0061" compare equal.
//  - parse() recurses once per nesting level; a hostile file of a million
//    '[' would exhaust the stack, so the nesting depth is bounded first.
//
//===----------------------------------------------------------------------===//

#include "Json.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Error.h"

#include <cstdio>

using namespace ringrun;

namespace {

/// "line L, column C" of byte `at` in `text` (both 1-based).
std::string position(const std::string &text, size_t at) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < at && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

/// Returns the index one past the closing quote of the string that opens at
/// `at`, or text.size() if it is unterminated.
size_t skipString(const std::string &text, size_t at) {
  for (size_t i = at + 1; i < text.size(); ++i) {
    if (text[i] == '\\')
      ++i;
    else if (text[i] == '"')
      return i + 1;
  }
  return text.size();
}

/// Checks the nesting depth of (possibly invalid) JSON text.
bool checkDepth(const std::string &text, std::string &error) {
  int depth = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"') {
      i = skipString(text, i) - 1;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) {
        error = position(text, i) + ": nesting deeper than " +
                std::to_string(kMaxJsonDepth) + " levels";
        return false;
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

/// Finds an object key written twice in JSON text that llvm::json accepted.
bool checkDuplicateKeys(const std::string &text, std::string &error) {
  struct Frame {
    bool object;
    bool expectKey;
    std::string path; ///< "spec", "grid.shape[]", "" for the top level
    llvm::StringSet<> keys;
  };
  llvm::SmallVector<Frame, 8> stack;
  std::string lastKey;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '{' || c == '[') {
      std::string path;
      if (!stack.empty()) {
        const Frame &top = stack.back();
        path = top.object ? (top.path.empty() ? "" : top.path + ".") + lastKey
                          : top.path + "[]";
      }
      stack.push_back(Frame{c == '{', c == '{', path, {}});
    } else if (c == '}' || c == ']') {
      if (!stack.empty())
        stack.pop_back();
    } else if (c == ',') {
      if (!stack.empty() && stack.back().object)
        stack.back().expectKey = true;
    } else if (c == '"') {
      size_t end = skipString(text, i);
      if (!stack.empty() && stack.back().object && stack.back().expectKey) {
        Frame &top = stack.back();
        top.expectKey = false;
        llvm::Expected<llvm::json::Value> key =
            llvm::json::parse(llvm::StringRef(text).slice(i, end));
        if (!key) { // cannot happen on accepted text; stay strict anyway
          error = position(text, i) + ": " + llvm::toString(key.takeError());
          return false;
        }
        lastKey = key->getAsString().value_or("").str();
        if (!top.keys.insert(lastKey).second) {
          error = position(text, i) + ": duplicate key \"" + lastKey + "\"" +
                  (top.path.empty() ? std::string(" at the top level")
                                    : " in " + top.path);
          return false;
        }
      }
      i = end - 1;
    }
  }
  return true;
}

} // namespace

bool ringrun::parseJson(const std::string &text, llvm::json::Value &out,
                        std::string &error) {
  if (!checkDepth(text, error))
    return false;
  llvm::Expected<llvm::json::Value> v = llvm::json::parse(text);
  if (!v) {
    // llvm::json says "[L:C, byte=N]: what"; keep our "line L, column C".
    std::string msg = llvm::toString(v.takeError());
    unsigned line = 0, column = 0, byte = 0;
    size_t colon = msg.find("]: ");
    if (std::sscanf(msg.c_str(), "[%u:%u, byte=%u]", &line, &column, &byte) ==
            3 &&
        colon != std::string::npos)
      error = "line " + std::to_string(line) + ", column " +
              std::to_string(column) + ": " + msg.substr(colon + 3);
    else
      error = msg;
    return false;
  }
  if (!checkDuplicateKeys(text, error))
    return false;
  out = std::move(*v);
  return true;
}

const char *ringrun::jsonKindName(const llvm::json::Value &v) {
  switch (v.kind()) {
  case llvm::json::Value::Null:
    return "null";
  case llvm::json::Value::Boolean:
    return "boolean";
  case llvm::json::Value::Number:
    return "number";
  case llvm::json::Value::String:
    return "string";
  case llvm::json::Value::Array:
    return "array";
  case llvm::json::Value::Object:
    return "object";
  }
  return "value";
}
