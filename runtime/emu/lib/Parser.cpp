//===- Parser.cpp - PTX module parser -----------------------------*- C++ -*-===//
//
// This file implements Module::parse(): module directives, `.entry`
// signatures, register and shared declarations, scoped blocks, labels and
// instructions. Registers are resolved to dense indices, labels to code
// indices and symbols to addresses, so execution never looks at text.
//
//===----------------------------------------------------------------------===//

#include "Decoder.h"
#include "FloatBits.h"
#include "Instr.h"
#include "Lexer.h"

#include <cstdlib>
#include <unordered_map>

using namespace ringrt::emu;

namespace ringrt::emu {

/// Recursive-descent parser over the token stream of one module.
class Parser {
public:
  Parser(std::string_view text, Module &mod, std::string &error)
      : toks(tokenize(text)), mod(mod), error(error) {}
  bool parseModule();

private:
  struct SharedVar {
    std::string name;
    uint64_t size = 0;
    unsigned align = 1;
    bool dynamic = false;
  };

  const Token &tok() const { return toks[pos]; }
  const Token &next() { return toks[pos++]; }
  bool failAt(const Token &t, const std::string &msg) {
    error = "PTX line " + std::to_string(t.line) + ": " + msg;
    if (t.kind != Token::End)
      error += " (at '" + std::string(t.text) + "')";
    return false;
  }
  bool expect(char c) {
    if (!tok().is(c))
      return failAt(tok(), std::string("expected '") + c + "'");
    ++pos;
    return true;
  }
  void skipLine() {
    uint32_t line = tok().line;
    while (tok().kind != Token::End && tok().line == line)
      ++pos;
  }
  bool parseInt(const Token &t, int64_t &v);
  bool parseNumber(const Token &t, Operand &o);
  bool parseVarDecl(SharedVar &var);
  bool parseEntry();
  bool parseParam(Kernel &k);
  bool parseBody(Kernel &k);
  bool parseRegDecl();
  bool parseInstruction(Kernel &k);
  bool parseOperand(Kernel &k, Operand &o, bool inVector);
  bool lookupSymbol(Kernel &k, std::string_view name, uint32_t &index);
  uint32_t addSharedSymbol(Kernel &k, const SharedVar &var);

  std::vector<Token> toks;
  size_t pos = 0;
  Module &mod;
  std::string &error;
  std::vector<SharedVar> moduleShared;

  // Per-kernel state.
  std::vector<std::unordered_map<std::string, uint32_t>> regScopes;
  std::unordered_map<std::string, uint32_t> symbolIndex;
  std::unordered_map<std::string, uint32_t> labels;
  struct Fixup {
    uint32_t instr;
    std::string label;
    Token at;
    std::vector<uint32_t> scopes; ///< block instances enclosing the branch
  };
  /// Labels are scoped to their `{ }` block (inlined asm repeats names such
  /// as LAB_WAIT): the key is the block instance and the name.
  static std::string labelKey(uint32_t scope, const std::string &name) {
    return std::to_string(scope) + ":" + name;
  }
  std::vector<uint32_t> scopeIds; ///< block instances, outermost first
  uint32_t nextScopeId = 0;
  std::vector<Fixup> fixups;
  uint64_t sharedTop = 0;
  uint32_t regCount = 0;
  Kernel *curKernel = nullptr;
  std::vector<uint32_t> dynamicSyms;
  unsigned dynamicAlign = 16;
  Operand pendingCoords; ///< coordinates of a [tensorMap, {...}] operand
  bool hasCoords = false;
};

} // namespace ringrt::emu

bool Parser::parseInt(const Token &t, int64_t &v) {
  std::string s(t.text);
  if (!s.empty() && (s.back() == 'U' || s.back() == 'u'))
    s.pop_back();
  char *end = nullptr;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
    v = int64_t(std::strtoull(s.c_str() + 2, &end, 16));
  else
    v = int64_t(std::strtoull(s.c_str(), &end, 10));
  if (t.kind != Token::Word || s.empty() || *end != '\0')
    return failAt(t, "expected an integer");
  return true;
}

bool Parser::parseNumber(const Token &t, Operand &o) {
  std::string_view s = t.text;
  o.kind = Operand::Imm;
  if (s.size() == 10 && s[0] == '0' && (s[1] == 'f' || s[1] == 'F')) {
    o.imm = int64_t(std::strtoull(std::string(s.substr(2)).c_str(), nullptr,
                                  16));
    o.count = 2; // f32 bits
    return true;
  }
  if (s.size() == 18 && s[0] == '0' && (s[1] == 'd' || s[1] == 'D')) {
    o.imm = int64_t(std::strtoull(std::string(s.substr(2)).c_str(), nullptr,
                                  16));
    o.count = 1; // f64 bits
    return true;
  }
  if (s.find('.') != std::string_view::npos ||
      (s.find_first_of("eE") != std::string_view::npos &&
       s.find_first_of("xX") == std::string_view::npos)) {
    char *end = nullptr;
    std::string str(s);
    double d = std::strtod(str.c_str(), &end);
    if (*end != '\0')
      return failAt(t, "malformed number");
    o.imm = int64_t(f64ToBits(d));
    o.count = 1;
    return true;
  }
  return parseInt(t, o.imm);
}

bool Parser::parseModule() {
  while (tok().kind != Token::End) {
    const Token &t = tok();
    if (t.is(".target")) {
      // `.target sm_90a[, texmode...]`: the architecture sets the limits of
      // a launch (shared memory per block).
      const Token &arch = toks[pos + 1];
      if (arch.kind == Token::Word && arch.text.rfind("sm_", 0) == 0) {
        mod.target = std::string(arch.text);
        mod.sm = unsigned(std::strtoul(mod.target.c_str() + 3, nullptr, 10));
      }
      skipLine();
      continue;
    }
    if (t.is(".version") || t.is(".address_size") ||
        t.is(".file") || t.is(".loc")) {
      skipLine();
      continue;
    }
    if (t.is(".visible") || t.is(".weak")) {
      ++pos;
      continue;
    }
    bool isExtern = false;
    if (t.is(".extern")) {
      isExtern = true;
      ++pos;
    }
    if (tok().is(".entry")) {
      if (isExtern)
        return failAt(tok(), "unsupported directive '.extern .entry'");
      if (!parseEntry())
        return false;
      continue;
    }
    if (tok().is(".shared")) {
      ++pos;
      SharedVar var;
      if (!parseVarDecl(var))
        return false;
      if (var.dynamic != isExtern)
        return failAt(tok(), isExtern ? "extern .shared must be unsized"
                                      : "unsized .shared must be .extern");
      moduleShared.push_back(var);
      continue;
    }
    if (t.kind == Token::Word && t.text.size() > 1 && t.text[0] == '.')
      return failAt(tok(), "unsupported directive '" +
                               std::string(tok().text) + "'");
    return failAt(tok(), "unexpected token at module level");
  }
  return true;
}

bool Parser::parseVarDecl(SharedVar &var) {
  unsigned elemBytes = 1;
  for (;;) {
    const Token &t = tok();
    if (t.is(".align")) {
      ++pos;
      int64_t a;
      if (!parseInt(next(), a))
        return false;
      var.align = unsigned(a);
      continue;
    }
    if (t.kind == Token::Word && t.text.size() > 1 && t.text[0] == '.') {
      static const std::pair<std::string_view, unsigned> types[] = {
          {".b8", 1},  {".u8", 1},  {".s8", 1},  {".b16", 2}, {".u16", 2},
          {".s16", 2}, {".f16", 2}, {".bf16", 2}, {".b32", 4}, {".u32", 4},
          {".s32", 4}, {".f32", 4}, {".b64", 8}, {".u64", 8}, {".s64", 8},
          {".f64", 8}};
      bool found = false;
      for (auto &ty : types)
        if (t.text == ty.first) {
          elemBytes = ty.second;
          found = true;
        }
      if (!found)
        return failAt(t, "unsupported variable attribute");
      ++pos;
      continue;
    }
    break;
  }
  if (tok().kind != Token::Word)
    return failAt(tok(), "expected a variable name");
  var.name = std::string(next().text);
  var.size = elemBytes;
  if (var.align < elemBytes)
    var.align = elemBytes;
  if (tok().is('[')) {
    ++pos;
    if (tok().is(']')) {
      var.dynamic = true;
      var.size = 0;
    } else {
      int64_t n;
      if (!parseInt(next(), n))
        return false;
      var.size = uint64_t(n) * elemBytes;
    }
    if (!expect(']'))
      return false;
  }
  if (tok().is('='))
    return failAt(tok(), "unsupported: initialized variable '" + var.name +
                             "'");
  return expect(';');
}

uint32_t Parser::addSharedSymbol(Kernel &k, const SharedVar &var) {
  Symbol s;
  s.name = var.name;
  s.space = Space::Shared;
  s.size = var.size;
  if (var.dynamic) {
    if (var.align > dynamicAlign)
      dynamicAlign = var.align;
    dynamicSyms.push_back(uint32_t(k.symbols.size()));
  } else {
    sharedTop = (sharedTop + var.align - 1) / var.align * var.align;
    s.value = sharedTop;
    sharedTop += var.size;
  }
  symbolIndex[var.name] = uint32_t(k.symbols.size());
  k.symbols.push_back(s);
  return uint32_t(k.symbols.size() - 1);
}

bool Parser::lookupSymbol(Kernel &k, std::string_view name, uint32_t &index) {
  std::string key(name);
  auto it = symbolIndex.find(key);
  if (it != symbolIndex.end()) {
    index = it->second;
    return true;
  }
  for (auto &var : moduleShared)
    if (var.name == key) {
      index = addSharedSymbol(k, var);
      return true;
    }
  return false;
}

bool Parser::parseParam(Kernel &k) {
  if (!tok().is(".param"))
    return failAt(tok(), "expected .param");
  ++pos;
  ParamInfo p;
  unsigned elemBytes = 0;
  for (;;) {
    const Token &t = tok();
    if (t.is(".align")) {
      ++pos;
      int64_t a;
      if (!parseInt(next(), a))
        return false;
      p.align = unsigned(a);
      continue;
    }
    if (t.is(".ptr") || t.is(".global") || t.is(".shared") ||
        t.is(".const") || t.is(".local")) {
      ++pos;
      continue;
    }
    if (t.kind == Token::Word && t.text[0] == '.') {
      std::string_view ty = t.text.substr(1);
      if (ty == "b8" || ty == "u8" || ty == "s8")
        elemBytes = 1;
      else if (ty == "b16" || ty == "u16" || ty == "s16" || ty == "f16" ||
               ty == "bf16")
        elemBytes = 2;
      else if (ty == "b32" || ty == "u32" || ty == "s32" || ty == "f32")
        elemBytes = 4;
      else if (ty == "b64" || ty == "u64" || ty == "s64" || ty == "f64")
        elemBytes = 8;
      else
        return failAt(t, "unsupported parameter attribute");
      ++pos;
      continue;
    }
    break;
  }
  if (!elemBytes || tok().kind != Token::Word)
    return failAt(tok(), "malformed parameter");
  p.name = std::string(next().text);
  p.size = elemBytes;
  if (tok().is('[')) {
    ++pos;
    int64_t n;
    if (!parseInt(next(), n) || !expect(']'))
      return false;
    p.size = unsigned(n) * elemBytes;
  }
  if (p.align < elemBytes)
    p.align = elemBytes;
  k.paramBytes = (k.paramBytes + p.align - 1) / p.align * p.align;
  k.paramOffsets.push_back(k.paramBytes);
  Symbol s;
  s.name = p.name;
  s.space = Space::Param;
  s.value = k.paramBytes;
  s.size = p.size;
  symbolIndex[p.name] = uint32_t(k.symbols.size());
  k.symbols.push_back(s);
  k.paramBytes += p.size;
  k.params.push_back(p);
  return true;
}

bool Parser::parseEntry() {
  ++pos; // .entry
  auto k = std::make_unique<Kernel>();
  if (tok().kind != Token::Word)
    return failAt(tok(), "expected kernel name");
  k->name = std::string(next().text);
  curKernel = k.get();
  regScopes.clear();
  regScopes.emplace_back();
  symbolIndex.clear();
  labels.clear();
  fixups.clear();
  scopeIds.assign(1, nextScopeId++);
  dynamicSyms.clear();
  sharedTop = 0;
  regCount = 0;
  dynamicAlign = 16;
  if (tok().is('(')) {
    ++pos;
    while (!tok().is(')')) {
      if (!parseParam(*k))
        return false;
      if (tok().is(','))
        ++pos;
      else if (!tok().is(')'))
        return failAt(tok(), "expected ',' or ')'");
    }
    ++pos;
  }
  // Performance-tuning directives.
  while (!tok().is('{')) {
    const Token &t = tok();
    if (t.is(".maxntid") || t.is(".reqntid")) {
      bool req = t.is(".reqntid");
      ++pos;
      unsigned dims[3] = {1, 1, 1};
      for (unsigned i = 0; i < 3; ++i) {
        int64_t v;
        if (!parseInt(next(), v))
          return false;
        dims[i] = unsigned(v);
        if (!tok().is(','))
          break;
        ++pos;
      }
      if (req)
        k->reqntid = Dim3{dims[0], dims[1], dims[2]};
      else
        k->maxntid = dims[0] * dims[1] * dims[2];
      continue;
    }
    if (t.is(".maxnreg")) {
      ++pos;
      int64_t v;
      if (!parseInt(next(), v))
        return false;
      k->maxnreg = unsigned(v);
      continue;
    }
    if (t.is(".minnctapersm") || t.is(".maxclusterrank")) {
      pos += 2;
      continue;
    }
    if (t.is(".noreturn")) {
      ++pos;
      continue;
    }
    if (t.is(".pragma")) {
      while (!tok().is(';') && tok().kind != Token::End)
        ++pos;
      ++pos;
      continue;
    }
    return failAt(t, "unsupported kernel directive");
  }
  ++pos; // {
  if (!parseBody(*k))
    return false;
  for (auto &f : fixups) {
    auto it = labels.end();
    for (auto sc = f.scopes.rbegin(); sc != f.scopes.rend() &&
                                      it == labels.end();
         ++sc)
      it = labels.find(labelKey(*sc, f.label));
    if (it == labels.end())
      return failAt(f.at, "undefined label '" + f.label + "'");
    k->code[f.instr].ops[0].index = it->second;
  }
  uint64_t dyn = (sharedTop + dynamicAlign - 1) / dynamicAlign * dynamicAlign;
  for (uint32_t s : dynamicSyms)
    k->symbols[s].value = dyn;
  k->staticShared = unsigned(sharedTop);
  k->numRegs = regCount;
  k->dynSharedOffset = unsigned(dyn);
  mod.kernels.push_back(std::move(k));
  return true;
}

bool Parser::parseRegDecl() {
  ++pos; // .reg
  const Token &ty = next();
  if (ty.kind != Token::Word || ty.text.empty() || ty.text[0] != '.')
    return failAt(ty, "expected register type");
  const bool isPred = ty.text == ".pred";
  for (;;) {
    const Token &name = next();
    // Register names usually start with %, but PTX identifiers need not
    // (inlined asm declares `.reg .pred P1;`).
    if (name.kind != Token::Word || name.text[0] == '.' ||
        (name.text[0] >= '0' && name.text[0] <= '9'))
      return failAt(name, "expected register name");
    auto &scope = regScopes.back();
    if (tok().is('<')) {
      ++pos;
      int64_t n;
      if (!parseInt(next(), n) || !expect('>'))
        return false;
      for (int64_t i = 0; i < n; ++i) {
        scope[std::string(name.text) + std::to_string(i)] =
            uint32_t(regCount++);
        curKernel->isPredReg.push_back(isPred);
        curKernel->regNames.push_back(std::string(name.text) +
                                      std::to_string(i));
      }
    } else {
      scope[std::string(name.text)] = uint32_t(regCount++);
      curKernel->isPredReg.push_back(isPred);
      curKernel->regNames.push_back(std::string(name.text));
    }
    if (tok().is(',')) {
      ++pos;
      continue;
    }
    return expect(';');
  }
}

bool Parser::parseBody(Kernel &k) {
  for (;;) {
    const Token &t = tok();
    if (t.kind == Token::End)
      return failAt(t, "unterminated kernel body");
    if (t.is('{')) {
      ++pos;
      regScopes.emplace_back();
      scopeIds.push_back(nextScopeId++);
      continue;
    }
    if (t.is('}')) {
      ++pos;
      if (regScopes.size() == 1)
        return true;
      regScopes.pop_back();
      scopeIds.pop_back();
      continue;
    }
    if (t.is(".reg")) {
      if (!parseRegDecl())
        return false;
      continue;
    }
    if (t.is(".shared")) {
      ++pos;
      SharedVar var;
      if (!parseVarDecl(var))
        return false;
      if (var.dynamic)
        return failAt(t, "unsized .shared inside a kernel");
      addSharedSymbol(k, var);
      continue;
    }
    if (t.is(".loc") || t.is(".file")) {
      skipLine();
      continue;
    }
    if (t.is(".pragma")) {
      while (!tok().is(';') && tok().kind != Token::End)
        ++pos;
      ++pos;
      continue;
    }
    if (t.kind == Token::Word && t.text[0] == '.')
      return failAt(t, "unsupported directive '" + std::string(t.text) + "'");
    if (t.kind == Token::Word && toks[pos + 1].is(':')) {
      labels[labelKey(scopeIds.back(), std::string(t.text))] =
          uint32_t(k.code.size());
      pos += 2;
      continue;
    }
    if (!parseInstruction(k))
      return false;
  }
}

static bool specialReg(std::string_view name, SpecialReg &r) {
  static const std::pair<std::string_view, SpecialReg> names[] = {
      {"%tid.x", SpecialReg::TidX},         {"%tid.y", SpecialReg::TidY},
      {"%tid.z", SpecialReg::TidZ},         {"%ntid.x", SpecialReg::NtidX},
      {"%ntid.y", SpecialReg::NtidY},       {"%ntid.z", SpecialReg::NtidZ},
      {"%ctaid.x", SpecialReg::CtaidX},     {"%ctaid.y", SpecialReg::CtaidY},
      {"%ctaid.z", SpecialReg::CtaidZ},     {"%nctaid.x", SpecialReg::NctaidX},
      {"%nctaid.y", SpecialReg::NctaidY},   {"%nctaid.z", SpecialReg::NctaidZ},
      {"%laneid", SpecialReg::LaneId},      {"%warpid", SpecialReg::WarpId},
      {"%nwarpid", SpecialReg::NWarpId},    {"%clock", SpecialReg::Clock},
      {"%clock64", SpecialReg::Clock64},
      {"%lanemask_eq", SpecialReg::LanemaskEq},
      {"%lanemask_lt", SpecialReg::LanemaskLt},
      {"%lanemask_le", SpecialReg::LanemaskLe},
      {"%lanemask_gt", SpecialReg::LanemaskGt},
      {"%lanemask_ge", SpecialReg::LanemaskGe},
      {"%dynamic_smem_size", SpecialReg::DynamicSmemSize},
      {"%cluster_ctarank", SpecialReg::ClusterCtaRank},
      {"%cluster_nctarank", SpecialReg::ClusterNCtaRank},
      {"%cluster_ctaid.x", SpecialReg::ClusterCtaRank},
      {"%cluster_ctaid.y", SpecialReg::ClusterCtaRank},
      {"%cluster_ctaid.z", SpecialReg::ClusterCtaRank},
      {"%cluster_nctaid.x", SpecialReg::ClusterNCtaRank},
      {"%cluster_nctaid.y", SpecialReg::ClusterNCtaRank},
      {"%cluster_nctaid.z", SpecialReg::ClusterNCtaRank},
      {"%total_smem_size", SpecialReg::TotalSmemSize}};
  for (auto &n : names)
    if (n.first == name) {
      r = n.second;
      return true;
    }
  return false;
}

bool Parser::parseOperand(Kernel &k, Operand &o, bool inVector) {
  const Token &t = tok();
  auto lookupReg = [&](const Token &r, uint32_t &idx) {
    for (auto it = regScopes.rbegin(); it != regScopes.rend(); ++it) {
      auto f = it->find(std::string(r.text));
      if (f != it->end()) {
        idx = f->second;
        return true;
      }
    }
    return false;
  };
  // The `|%p` predicate of a `%d|%p` or `_|%p` destination.
  auto parsePred2 = [&](Operand &dst) {
    if (!tok().is('|'))
      return true;
    ++pos;
    uint32_t p;
    if (!lookupReg(tok(), p))
      return failAt(tok(), "unknown predicate register");
    ++pos;
    dst.pred2 = p + 1;
    return true;
  };
  if (t.is('[')) {
    ++pos;
    const Token &b = next();
    if (b.kind != Token::Word)
      return failAt(b, "malformed address");
    if (b.text[0] == '%') {
      o.kind = Operand::Reg;
      if (!lookupReg(b, o.index))
        return failAt(b, "unknown register");
    } else if (b.text[0] >= '0' && b.text[0] <= '9') {
      o.kind = Operand::Imm;
      if (!parseInt(b, o.imm))
        return false;
    } else {
      o.kind = Operand::Symbol;
      if (!lookupSymbol(k, b.text, o.index))
        return failAt(b, "unknown symbol");
    }
    while (tok().is('+') || tok().is('-')) {
      int64_t sign = 1;
      while (tok().is('+') || tok().is('-'))
        if (next().is('-'))
          sign = -sign;
      int64_t v;
      if (!parseInt(next(), v))
        return false;
      o.imm += sign * v;
    }
    o.isAddr = true;
    if (tok().is(',') && !inVector) {
      // A tensor operand [tensorMap, {c0, ...}]: the coordinates become the
      // next operand of the instruction.
      ++pos;
      if (!tok().is('{'))
        return failAt(tok(), "expected '{' with tensor coordinates");
      pendingCoords = Operand();
      if (!parseOperand(k, pendingCoords, false))
        return false;
      hasCoords = true;
    }
    return expect(']');
  }
  if (t.is('{') && !inVector) {
    ++pos;
    o.kind = Operand::Vector;
    std::vector<Operand> elems;
    while (!tok().is('}')) {
      Operand e;
      if (!parseOperand(k, e, true))
        return false;
      elems.push_back(e);
      if (tok().is(','))
        ++pos;
      else if (!tok().is('}'))
        return failAt(tok(), "expected ',' or '}'");
    }
    ++pos;
    o.index = uint32_t(k.vecPool.size());
    o.count = uint32_t(elems.size());
    k.vecPool.insert(k.vecPool.end(), elems.begin(), elems.end());
    return true;
  }
  if (t.is('!')) {
    ++pos;
    if (!parseOperand(k, o, inVector))
      return false;
    if (o.kind != Operand::Reg)
      return failAt(t, "'!' applies to a predicate register");
    o.negated = true;
    return true;
  }
  if (t.is('-')) {
    ++pos;
    if (!parseNumber(next(), o))
      return false;
    if (o.count == 2)
      o.imm ^= int64_t(0x80000000u);
    else if (o.count == 1)
      o.imm ^= int64_t(0x8000000000000000ull);
    else
      o.imm = -o.imm;
    return true;
  }
  if (t.kind != Token::Word)
    return failAt(t, "unexpected operand");
  ++pos;
  if (t.text[0] == '%') {
    SpecialReg sr;
    if (lookupReg(t, o.index)) {
      o.kind = Operand::Reg;
    } else if (specialReg(t.text, sr)) {
      o.kind = Operand::Special;
      o.special = uint8_t(sr);
    } else {
      return failAt(t, "unknown register");
    }
    if (!parsePred2(o))
      return false;
    return true;
  }
  if (t.text[0] >= '0' && t.text[0] <= '9')
    return parseNumber(t, o);
  if (lookupReg(t, o.index)) { // a register named without %
    o.kind = Operand::Reg;
    return parsePred2(o);
  }
  if (t.text == "_") {
    o.kind = Operand::Sink;
    return parsePred2(o); // `_|%p`: only the predicate result is kept
  }
  if (lookupSymbol(k, t.text, o.index)) {
    o.kind = Operand::Symbol;
    return true;
  }
  o.kind = Operand::Label; // resolved by the caller
  return true;
}

bool Parser::parseInstruction(Kernel &k) {
  Instr I;
  const Token start = tok();
  I.line = start.line;
  if (tok().is('@')) {
    ++pos;
    if (tok().is('!')) {
      I.guardNeg = true;
      ++pos;
    }
    Operand g;
    if (!parseOperand(k, g, false))
      return false;
    if (g.kind != Operand::Reg)
      return failAt(start, "guard must be a predicate register");
    I.guard = int32_t(g.index);
  }
  const Token mnem = next();
  if (mnem.kind != Token::Word)
    return failAt(mnem, "expected an instruction");
  std::string why;
  if (!decodeMnemonic(mnem.text, I, why))
    return failAt(mnem, why);
  std::vector<Token> labelToks;
  while (!tok().is(';')) {
    if (I.numOps == 8)
      return failAt(tok(), "too many operands");
    const Token opTok = tok();
    Operand &o = I.ops[I.numOps++];
    if (!parseOperand(k, o, false))
      return false;
    if (hasCoords) {
      hasCoords = false;
      if (I.numOps == 8)
        return failAt(tok(), "too many operands");
      I.ops[I.numOps++] = pendingCoords;
    }
    if (o.kind == Operand::Label) {
      if (I.op != Opcode::Bra)
        return failAt(opTok, "unknown symbol");
      fixups.push_back({uint32_t(k.code.size()), std::string(opTok.text),
                        opTok, scopeIds});
    }
    if (tok().is(','))
      ++pos;
    else if (!tok().is(';'))
      return failAt(tok(), "expected ',' or ';'");
  }
  ++pos;
  if (!finishOperands(I, k, why))
    return failAt(mnem, "'" + std::string(mnem.text) + "': " + why);
  k.code.push_back(I);
  k.text.emplace_back(mnem.text);
  return true;
}

//===----------------------------------------------------------------------===//
// Module
//===----------------------------------------------------------------------===//

Module::Module() = default;
Module::~Module() = default;

std::unique_ptr<Module> Module::parse(std::string_view ptxText,
                                      std::string &error) {
  std::unique_ptr<Module> mod(new Module());
  Parser parser(ptxText, *mod, error);
  if (!parser.parseModule())
    return nullptr;
  return mod;
}

const Kernel *Module::findKernel(std::string_view name) const {
  for (auto &k : kernels)
    if (k->name == name)
      return k.get();
  return nullptr;
}

bool Module::hasKernel(std::string_view name) const {
  return findKernel(name) != nullptr;
}

const std::vector<ParamInfo> *
Module::kernelParams(std::string_view name) const {
  const Kernel *k = findKernel(name);
  return k ? &k->params : nullptr;
}

unsigned Module::staticSharedBytes(std::string_view name) const {
  const Kernel *k = findKernel(name);
  return k ? k->staticShared : 0;
}

unsigned Module::smVersion() const { return sm; }
const std::string &Module::targetName() const { return target; }

std::vector<std::string> Module::kernelNames() const {
  std::vector<std::string> names;
  for (auto &k : kernels)
    names.push_back(k->name);
  return names;
}
