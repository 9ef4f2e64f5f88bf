//===- Decoder.cpp - PTX mnemonic decoding ------------------------*- C++ -*-===//
//
// This file implements decodeMnemonic() and finishOperands(): every
// modifier of a mnemonic must be understood, or the instruction is rejected
// with a message naming it, so nothing is ever silently ignored.
//
//===----------------------------------------------------------------------===//

#include "Decoder.h"
#include "FloatBits.h"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <vector>

using namespace ringrt::emu;

unsigned ringrt::emu::typeBytes(DType t) {
  switch (t) {
  case DType::Pred: case DType::B8: case DType::U8: case DType::S8:
    return 1;
  case DType::B16: case DType::U16: case DType::S16: case DType::F16:
  case DType::BF16:
    return 2;
  case DType::B32: case DType::U32: case DType::S32: case DType::F32:
  case DType::F16x2: case DType::BF16x2:
    return 4;
  case DType::B64: case DType::U64: case DType::S64: case DType::F64:
    return 8;
  case DType::None:
    return 0;
  }
  return 0;
}

bool ringrt::emu::isSigned(DType t) {
  return t == DType::S8 || t == DType::S16 || t == DType::S32 ||
         t == DType::S64;
}

bool ringrt::emu::isFloat(DType t) {
  return t == DType::F16 || t == DType::F16x2 || t == DType::BF16 ||
         t == DType::BF16x2 || t == DType::F32 || t == DType::F64;
}

const char *ringrt::emu::spaceName(Space s) {
  switch (s) {
  case Space::Generic: return "generic";
  case Space::Global: return "global";
  case Space::Shared: return "shared";
  case Space::Param: return "param";
  case Space::Local: return "local";
  case Space::Const: return "const";
  }
  return "?";
}

namespace {
/// The modifiers of a mnemonic, consumed as they are recognized.
class Mods {
public:
  explicit Mods(std::string_view m) {
    size_t start = 0;
    while (start <= m.size()) {
      size_t dot = m.find('.', start);
      if (dot == std::string_view::npos)
        dot = m.size();
      parts.push_back(m.substr(start, dot - start));
      start = dot + 1;
    }
  }
  std::string_view base() const { return parts[0]; }
  bool take(std::string_view w) {
    auto it = std::find(parts.begin() + 1, parts.end(), w);
    if (it == parts.end())
      return false;
    parts.erase(it);
    return true;
  }
  /// Takes the first remaining modifier that is a type name.
  std::optional<DType> takeType() {
    static const std::pair<std::string_view, DType> names[] = {
        {"pred", DType::Pred}, {"b8", DType::B8},     {"b16", DType::B16},
        {"b32", DType::B32},   {"b64", DType::B64},   {"u8", DType::U8},
        {"u16", DType::U16},   {"u32", DType::U32},   {"u64", DType::U64},
        {"s8", DType::S8},     {"s16", DType::S16},   {"s32", DType::S32},
        {"s64", DType::S64},   {"f16", DType::F16},   {"f16x2", DType::F16x2},
        {"bf16", DType::BF16}, {"bf16x2", DType::BF16x2},
        {"f32", DType::F32},   {"f64", DType::F64}};
    for (size_t i = 1; i < parts.size(); ++i)
      for (auto &n : names)
        if (parts[i] == n.first) {
          parts.erase(parts.begin() + i);
          return n.second;
        }
    return std::nullopt;
  }
  std::optional<Space> takeSpace() {
    static const std::pair<std::string_view, Space> names[] = {
        {"global", Space::Global}, {"shared", Space::Shared},
        {"shared::cta", Space::Shared}, {"param", Space::Param},
        {"param::entry", Space::Param}, {"local", Space::Local},
        {"const", Space::Const}};
    for (size_t i = 1; i < parts.size(); ++i)
      for (auto &n : names)
        if (parts[i] == n.first) {
          parts.erase(parts.begin() + i);
          return n.second;
        }
    return std::nullopt;
  }
  Round takeRound() {
    static const std::pair<std::string_view, Round> names[] = {
        {"rn", Round::Rn},   {"rz", Round::Rz},   {"rm", Round::Rm},
        {"rp", Round::Rp},   {"rni", Round::Rni}, {"rzi", Round::Rzi},
        {"rmi", Round::Rmi}, {"rpi", Round::Rpi}};
    for (auto &n : names)
      if (take(n.first))
        return n.second;
    return Round::None;
  }
  /// Drops cache and eviction hints, which do not change results.
  void dropHints() {
    parts.erase(std::remove_if(parts.begin() + 1, parts.end(),
                               [](std::string_view p) {
                                 return p.rfind("L1::", 0) == 0 ||
                                        p.rfind("L2::", 0) == 0;
                               }),
                parts.end());
  }
  /// Position of modifier `w` (0 when absent), for order-sensitive forms.
  size_t position(std::string_view w) const {
    auto it = std::find(parts.begin() + 1, parts.end(), w);
    return it == parts.end() ? 0 : size_t(it - parts.begin());
  }
  bool empty() const { return parts.size() == 1; }
  std::string_view first() const { return parts[1]; }

private:
  std::vector<std::string_view> parts;
};
} // namespace

static bool fail(std::string &error, std::string_view mnemonic,
                 std::string_view why) {
  error = "unsupported instruction '" + std::string(mnemonic) + "'";
  if (!why.empty())
    error += ": " + std::string(why);
  return false;
}

/// Reads the mandatory type modifier.
static bool needType(Mods &m, Instr &I, std::string &error,
                     std::string_view mnem) {
  auto t = m.takeType();
  if (!t)
    return fail(error, mnem, "missing type");
  I.type = *t;
  return true;
}

static bool decodeArith(Mods &m, Instr &I, std::string &error,
                        std::string_view mnem) {
  std::string_view b = m.base();
  static const std::pair<std::string_view, Opcode> ops[] = {
      {"add", Opcode::Add},     {"sub", Opcode::Sub},   {"mul", Opcode::Mul},
      {"mad", Opcode::Mad},     {"fma", Opcode::Fma},   {"div", Opcode::Div},
      {"rem", Opcode::Rem},     {"min", Opcode::Min},   {"max", Opcode::Max},
      {"neg", Opcode::Neg},     {"abs", Opcode::Abs},   {"rcp", Opcode::Rcp},
      {"sqrt", Opcode::Sqrt},   {"rsqrt", Opcode::Rsqrt}, {"ex2", Opcode::Ex2},
      {"lg2", Opcode::Lg2},     {"sin", Opcode::Sin},   {"cos", Opcode::Cos},
      {"copysign", Opcode::Copysign}, {"and", Opcode::And},
      {"or", Opcode::Or},       {"xor", Opcode::Xor},   {"not", Opcode::Not},
      {"shl", Opcode::Shl},     {"shr", Opcode::Shr},   {"popc", Opcode::Popc},
      {"clz", Opcode::Clz},     {"brev", Opcode::Brev}, {"prmt", Opcode::Prmt},
      {"bfe", Opcode::Bfe},     {"selp", Opcode::Selp}};
  auto it = std::find_if(std::begin(ops), std::end(ops),
                         [&](auto &p) { return p.first == b; });
  if (it == std::end(ops))
    return fail(error, mnem, "");
  I.op = it->second;
  if (I.op == Opcode::Mul || I.op == Opcode::Mad) {
    if (m.take("wide"))
      I.flags |= FlagWide;
    else if (m.take("hi"))
      I.flags |= FlagHi;
    else
      m.take("lo");
  }
  if (m.take("ftz"))
    I.flags |= FlagFtz;
  if (m.take("sat"))
    I.flags |= FlagSat;
  if (m.take("approx"))
    I.flags |= FlagApprox;
  if (m.take("NaN"))
    I.flags |= FlagNaN;
  m.take("full");
  I.round = m.takeRound();
  if (I.op == Opcode::Prmt && !m.take("b32"))
    return fail(error, mnem, "only the default prmt mode is supported");
  if (I.op == Opcode::Prmt)
    I.type = DType::B32;
  else if (!needType(m, I, error, mnem))
    return false;
  if (m.take("ftz"))
    I.flags |= FlagFtz;
  if (I.round != Round::None && I.round != Round::Rn)
    return fail(error, mnem, "only .rn rounding is supported for arithmetic");
  if (I.op == Opcode::Mad && isFloat(I.type))
    I.op = Opcode::Fma;
  // Floating-point types other than f32/f64 are not implemented for
  // arithmetic (packed f16x2/bf16x2 math in particular).
  if (isFloat(I.type) && I.type != DType::F32 && I.type != DType::F64 &&
      I.op != Opcode::Selp && I.op != Opcode::Neg && I.op != Opcode::Abs)
    return fail(error, mnem, "arithmetic on this type is not implemented");
  if ((I.flags & FlagSat) && !(isFloat(I.type) || I.type == DType::S32))
    return fail(error, mnem, ".sat on this type");
  if ((I.flags & FlagSat) && I.type == DType::S32 &&
      I.op != Opcode::Add && I.op != Opcode::Sub)
    return fail(error, mnem, ".sat on this type");
  return true;
}

/// The shape of ldmatrix/stmatrix: .sync.aligned.m8n8.x{1,2,4}{.trans}
/// {.shared}.b16.
static bool decodeMatrixShape(Mods &m, Instr &I, std::string &error,
                              std::string_view mnem) {
  if (!m.take("sync") || !m.take("aligned") || !m.take("m8n8"))
    return fail(error, mnem, "expected .sync.aligned.m8n8");
  I.mode = m.take("x1") ? 1 : m.take("x2") ? 2 : m.take("x4") ? 4 : 0;
  if (!I.mode)
    return fail(error, mnem, "expected .x1, .x2 or .x4");
  if (m.take("trans"))
    I.flags |= FlagTrans;
  I.space = Space::Generic;
  if (auto sp = m.takeSpace()) {
    if (*sp != Space::Shared)
      return fail(error, mnem, "");
    I.space = Space::Shared;
  }
  if (!m.take("b16"))
    return fail(error, mnem, "expected .b16");
  return true;
}

static bool decodeCmp(Mods &m, Instr &I) {
  static const std::pair<std::string_view, CmpOp> names[] = {
      {"eq", CmpOp::Eq},   {"ne", CmpOp::Ne},   {"lt", CmpOp::Lt},
      {"le", CmpOp::Le},   {"gt", CmpOp::Gt},   {"ge", CmpOp::Ge},
      {"lo", CmpOp::Lo},   {"ls", CmpOp::Ls},   {"hi", CmpOp::Hi},
      {"hs", CmpOp::Hs},   {"equ", CmpOp::Equ}, {"neu", CmpOp::Neu},
      {"ltu", CmpOp::Ltu}, {"leu", CmpOp::Leu}, {"gtu", CmpOp::Gtu},
      {"geu", CmpOp::Geu}, {"num", CmpOp::Num}, {"nan", CmpOp::Nan}};
  for (auto &n : names)
    if (m.take(n.first)) {
      I.cmp = n.second;
      return true;
    }
  return false;
}

bool ringrt::emu::decodeMnemonic(std::string_view mnem, Instr &I,
                                 std::string &error) {
  Mods m(mnem);
  std::string_view b = m.base();
  m.dropHints();
  const bool isCpAsync = b == "cp" && m.take("async");
  if (b == "bra") {
    I.op = Opcode::Bra;
    m.take("uni");
  } else if (b == "ret") {
    I.op = Opcode::Ret;
  } else if (b == "exit") {
    I.op = Opcode::Exit;
  } else if (b == "bar" || b == "barrier") {
    m.take("cta");
    if (m.take("warp")) {
      if (!m.take("sync"))
        return fail(error, mnem, "");
      I.op = Opcode::Nop; // lanes of a warp execute in lockstep
    } else {
      I.op = Opcode::Bar;
      if (m.take("arrive"))
        I.flags |= FlagArriveOnly;
      else if (!m.take("sync"))
        return fail(error, mnem,
                    "only bar/barrier .sync and .arrive are supported");
      // bar.sync is barrier.sync.aligned (PTX ISA).
      if (m.take("aligned") || b == "bar")
        I.flags |= FlagAligned;
    }
  } else if (b == "fence" && m.take("proxy")) {
    if (m.take("async")) {
      // Orders this thread's generic-proxy accesses before later
      // async-proxy ones (wgmma operands, TMA): tracked for the proxy check.
      I.op = Opcode::FenceProxyAsync;
      for (auto w : {"shared::cta", "shared::cluster", "global", "shared"})
        m.take(w);
    } else if (m.take("alias")) {
      I.op = Opcode::Nop;
    } else {
      return fail(error, mnem, "only fence.proxy.async and .alias");
    }
  } else if (b == "fence" && m.take("mbarrier_init")) {
    // Releases this thread's earlier mbarrier.init, also to the async
    // proxy (TMA complete_tx): tracked like fence.proxy.async for mbarriers.
    I.op = Opcode::FenceProxyAsync;
    I.flags |= FlagMbarrierInit;
    m.take("release");
    m.take("cluster");
  } else if (b == "membar" || b == "fence") {
    // Execution is sequentially consistent; other fences order nothing
    // further (the race checker's edges come from barriers and mbarriers).
    for (auto w : {"gl", "cta", "sys", "gpu", "sc", "acq_rel", "release",
                   "acquire", "shared::cta", "global", "cluster"})
      m.take(w);
    I.op = Opcode::Nop;
  } else if (b == "mbarrier") {
    I.op = Opcode::Mbarrier;
    static const std::pair<std::string_view, MbarOp> subs[] = {
        {"init", MbarOp::Init},           {"arrive_drop", MbarOp::ArriveDrop},
        {"arrive", MbarOp::Arrive},       {"expect_tx", MbarOp::ExpectTx},
        {"complete_tx", MbarOp::CompleteTx}, {"test_wait", MbarOp::TestWait},
        {"try_wait", MbarOp::TryWait},    {"inval", MbarOp::Inval}};
    bool found = false;
    for (auto &sub : subs)
      if (m.take(sub.first)) {
        I.mode = uint8_t(sub.second);
        found = true;
        break;
      }
    if (!found)
      return fail(error, mnem, "unknown mbarrier operation");
    MbarOp op = MbarOp(I.mode);
    if ((op == MbarOp::Arrive || op == MbarOp::ArriveDrop) &&
        m.take("expect_tx"))
      I.flags |= FlagExpectTx;
    if ((op == MbarOp::TestWait || op == MbarOp::TryWait) && m.take("parity"))
      I.flags |= FlagParity;
    // Launches are clusters of one CTA, where .cluster scope is .cta.
    for (auto w : {"release", "acquire", "relaxed", "cta", "cluster"})
      m.take(w);
    I.space = Space::Generic;
    if (m.take("shared::cluster"))
      I.space = Space::Shared;
    else if (auto sp = m.takeSpace()) {
      if (*sp != Space::Shared)
        return fail(error, mnem, "an mbarrier lives in shared memory");
      I.space = Space::Shared;
    }
    if (!m.take("b64"))
      return fail(error, mnem, "expected .b64");
    I.type = DType::B64;
  } else if (b == "prefetch" || b == "prefetchu") {
    // Cache hints (prefetch{.space}{.level}, prefetch.tensormap) change no
    // result.
    I.op = Opcode::Nop;
    for (auto w : {"global", "local", "L1", "L2", "tensormap", "param",
                   "const", "L2::evict_last", "L2::evict_normal"})
      m.take(w);
  } else if (b == "elect") {
    I.op = Opcode::Elect;
    if (!m.take("sync"))
      return fail(error, mnem, "expected elect.sync");
    I.type = DType::B32;
  } else if (b == "setmaxnreg") {
    I.op = Opcode::Setmaxnreg;
    if (m.take("inc"))
      I.flags |= FlagInc;
    else if (!m.take("dec"))
      return fail(error, mnem, "expected .inc or .dec");
    if (!m.take("sync") || !m.take("aligned") || !m.take("u32"))
      return fail(error, mnem, "expected .sync.aligned.u32");
  } else if (b == "wgmma") {
    if (m.take("fence"))
      I.op = Opcode::WgmmaFence;
    else if (m.take("commit_group"))
      I.op = Opcode::WgmmaCommit;
    else if (m.take("wait_group"))
      I.op = Opcode::WgmmaWait;
    else if (m.take("mma_async"))
      I.op = Opcode::Wgmma;
    else
      return fail(error, mnem, "");
    if (!m.take("sync") || !m.take("aligned"))
      return fail(error, mnem, "expected .sync.aligned");
    if (I.op == Opcode::Wgmma) {
      if (m.empty())
        return fail(error, mnem, "missing shape");
      std::string shape(m.first());
      unsigned n = 0;
      if (shape.size() < 7 || shape.rfind("m64n", 0) != 0 ||
          shape.substr(shape.size() - 3) != "k16" ||
          (n = unsigned(std::atoi(shape.c_str() + 4))) == 0 || n % 8 ||
          n > 256)
        return fail(error, mnem, "only shapes m64nNk16 with N = 8..256 in "
                                 "steps of 8 are supported");
      m.take(shape);
      I.n = uint16_t(n);
      auto d = m.takeType(), a = m.takeType(), bt = m.takeType();
      if (!d || !a || !bt || *d != DType::F32 || *a != *bt ||
          (*a != DType::BF16 && *a != DType::F16))
        return fail(error, mnem, "only .f32.bf16.bf16 and .f32.f16.f16");
      I.type = DType::F32;
      I.srcType = *a;
    }
  } else if (b == "ldmatrix" || b == "stmatrix") {
    I.op = b == "ldmatrix" ? Opcode::Ldmatrix : Opcode::Stmatrix;
    if (!decodeMatrixShape(m, I, error, mnem))
      return false;
  } else if (b == "mov") {
    I.op = Opcode::Mov;
    if (!needType(m, I, error, mnem))
      return false;
  } else if (b == "ld" || b == "st") {
    I.op = b == "ld" ? Opcode::Ld : Opcode::St;
    if (auto s = m.takeSpace())
      I.space = *s;
    for (auto w : {"nc", "ca", "cg", "cs", "lu", "cv", "wb", "wt", "volatile",
                   "weak"})
      m.take(w);
    if (m.take("v2"))
      I.vec = 2;
    else if (m.take("v4"))
      I.vec = 4;
    else if (m.take("v8"))
      I.vec = 8;
    if (!needType(m, I, error, mnem))
      return false;
    if (I.space == Space::Local || I.space == Space::Const)
      return fail(error, mnem, "state space not supported");
  } else if (b == "cvta") {
    I.op = m.take("to") ? Opcode::CvtaTo : Opcode::Cvta;
    auto s = m.takeSpace();
    if (!s || (*s != Space::Global && *s != Space::Shared &&
               (*s != Space::Param || I.op != Opcode::Cvta)))
      return fail(error, mnem,
                  "only global, shared and (to generic) param cvta are "
                  "supported");
    I.space = *s;
    if (!needType(m, I, error, mnem))
      return false;
  } else if (isCpAsync && m.take("bulk")) {
    if (m.take("commit_group")) {
      I.op = Opcode::BulkCommit;
    } else if (m.take("wait_group")) {
      I.op = Opcode::BulkWait;
      m.take("read");
    } else if (m.take("tensor")) {
      for (unsigned r = 1; r <= 5; ++r)
        if (m.take(std::to_string(r) + "d"))
          I.mode = uint8_t(r);
      if (!I.mode)
        return fail(error, mnem, "expected a rank .1d .. .5d");
      if (!m.take("tile"))
        m.take("tile"); // .tile is the default load mode
      // .global.shared::cta is a store, .shared::X.global a load.
      size_t g = m.position("global");
      if (g && g < m.position("shared::cta")) {
        m.take("global");
        I.op = Opcode::TmaStore;
        if (!m.take("shared::cta") || !m.take("bulk_group"))
          return fail(error, mnem, "expected .global.shared::cta.bulk_group");
      } else {
        I.op = Opcode::TmaLoad;
        if (!m.take("shared::cluster") && !m.take("shared::cta"))
          return fail(error, mnem, "expected .shared::cluster.global");
        if (!m.take("global") || !m.take("mbarrier::complete_tx::bytes"))
          return fail(error, mnem,
                      "expected .global.mbarrier::complete_tx::bytes");
        if (m.take("multicast::cluster"))
          return fail(error, mnem, "multicast is not supported");
      }
    } else {
      return fail(error, mnem, "only cp.async.bulk.tensor and its groups");
    }
  } else if (b == "cp") {
    if (!isCpAsync)
      return fail(error, mnem, "");
    if (m.take("commit_group")) {
      I.op = Opcode::CpAsyncCommit;
    } else if (m.take("wait_group")) {
      I.op = Opcode::CpAsyncWait;
    } else if (m.take("wait_all")) {
      I.op = Opcode::CpAsyncWait;
      I.flags |= FlagAll;
    } else {
      I.op = Opcode::CpAsync;
      if (!m.take("ca") && !m.take("cg"))
        return fail(error, mnem, "expected .ca or .cg");
      auto d = m.takeSpace(), s = m.takeSpace();
      if (!d || !s || *d != Space::Shared || *s != Space::Global)
        return fail(error, mnem, "expected .shared.global");
      I.space = *d;
      I.space2 = *s;
    }
  } else if (b == "mma") {
    I.op = Opcode::Mma;
    if (!m.take("sync") || !m.take("aligned") || !m.take("m16n8k16") ||
        !m.take("row") || !m.take("col"))
      return fail(error, mnem, "only mma.sync.aligned.m16n8k16.row.col");
    auto d = m.takeType(), a = m.takeType(), bt = m.takeType(),
         c = m.takeType();
    if (!d || !a || !bt || !c || *d != DType::F32 || *c != DType::F32 ||
        *a != *bt || (*a != DType::BF16 && *a != DType::F16))
      return fail(error, mnem, "only .f32.bf16.bf16.f32 and .f32.f16.f16.f32");
    I.type = DType::F32;
    I.srcType = *a;
  } else if (b == "shfl") {
    I.op = Opcode::Shfl;
    if (!m.take("sync"))
      return fail(error, mnem, "only shfl.sync is supported");
    if (m.take("up"))
      I.mode = uint8_t(ShflMode::Up);
    else if (m.take("down"))
      I.mode = uint8_t(ShflMode::Down);
    else if (m.take("bfly"))
      I.mode = uint8_t(ShflMode::Bfly);
    else if (m.take("idx"))
      I.mode = uint8_t(ShflMode::Idx);
    else
      return fail(error, mnem, "missing mode");
    if (!m.take("b32"))
      return fail(error, mnem, "expected .b32");
    I.type = DType::B32;
  } else if (b == "vote") {
    I.op = Opcode::Vote;
    if (!m.take("sync"))
      return fail(error, mnem, "only vote.sync is supported");
    if (m.take("all"))
      I.mode = uint8_t(VoteMode::All);
    else if (m.take("any"))
      I.mode = uint8_t(VoteMode::Any);
    else if (m.take("uni"))
      I.mode = uint8_t(VoteMode::Uni);
    else if (m.take("ballot"))
      I.mode = uint8_t(VoteMode::Ballot);
    else
      return fail(error, mnem, "missing mode");
    if (!needType(m, I, error, mnem))
      return false;
  } else if (b == "setp") {
    I.op = Opcode::Setp;
    if (!decodeCmp(m, I))
      return fail(error, mnem, "missing comparison");
    if (m.take("ftz"))
      I.flags |= FlagFtz;
    if (!needType(m, I, error, mnem))
      return false;
    if (isFloat(I.type) && I.type != DType::F32 && I.type != DType::F64)
      return fail(error, mnem, "comparison on this type is not implemented");
  } else if (b == "cvt") {
    I.op = Opcode::Cvt;
    I.round = m.takeRound();
    if (m.take("ftz"))
      I.flags |= FlagFtz;
    if (m.take("sat"))
      I.flags |= FlagSat;
    auto d = m.takeType(), s = m.takeType();
    if (!d || !s)
      return fail(error, mnem, "expected destination and source types");
    I.type = *d;
    I.srcType = *s;
    if ((I.type == DType::BF16x2 || I.type == DType::F16x2) &&
        I.srcType != DType::F32)
      return fail(error, mnem, "packed conversion needs an f32 source");
    if (I.srcType == DType::BF16x2 || I.srcType == DType::F16x2)
      return fail(error, mnem, "");
  } else {
    if (!decodeArith(m, I, error, mnem))
      return false;
  }
  if (!m.empty())
    return fail(error, mnem,
                "modifier '." + std::string(m.first()) + "' not supported");
  return true;
}

/// Index of the address operand of an mbarrier instruction.
static unsigned mbarAddrOperandIndex(MbarOp op) {
  return op == MbarOp::Arrive || op == MbarOp::ArriveDrop ||
                 op == MbarOp::TestWait || op == MbarOp::TryWait
             ? 1
             : 0;
}

/// Converts a floating literal to the bits of `t`.
static void fixImm(Operand &o, DType t) {
  if (o.kind != Operand::Imm || o.isAddr)
    return;
  if (o.count == 1 && t == DType::F32) // decimal or 0d literal
    o.imm = f32ToBits(float(bitsToF64(uint64_t(o.imm))));
  else if (o.count == 2 && t == DType::F64) // 0f literal
    o.imm = int64_t(f64ToBits(double(bitsToF32(uint32_t(o.imm)))));
  o.count = 0;
}

bool ringrt::emu::finishOperands(Instr &I, const Kernel &K,
                                 std::string &error) {
  unsigned lo = 0, hi = 0;
  switch (I.op) {
  case Opcode::Bra: lo = hi = 1; break;
  case Opcode::Ret: case Opcode::Exit: case Opcode::CpAsyncCommit:
    lo = 0; hi = 0; break;
  case Opcode::Nop: lo = 0; hi = 1; break; // bar.warp.sync mask, prefetch
  case Opcode::TmaLoad: lo = 4; hi = 5; break; // + .L2::cache_hint policy
  case Opcode::TmaStore: lo = 3; hi = 4; break;
  case Opcode::Bar: lo = (I.flags & FlagArriveOnly) ? 2 : 1; hi = 2; break;
  case Opcode::Mbarrier:
    switch (MbarOp(I.mode)) {
    case MbarOp::Init: case MbarOp::ExpectTx: case MbarOp::CompleteTx:
      lo = hi = 2; break;
    case MbarOp::Arrive: case MbarOp::ArriveDrop:
      lo = (I.flags & FlagExpectTx) ? 3 : 2; hi = 3; break;
    case MbarOp::TestWait: lo = hi = 3; break;
    case MbarOp::TryWait: lo = 3; hi = 4; break;
    case MbarOp::Inval: lo = hi = 1; break;
    }
    break;
  case Opcode::FenceProxyAsync: case Opcode::WgmmaFence:
  case Opcode::WgmmaCommit: case Opcode::BulkCommit:
    lo = hi = 0; break;
  case Opcode::WgmmaWait: case Opcode::BulkWait: case Opcode::Setmaxnreg:
    lo = hi = 1; break;
  case Opcode::Elect: lo = hi = 2; break;
  case Opcode::Wgmma: lo = 7; hi = 8; break;
  case Opcode::Stmatrix: lo = hi = 2; break;
  case Opcode::CpAsyncWait: lo = hi = (I.flags & FlagAll) ? 0 : 1; break;
  case Opcode::CpAsync: lo = 3; hi = 5; break;
  case Opcode::Mma: lo = hi = 4; break;
  case Opcode::Shfl: lo = hi = 5; break;
  case Opcode::Vote: lo = hi = 3; break;
  case Opcode::Mad: case Opcode::Fma: case Opcode::Prmt: case Opcode::Selp:
  case Opcode::Bfe:
    lo = hi = 4; break;
  case Opcode::Mov: case Opcode::Ld: case Opcode::St: case Opcode::Cvta:
  case Opcode::CvtaTo: case Opcode::Ldmatrix: case Opcode::Neg:
  case Opcode::Abs: case Opcode::Rcp: case Opcode::Sqrt: case Opcode::Rsqrt:
  case Opcode::Ex2: case Opcode::Lg2: case Opcode::Sin: case Opcode::Cos:
  case Opcode::Not: case Opcode::Popc: case Opcode::Clz: case Opcode::Brev:
    lo = hi = 2; break;
  case Opcode::Cvt:
    lo = hi = (I.type == DType::BF16x2 || I.type == DType::F16x2) ? 3 : 2;
    break;
  default: lo = hi = 3; break;
  }
  if (I.numOps < lo || I.numOps > hi)
    return error = "wrong number of operands", false;
  // Literal conversion: every operand of a float op has the op's type,
  // except cvt's source and the predicate of selp.
  for (unsigned i = 0; i < I.numOps; ++i) {
    DType t = I.type;
    if (I.op == Opcode::Cvt && i >= 1)
      t = I.srcType;
    fixImm(I.ops[i], t);
  }
  // Shapes of the memory and warp-wide instructions.
  auto isVec = [&](unsigned i, unsigned n) {
    return I.ops[i].kind == Operand::Vector && I.ops[i].count == n;
  };
  switch (I.op) {
  case Opcode::Ld:
    if (!I.ops[1].isAddr || (I.vec > 1 && !isVec(0, I.vec)))
      return error = "malformed ld operands", false;
    break;
  case Opcode::St:
    if (!I.ops[0].isAddr || (I.vec > 1 && !isVec(1, I.vec)))
      return error = "malformed st operands", false;
    break;
  case Opcode::CpAsync:
    if (!I.ops[0].isAddr || !I.ops[1].isAddr || I.ops[2].kind != Operand::Imm)
      return error = "malformed cp.async operands", false;
    if (I.ops[2].imm != 4 && I.ops[2].imm != 8 && I.ops[2].imm != 16)
      return error = "cp.async size must be 4, 8 or 16", false;
    if (I.numOps == 5)
      return error = "cp.async cache-policy operand not supported", false;
    if (I.numOps == 4 && I.ops[3].kind == Operand::Reg &&
        K.isPredReg[I.ops[3].index])
      I.flags |= FlagIgnoreSrc;
    break;
  case Opcode::Ldmatrix:
    if (!I.ops[1].isAddr ||
        !(isVec(0, I.mode) ||
          (I.mode == 1 && I.ops[0].kind == Operand::Reg)))
      return error = "malformed ldmatrix operands", false;
    break;
  case Opcode::Mma:
    if (!isVec(0, 4) || !isVec(1, 4) || !isVec(2, 2) || !isVec(3, 4))
      return error = "malformed mma operands", false;
    break;
  case Opcode::Bra:
    if (I.ops[0].kind != Operand::Label)
      return error = "branch target must be a label", false;
    break;
  case Opcode::Stmatrix:
    if (!I.ops[0].isAddr ||
        !(isVec(1, I.mode) ||
          (I.mode == 1 && I.ops[1].kind == Operand::Reg)))
      return error = "malformed stmatrix operands", false;
    break;
  case Opcode::Mbarrier:
    if (!I.ops[mbarAddrOperandIndex(MbarOp(I.mode))].isAddr)
      return error = "the mbarrier operand must be an address [..]", false;
    break;
  case Opcode::WgmmaWait: case Opcode::BulkWait: case Opcode::Setmaxnreg:
    if (I.ops[0].kind != Operand::Imm)
      return error = "the operand must be an integer constant", false;
    break;
  case Opcode::Elect:
    if (I.ops[0].kind != Operand::Reg && I.ops[0].kind != Operand::Sink)
      return error = "malformed elect.sync destination", false;
    break;
  case Opcode::Wgmma: {
    bool aDesc = I.numOps == 8;
    if (!isVec(0, I.n / 2u))
      return error = "the accumulator must be a vector of N/2 = " +
                     std::to_string(I.n / 2) + " registers",
             false;
    if (aDesc ? I.ops[1].kind != Operand::Reg : !isVec(1, 4))
      return error = "A must be a 64-bit descriptor register or a vector of "
                     "4 registers",
             false;
    if (I.ops[2].kind != Operand::Reg)
      return error = "B must be a 64-bit descriptor register", false;
    for (unsigned i = 4; i < I.numOps; ++i)
      if (I.ops[i].kind != Operand::Imm)
        return error = "imm-scale-a/b and imm-trans-a/b must be constants",
               false;
    if (I.ops[4].imm != 1 && I.ops[4].imm != -1)
      return error = "imm-scale-a must be 1 or -1", false;
    if (I.ops[5].imm != 1 && I.ops[5].imm != -1)
      return error = "imm-scale-b must be 1 or -1", false;
    for (unsigned i = 6; i < I.numOps; ++i)
      if (I.ops[i].imm != 0 && I.ops[i].imm != 1)
        return error = "imm-trans-a/b must be 0 or 1", false;
    break;
  }
  case Opcode::TmaLoad:
    if (!I.ops[0].isAddr || !I.ops[1].isAddr || !isVec(2, I.mode) ||
        !I.ops[3].isAddr)
      return error = "expected [dstMem], [tensorMap, {" +
                     std::to_string(I.mode) + " coordinates}], [mbar]",
             false;
    break;
  case Opcode::TmaStore:
    if (!I.ops[0].isAddr || !isVec(1, I.mode) || !I.ops[2].isAddr)
      return error = "expected [tensorMap, {" + std::to_string(I.mode) +
                     " coordinates}], [srcMem]",
             false;
    break;
  default:
    break;
  }
  for (unsigned i = 0; i < I.numOps; ++i)
    if (I.ops[i].isAddr && I.op != Opcode::Ld && I.op != Opcode::St &&
        I.op != Opcode::CpAsync && I.op != Opcode::Ldmatrix &&
        I.op != Opcode::Stmatrix && I.op != Opcode::Mbarrier &&
        I.op != Opcode::Nop &&
        I.op != Opcode::TmaLoad && I.op != Opcode::TmaStore)
      return error = "unexpected address operand", false;
  return true;
}
