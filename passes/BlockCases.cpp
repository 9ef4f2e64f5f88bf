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
#include "dialect/Visibility.h"
#include "passes/ScheduleTrace.h"

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

//===----------------------------------------------------------------------===//
// Sliding windows
//===----------------------------------------------------------------------===//
//
// With a window, which blocks are visible depends on the distance between
// the query and key positions, which under zigzag depends on the rank
// itself (chunk 2P−1−p of rank p is far from chunk src of the source unless
// p is near the middle). The classification is therefore exact and per
// rank: each local buffer is cut into "atoms" whose positions form one
// arithmetic progression (zigzag: its two chunks; none and striped: the
// whole buffer), every (query atom, key atom) pair is classified for every
// rank with Visibility.h, runs of ranks with the same outcome become cases
// with a rank range, and neighbouring atoms with the same outcome are
// merged back into one block (so that a window that hides nothing yields
// the blocks of the window-free schedule). With padded parts an atom's
// token rows are a prefix of it (AttentionPlan::tokenRows): only those are
// classified, and an atom without a token on either side is invisible (a
// rank with no token computes no block). Without a window the static cases
// above stay exact under padding: the parts keep the token order, and the
// block ops' seq_len masks the padding rows.

namespace {

/// The rows of the local buffer cut into atoms (see above).
SmallVector<std::pair<int64_t, int64_t>> atomsOf(Balance layout, int64_t Ll) {
  if (layout == Balance::zigzag && Ll >= 2)
    return {{0, Ll / 2}, {Ll / 2, Ll - Ll / 2}};
  return {{0, Ll}};
}

/// Merges cases that apply to the same ranks with the same masks and whose
/// rows are adjacent (same query rows and touching key rows, or the
/// reverse) until no two can be merged.
void mergeAdjacent(SmallVector<BlockCase> &cases) {
  auto same = [](const BlockCase &a, const BlockCase &b) {
    return a.condition == b.condition && a.rankLo == b.rankLo &&
           a.rankHi == b.rankHi && a.mask == b.mask && a.window == b.window;
  };
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < cases.size() && !changed; ++i)
      for (size_t j = 0; j < cases.size() && !changed; ++j) {
        BlockCase &a = cases[i];
        const BlockCase &b = cases[j];
        if (i == j || !same(a, b))
          continue;
        if (a.q0 == b.q0 && a.qn == b.qn && a.k0 + a.kn == b.k0)
          a.kn += b.kn;
        else if (a.k0 == b.k0 && a.kn == b.kn && a.q0 + a.qn == b.q0)
          a.qn += b.qn;
        else
          continue;
        cases.erase(cases.begin() + j);
        changed = true;
      }
  }
}

} // namespace

SmallVector<BlockCase> mlir::ring::classifyStage(const AttentionPlan &plan,
                                                 int64_t offset) {
  const int64_t P = plan.ring(), Ll = plan.localSeq();
  if (!plan.hasWindow())
    return classifyStage(plan.balance, plan.isCausal(), P, Ll, offset);
  auto atoms = atomsOf(plan.balance, Ll);
  SmallVector<BlockCase> cases;
  for (auto [qa, qb] : atoms)
    for (auto [ka, kb] : atoms) {
      // Plain copies: lambdas may not capture structured bindings (C++17).
      int64_t q0 = qa, qn = qb, k0 = ka, kn = kb;
      // Per rank: invisible (-1) or the mask bits (causal cut, window cut).
      auto classOf = [&](int64_t p) -> int {
        int64_t src = ((p - offset) % P + P) % P;
        BlockVisibility v = rowsVisibility(plan, p, q0, qn, src, k0, kn);
        return v.any ? (v.causalCut ? 1 : 0) | (v.windowCut ? 2 : 0) : -1;
      };
      for (int64_t p = 0; p < P;) {
        int cls = classOf(p);
        int64_t end = p + 1;
        while (end < P && classOf(end) == cls)
          ++end;
        if (cls >= 0) {
          BlockCase c{BlockCondition::Always, q0, qn, k0, kn,
                      (cls & 1) ? MaskKind::causal : MaskKind::none};
          // Ranks [p, end): bounds only where they exclude a rank.
          c.rankLo = p;
          c.rankHi = end < P ? end - 1 : INT64_MAX;
          c.window = cls & 2;
          cases.push_back(c);
        }
        p = end;
      }
    }
  mergeAdjacent(cases);
  // Cases for every rank first (the fused merge's `first` blocks), then by
  // rank range.
  llvm::stable_sort(cases, [](const BlockCase &a, const BlockCase &b) {
    return std::make_pair(a.rankLo, -a.rankHi) <
           std::make_pair(b.rankLo, -b.rankHi);
  });
  return cases;
}

RingStages mlir::ring::planRingStages(const AttentionPlan &plan) {
  const int64_t P = plan.ring();
  RingStages stages;
  stages.offsets.push_back(0);
  // needed[d]: some rank sees part of the block of the rank d behind it.
  SmallVector<bool> needed(P, true);
  if (plan.hasWindow())
    for (int64_t d = 1; d < P; ++d)
      needed[d] = !classifyStage(plan, d).empty();
  // The distances d in [1, P) form a circle with the rank itself at 0 and
  // P: the stages not run are the longest run of unneeded distances,
  // reached neither forward (1..A) nor backward (P−B..P−1).
  int64_t bestLo = P, bestLen = 0; // unneeded run [bestLo, bestLo + bestLen)
  for (int64_t d = 1; d < P;) {
    if (needed[d]) {
      ++d;
      continue;
    }
    int64_t e = d;
    while (e < P && !needed[e])
      ++e;
    if (e - d > bestLen) {
      bestLo = d;
      bestLen = e - d;
    }
    d = e;
  }
  if (bestLen == 0) {
    stages.forward = P - 1;
  } else {
    stages.forward = bestLo - 1;
    stages.backward = P - (bestLo + bestLen);
  }
  for (int64_t t = 1; t <= stages.forward; ++t)
    stages.offsets.push_back(t);
  for (int64_t t = 1; t <= stages.backward; ++t)
    stages.offsets.push_back(-t);
  return stages;
}

bool mlir::ring::appliesTo(const BlockCase &c, int64_t src, int64_t rank) {
  if (rank < c.rankLo || rank > c.rankHi)
    return false;
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
  SmallVector<const BlockCase *> always, before, after, ranged;
  for (const BlockCase &c : cases)
    (c.rankLo != 0 || c.rankHi != INT64_MAX       ? ranged
     : c.condition == BlockCondition::Always        ? always
     : c.condition == BlockCondition::SrcBeforeRank ? before
                                                    : after)
        .push_back(&c);
  for (const BlockCase *c : always)
    emit(*c);
  // Window cases name their ranks (classifyStage(plan, offset) makes them
  // Always): one scf.if on lo <= rank <= hi per run of equal ranges.
  for (size_t i = 0; i < ranged.size();) {
    const BlockCase *first = ranged[i];
    assert(first->condition == BlockCondition::Always &&
           "rank ranges only on unconditional cases");
    Value inRange;
    if (first->rankLo > 0)
      inRange = arith::CmpIOp::create(
          b, loc, arith::CmpIPredicate::uge, rank,
          arith::ConstantIndexOp::create(b, loc, first->rankLo));
    if (first->rankHi != INT64_MAX) {
      Value below = arith::CmpIOp::create(
          b, loc, arith::CmpIPredicate::ule, rank,
          arith::ConstantIndexOp::create(b, loc, first->rankHi));
      inRange = inRange ? arith::AndIOp::create(b, loc, inRange, below)
                        : below;
    }
    auto ifOp = scf::IfOp::create(b, loc, inRange, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    for (; i < ranged.size() && ranged[i]->rankLo == first->rankLo &&
           ranged[i]->rankHi == first->rankHi;
         ++i)
      emit(*ranged[i]);
  }
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

Value mlir::ring::emitStageSource(OpBuilder &b, Location loc, Value rank,
                                  int64_t offset, int64_t ringSize) {
  if (offset == 0)
    return rank;
  // (p + ((−offset) mod P)) mod P: P − t for forward stage t, d for the
  // backward stage −d.
  int64_t add = ((-offset) % ringSize + ringSize) % ringSize;
  Value shifted = arith::AddIOp::create(
      b, loc, rank, arith::ConstantIndexOp::create(b, loc, add));
  return arith::RemUIOp::create(
      b, loc, shifted, arith::ConstantIndexOp::create(b, loc, ringSize));
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

IntegerAttr mlir::ring::seqLenAttr(Builder &b, const AttentionPlan &plan) {
  return plan.hasSeqPadding() ? b.getI64IntegerAttr(plan.seq) : IntegerAttr();
}
