//===- Instr.h - Decoded PTX instructions ---------------------------*- C++ -*-===//
//
// This file defines the decoded form the emulator executes: PTX text is
// parsed once into an array of Instr per kernel, with an opcode enum, typed
// modifiers and operands whose registers are resolved to dense indices.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRT_EMU_LIB_INSTR_H
#define RINGRT_EMU_LIB_INSTR_H

#include "ringrt/emu/Emu.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ringrt::emu {

/// Operations the emulator implements.
enum class Opcode : uint8_t {
  // Control flow and synchronization.
  Bra, Ret, Exit, Bar, Nop,
  // Hopper synchronization: mbarrier.*, fence.proxy.async, elect.sync,
  // setmaxnreg.
  Mbarrier, FenceProxyAsync, Elect, Setmaxnreg,
  // Asynchronous warpgroup MMA and bulk tensor copies.
  WgmmaFence, WgmmaCommit, WgmmaWait, Wgmma, TmaLoad, TmaStore,
  BulkCommit, BulkWait,
  // Data movement.
  Mov, Ld, St, Cvta, CvtaTo, CpAsync, CpAsyncCommit, CpAsyncWait, Ldmatrix,
  Stmatrix,
  // Integer and floating-point arithmetic.
  Add, Sub, Mul, Mad, Fma, Div, Rem, Min, Max, Neg, Abs, Rcp, Sqrt, Rsqrt,
  Ex2, Lg2, Sin, Cos, Copysign,
  // Logic, shifts, bit manipulation.
  And, Or, Xor, Not, Shl, Shr, Popc, Clz, Brev, Prmt, Bfe,
  // Comparison and selection.
  Setp, Selp,
  // Conversion.
  Cvt,
  // Warp-wide operations.
  Shfl, Vote, Mma,
};

/// PTX fundamental types.
enum class DType : uint8_t {
  None, Pred, B8, B16, B32, B64, U8, U16, U32, U64, S8, S16, S32, S64,
  F16, F16x2, BF16, BF16x2, F32, F64,
};

/// Size in bytes of a type (predicates count as 1).
unsigned typeBytes(DType t);
bool isSigned(DType t);
bool isFloat(DType t);

/// State spaces.
enum class Space : uint8_t { Generic, Global, Shared, Param, Local, Const };
const char *spaceName(Space s);

/// setp comparison operators.
enum class CmpOp : uint8_t {
  Eq, Ne, Lt, Le, Gt, Ge, Lo, Ls, Hi, Hs,
  Equ, Neu, Ltu, Leu, Gtu, Geu, Num, Nan,
};

/// Rounding modifiers (cvt and arithmetic).
enum class Round : uint8_t { None, Rn, Rz, Rm, Rp, Rni, Rzi, Rmi, Rpi };

/// Special registers.
enum class SpecialReg : uint8_t {
  TidX, TidY, TidZ, NtidX, NtidY, NtidZ, CtaidX, CtaidY, CtaidZ,
  NctaidX, NctaidY, NctaidZ, LaneId, WarpId, NWarpId, Clock, Clock64,
  LanemaskEq, LanemaskLt, LanemaskLe, LanemaskGt, LanemaskGe,
  DynamicSmemSize, TotalSmemSize,
  ClusterCtaRank,  ///< 0: launches are clusters of one CTA
  ClusterNCtaRank, ///< 1
};

/// Instruction modifier flags (Instr::flags).
enum InstrFlag : uint32_t {
  FlagFtz = 1u << 0,
  FlagSat = 1u << 1,
  FlagApprox = 1u << 2,
  FlagWide = 1u << 3,   ///< mul.wide / mad.wide
  FlagHi = 1u << 4,     ///< mul.hi / mad.hi
  FlagTrans = 1u << 5,  ///< ldmatrix .trans
  FlagNaN = 1u << 6,    ///< min/max .NaN
  FlagIgnoreSrc = 1u << 7, ///< cp.async 4th operand is a predicate
  FlagAll = 1u << 8,    ///< cp.async.wait_all
  FlagCommit = 1u << 9, ///< cp.async.commit_group
  FlagAligned = 1u << 10, ///< bar.sync / barrier.sync.aligned
  FlagParity = 1u << 11,  ///< mbarrier test_wait/try_wait .parity
  FlagExpectTx = 1u << 12, ///< mbarrier.arrive.expect_tx
  FlagArriveOnly = 1u << 13, ///< bar.arrive / barrier.arrive
  FlagInc = 1u << 14,     ///< setmaxnreg.inc
  FlagMbarrierInit = 1u << 15, ///< fence.mbarrier_init (FenceProxyAsync)
};

/// mbarrier sub-operations (Instr::mode when op == Mbarrier).
enum class MbarOp : uint8_t {
  Init, Arrive, ArriveDrop, ExpectTx, CompleteTx, TestWait, TryWait, Inval,
};

/// shfl.sync modes and vote modes (Instr::mode).
enum class ShflMode : uint8_t { Up, Down, Bfly, Idx };
enum class VoteMode : uint8_t { All, Any, Uni, Ballot };

/// One operand. Addresses are `base + offset` where base is a register, a
/// symbol or an immediate; vectors refer to Kernel::vecPool.
struct Operand {
  enum Kind : uint8_t { None, Reg, Imm, Special, Symbol, Vector, Sink, Label };
  Kind kind = None;
  bool isAddr = false;  ///< written as [ ... ]
  bool negated = false; ///< !%p source predicate
  uint8_t special = 0;  ///< SpecialReg when kind == Special
  uint32_t index = 0;   ///< register, symbol, vecPool start or code index
  uint32_t count = 0;   ///< vector length
  uint32_t pred2 = 0;   ///< 1 + predicate register of a `%d|%p` destination
  int64_t imm = 0;      ///< immediate bits, or address offset when isAddr
};

/// One decoded instruction.
struct Instr {
  Opcode op = Opcode::Nop;
  DType type = DType::None;    ///< operation type (cvt: destination type)
  DType srcType = DType::None; ///< cvt source type; mma A/B type
  Space space = Space::Generic; ///< ld/st/cvta space; cp.async: dst space
  Space space2 = Space::Generic; ///< cp.async source space
  Round round = Round::None;
  CmpOp cmp = CmpOp::Eq;
  uint8_t mode = 0;  ///< ShflMode, VoteMode, MbarOp, ldmatrix/stmatrix
                     ///< matrix count, tensor copy rank
  uint8_t vec = 1;   ///< vector width of ld/st
  uint8_t numOps = 0;
  uint32_t flags = 0;
  int32_t guard = -1;     ///< predicate register guarding the instruction
  bool guardNeg = false;  ///< @!%p
  uint32_t line = 0;      ///< PTX source line
  uint16_t n = 0;         ///< wgmma N
  Operand ops[8];
};

/// A module-level or kernel-level symbol.
struct Symbol {
  std::string name;
  Space space = Space::Shared;
  uint64_t value = 0; ///< address within its space
  uint64_t size = 0;
};

/// A decoded `.entry`.
struct Kernel {
  std::string name;
  std::vector<ParamInfo> params;
  std::vector<unsigned> paramOffsets;
  unsigned paramBytes = 0;
  std::vector<Instr> code;
  std::vector<std::string> text; ///< mnemonic of each instruction
  std::vector<Operand> vecPool;
  std::vector<Symbol> symbols;
  std::vector<bool> isPredReg; ///< per register: declared .pred
  std::vector<std::string> regNames; ///< per register: its PTX name
  unsigned numRegs = 0;
  unsigned staticShared = 0;  ///< bytes of static .shared
  unsigned dynSharedOffset = 0; ///< where extern .shared starts
  Dim3 reqntid{0, 0, 0};
  unsigned maxntid = 0;
  unsigned maxnreg = 0;       ///< .maxnreg (0: none)
};

} // namespace ringrt::emu

#endif // RINGRT_EMU_LIB_INSTR_H
