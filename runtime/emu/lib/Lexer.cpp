//===- Lexer.cpp - PTX tokenizer ----------------------------------*- C++ -*-===//
//
// This file implements the PTX tokenizer used by the parser.
//
//===----------------------------------------------------------------------===//

#include "Lexer.h"

#include <cctype>

using namespace ringrt::emu;

static bool isWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' ||
         c == '%' || c == '.';
}

std::vector<Token> ringrt::emu::tokenize(std::string_view text) {
  std::vector<Token> tokens;
  uint32_t line = 1;
  size_t i = 0, n = text.size();
  while (i < n) {
    char c = text[i];
    if (c == '\n') {
      ++line;
      ++i;
      continue;
    }
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    if (c == '/' && i + 1 < n && text[i + 1] == '/') {
      while (i < n && text[i] != '\n')
        ++i;
      continue;
    }
    if (c == '/' && i + 1 < n && text[i + 1] == '*') {
      i += 2;
      while (i + 1 < n && !(text[i] == '*' && text[i + 1] == '/')) {
        if (text[i] == '\n')
          ++line;
        ++i;
      }
      i += 2;
      continue;
    }
    size_t start = i;
    if (c == '"') {
      ++i;
      while (i < n && text[i] != '"' && text[i] != '\n')
        ++i;
      ++i;
      tokens.push_back({Token::String, text.substr(start, i - start), line});
      continue;
    }
    if (isWordChar(c)) {
      while (i < n) {
        if (isWordChar(text[i])) {
          ++i;
        } else if (text[i] == ':' && i + 1 < n && text[i + 1] == ':') {
          i += 2; // qualifiers such as shared::cta stay in one word
        } else {
          break;
        }
      }
      tokens.push_back({Token::Word, text.substr(start, i - start), line});
      continue;
    }
    tokens.push_back({Token::Punct, text.substr(i, 1), line});
    ++i;
  }
  tokens.push_back({Token::End, std::string_view(), line});
  return tokens;
}
