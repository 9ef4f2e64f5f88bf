//===- Lexer.h - PTX tokenizer --------------------------------------*- C++ -*-===//
//
// This file declares the PTX tokenizer: words (identifiers, registers,
// directives, mnemonics, numbers), strings and punctuation, each with its
// source line. Comments are dropped.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRT_EMU_LIB_LEXER_H
#define RINGRT_EMU_LIB_LEXER_H

#include <cstdint>
#include <string_view>
#include <vector>

namespace ringrt::emu {

struct Token {
  enum Kind : uint8_t { Word, String, Punct, End };
  Kind kind = End;
  std::string_view text;
  uint32_t line = 0;

  bool is(char c) const {
    return kind == Punct && text.size() == 1 && text[0] == c;
  }
  bool is(std::string_view word) const { return kind == Word && text == word; }
};

/// Splits `text` into tokens; the last token has kind End. A word is a run of
/// [A-Za-z0-9_$%.]; every other non-blank character is a one-char Punct.
std::vector<Token> tokenize(std::string_view text);

} // namespace ringrt::emu

#endif // RINGRT_EMU_LIB_LEXER_H
