//===- FuseMerge.cpp - fuse block attention with its merge ------*- C++ -*-===//
//
// This file implements the ring-fuse-merge pass: a ring.block_attention
// followed by the ring.merge of its partial becomes one
// ring.block_attention_accumulate that merges in its epilogue. The first
// blocks merged into an accumulator are marked `first` (they do not read
// it), and the accumulator's ring.fill_partial goes away when those blocks
// cover all of its rows.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/SetVector.h"

#include <functional>

namespace mlir::ring {
#define GEN_PASS_DEF_RINGFUSEMERGEPASS
#include "passes/Passes.h.inc"
} // namespace mlir::ring

using namespace mlir;
using namespace mlir::ring;

namespace {

/// Whether `op` or an op nested in it has one of `values` as an operand.
bool usesAny(Operation *op, ArrayRef<Value> values) {
  WalkResult r = op->walk([&](Operation *nested) {
    for (Value v : nested->getOperands())
      if (llvm::is_contained(values, v))
        return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return r.wasInterrupted();
}

/// The ring.merge that consumes the partial of `block`, if the pair can be
/// fused: the next op after `block` that uses the partial is a merge of all
/// of it (rows = q_rows) into an accumulator with the query buffer's rows,
/// and nothing in between touches the partial or the accumulator (so the
/// merge may move up to the block).
MergeOp findMerge(BlockAttentionOp block) {
  Value po = block.getPartialOutput(), pl = block.getPartialLse();
  for (Operation *op = block->getNextNode(); op; op = op->getNextNode()) {
    auto merge = dyn_cast<MergeOp>(op);
    if (merge && merge.getPartialOutput() == po &&
        merge.getPartialLse() == pl) {
      Value ao = merge.getAccOutput(), al = merge.getAccLse();
      auto q = cast<MemRefType>(block.getQuery().getType());
      auto aoType = cast<MemRefType>(ao.getType());
      auto alType = cast<MemRefType>(al.getType());
      if (merge.getRows() != block.getQRows() ||
          aoType.getShape() != q.getShape() ||
          alType.getShape() != q.getShape().take_front(3) ||
          usesAny(block, {ao, al}))
        return {};
      // Nothing between the two may touch the accumulator either.
      for (Operation *mid = block->getNextNode(); mid != op;
           mid = mid->getNextNode())
        if (usesAny(mid, {ao, al}))
          return {};
      return merge;
    }
    if (usesAny(op, {po, pl}))
      return {};
  }
  return {};
}

/// The row intervals [begin, end) already merged into one accumulator.
struct CoveredRows {
  SmallVector<std::pair<int64_t, int64_t>> rows;
  bool overlaps(int64_t b, int64_t e) const {
    return llvm::any_of(rows, [&](auto r) { return b < r.second && r.first < e; });
  }
  int64_t total() const {
    int64_t n = 0;
    for (auto r : rows)
      n += r.second - r.first;
    return n;
  }
};

/// Marks `first` on the blocks that merge into the accumulator of `fill`
/// before anything else reads or writes it (straight-line code of the
/// function and its stages, disjoint rows), and erases `fill` when they
/// cover every row.
void markFirstBlocks(FillPartialOp fill) {
  Value ao = fill.getOutput(), al = fill.getLse();
  int64_t rows = cast<MemRefType>(al.getType()).getDimSize(2);
  CoveredRows covered;
  SmallVector<BlockAttentionAccumulateOp> firsts;
  // Visits ops in program order; returns false at the first op that ends
  // the straight-line prefix for this accumulator.
  std::function<bool(Operation *)> visit = [&](Operation *op) -> bool {
    if (auto stage = dyn_cast<StageOp>(op)) {
      for (Operation &inner : stage.getBody().front())
        if (!visit(&inner))
          return false;
      return true;
    }
    if (auto acc = dyn_cast<BlockAttentionAccumulateOp>(op);
        acc && acc.getAccOutput() == ao && acc.getAccLse() == al) {
      int64_t b = acc.getQRows()[0], e = b + acc.getQRows()[1];
      if (covered.overlaps(b, e))
        return false;
      covered.rows.push_back({b, e});
      firsts.push_back(acc);
      return true;
    }
    return !usesAny(op, {ao, al});
  };
  for (Operation *op = fill->getNextNode(); op; op = op->getNextNode())
    if (!visit(op))
      break;
  for (BlockAttentionAccumulateOp acc : firsts)
    acc.setFirst(true);
  if (covered.total() == rows)
    fill.erase();
}

/// Erases `buffer`'s allocation when only deallocations use it.
void eraseIfDead(Value buffer) {
  auto alloc = buffer.getDefiningOp<memref::AllocOp>();
  if (!alloc || !llvm::all_of(alloc->getUsers(), [](Operation *u) {
        return isa<memref::DeallocOp>(u);
      }))
    return;
  for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
    user->erase();
  alloc.erase();
}

struct RingFuseMergePass
    : public mlir::ring::impl::RingFuseMergePassBase<RingFuseMergePass> {
  void runOnOperation() override {
    SmallVector<BlockAttentionOp> blocks;
    getOperation().walk([&](BlockAttentionOp op) { blocks.push_back(op); });
    llvm::SetVector<Value> partials;
    for (BlockAttentionOp block : blocks) {
      MergeOp merge = findMerge(block);
      if (!merge)
        continue;
      OpBuilder b(block);
      BlockAttentionAccumulateOp::create(
          b, block.getLoc(), block.getQuery(), block.getKey(),
          block.getValue(), merge.getAccOutput(), merge.getAccLse(),
          block.getQOwner(), block.getKvOwner(), block.getDocuments(),
          block.getQRowsAttr(),
          block.getKvRowsAttr(), block.getMaskAttr(), block.getLayoutAttr(),
          block.getWindowAttr(), block.getRingSizeAttr(), block.getScaleAttr(),
          /*first=*/UnitAttr(), block.getSeqLenAttr());
      partials.insert(block.getPartialOutput());
      partials.insert(block.getPartialLse());
      merge.erase();
      block.erase();
    }
    SmallVector<FillPartialOp> fills;
    getOperation().walk([&](FillPartialOp fill) { fills.push_back(fill); });
    for (FillPartialOp fill : fills)
      markFirstBlocks(fill);
    for (Value partial : partials)
      eraseIfDead(partial);
  }
};
} // namespace
