//===- BlockCases.cpp - which blocks each ring stage computes --*- C++ -*-===//
//
// This file implements the per-stage block classification. With src the
// rank whose K/V block stage t holds (src = p at t = 0):
//
//   none:    stage 0 is the diagonal block; later stages see the whole
//            block when src < p and nothing when src > p.
//   zigzag:  rank p holds chunks p and 2P−1−p (C tokens each). At stage 0,
//            Q chunk 0 sees K chunk 0 on the diagonal and not K chunk 1,
//            and Q chunk 1 sees K chunk 0 fully and K chunk 1 diagonally.
//            Later, src < p: all of Q sees K chunk 0 and none of K chunk 1;
//            src > p: Q chunk 1 sees all of K and Q chunk 0 nothing. Either
//            way half the block, unmasked: every rank does equal work.
//   striped: token i is at position i·P + owner, so every stage is a
//            triangular block (j ≤ i when src ≤ p, j < i when src > p); the
//            mask computed from positions covers both.
//
//===----------------------------------------------------------------------===//

#include "passes/BlockCases.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::ring;

SmallVector<BlockCase> mlir::ring::classifyStage(Balance layout, bool causal,
                                                 int64_t ringSize,
                                                 int64_t localSeq,
                                                 int64_t stage) {
  const int64_t L = localSeq;
  using C = BlockCondition;
  if (!causal)
    return {{C::Always, 0, L, 0, L, MaskKind::none}};
  switch (layout) {
  case Balance::none:
    if (stage == 0)
      return {{C::Always, 0, L, 0, L, MaskKind::causal}};
    return {{C::SrcBeforeRank, 0, L, 0, L, MaskKind::none}};
  case Balance::zigzag: {
    const int64_t half = L / 2;
    if (stage == 0)
      return {{C::Always, 0, half, 0, half, MaskKind::causal},
              {C::Always, half, half, 0, L, MaskKind::causal}};
    return {{C::SrcBeforeRank, 0, L, 0, half, MaskKind::none},
            {C::SrcAfterRank, half, half, 0, L, MaskKind::none}};
  }
  case Balance::striped:
    return {{C::Always, 0, L, 0, L, MaskKind::causal}};
  }
  llvm_unreachable("unknown layout");
}

bool mlir::ring::appliesTo(const BlockCase &c, int64_t src, int64_t rank) {
  return c.condition == BlockCondition::Always ||
         (c.condition == BlockCondition::SrcBeforeRank && src < rank) ||
         (c.condition == BlockCondition::SrcAfterRank && src > rank);
}

double mlir::ring::visibleFraction(const BlockCase &c) {
  if (c.mask == MaskKind::none)
    return 1.0;
  // The zigzag stage-0 case of Q chunk 1 (C rows) against both K chunks
  // (2C keys): chunk 0 fully visible, chunk 1 on the diagonal.
  if (c.kn == 2 * c.qn)
    return 0.75;
  // A square diagonal block (none and zigzag at stage 0, striped always):
  // j <= i, (n + 1) / 2n of it (striped with src > p: j < i, one row less).
  return 0.5 * (1.0 + 1.0 / static_cast<double>(c.qn));
}

int64_t mlir::ring::stageWork(Balance layout, bool causal, int64_t ringSize,
                              int64_t localSeq, int64_t stage, int64_t rank) {
  int64_t src = ((rank - stage) % ringSize + ringSize) % ringSize;
  int64_t work = 0;
  for (const BlockCase &c :
       classifyStage(layout, causal, ringSize, localSeq, stage)) {
    if (appliesTo(c, src, rank))
      work += c.work();
  }
  return work;
}

void mlir::ring::emitBlockCases(OpBuilder &b, Location loc,
                                ArrayRef<BlockCase> cases, Value src,
                                Value rank,
                                function_ref<void(const BlockCase &)> emit) {
  SmallVector<const BlockCase *> always, before, after;
  for (const BlockCase &c : cases)
    (c.condition == BlockCondition::Always          ? always
     : c.condition == BlockCondition::SrcBeforeRank ? before
                                                    : after)
        .push_back(&c);
  for (const BlockCase *c : always)
    emit(*c);
  if (before.empty() && after.empty())
    return;
  Value isBefore =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, src, rank);
  auto ifOp = scf::IfOp::create(b, loc, isBefore, /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
  for (const BlockCase *c : before)
    emit(*c);
  b.setInsertionPoint(ifOp.elseBlock()->getTerminator());
  for (const BlockCase *c : after)
    emit(*c);
}

std::string mlir::ring::ringAllReduceSentBytes(int64_t bytes, int64_t m,
                                               int64_t copies) {
  // Split as (bytes / m)·2(m−1) + (bytes % m)·2(m−1)/m so that no
  // intermediate exceeds the result; checked, since copies·2 may not fit.
  int64_t perCopy, total;
  if (m > 0 && bytes >= 0 && copies >= 0 &&
      !llvm::MulOverflow(bytes / m, 2 * (m - 1), perCopy) &&
      !llvm::AddOverflow(perCopy, bytes % m * 2 * (m - 1) / m, perCopy) &&
      !llvm::MulOverflow(perCopy, copies, total))
    return std::to_string(total);
  return llvm::formatv("{0:e3}", double(copies) * 2.0 * double(m - 1) /
                                     double(m) * double(bytes))
      .str();
}
