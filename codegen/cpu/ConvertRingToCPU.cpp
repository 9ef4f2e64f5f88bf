//===- ConvertRingToCPU.cpp - per-rank ring ops to CPU code -----*- C++ -*-===//
//
// This file implements the `convert-ring-to-cpu` pass and its patterns: the
// per-rank program of the overlapped phase becomes calls to scf/vector
// kernels (AttentionKernel.cpp, BlockKernels.cpp) and to the ringrt codegen
// ABI (runtime/include/ringrt/codegen_abi.h), plus the C-ABI entry point
// (EntryPoint.cpp).
//
//===----------------------------------------------------------------------===//

#include "codegen/OutputShares.h"
#include "codegen/Passes.h"
#include "codegen/Workspace.h"
#include "codegen/cpu/AttentionKernel.h"
#include "codegen/cpu/BlockKernels.h"
#include "codegen/cpu/CpuVariants.h"
#include "codegen/cpu/EntryPoint.h"
#include "codegen/cpu/GemmKernels.h"
#include "codegen/cpu/GradKernels.h"
#include "codegen/cpu/KernelBuilder.h"
#include "dialect/AttentionPlan.h"

#include "mlir/Dialect/Math/Transforms/Approximation.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/Dialect/X86Vector/X86VectorDialect.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::ring {
#define GEN_PASS_DEF_CONVERTRINGTOCPUPASS
#include "codegen/Passes.h.inc"
} // namespace mlir::ring

using namespace mlir;
using namespace mlir::ring;
using namespace mlir::ring::cpu;

/// Marks a per-rank function whose first three arguments are the ringrt
/// context, the status cell and the workspace (Workspace.h).
static constexpr StringLiteral kAbiAttr = "ring.cpu.abi";
/// The message tag (0..15) of a shift, numbered per stage in program order.
static constexpr StringLiteral kTagAttr = "ring.cpu.tag";

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

namespace {

/// The context and status arguments of the lowered per-rank function that
/// encloses `op`, or failure when it is not one.
struct AbiValues {
  Value context, status;
};

FailureOr<AbiValues> getAbiValues(Operation *op) {
  auto fn = op->getParentOfType<func::FuncOp>();
  if (!fn || !fn->hasAttr(kAbiAttr))
    return failure();
  return AbiValues{fn.getArgument(0), fn.getArgument(1)};
}

/// The base address of a dense memref as an !llvm.ptr.
Value dataPointer(KernelBuilder &b, Value memref) {
  Value index = memref::ExtractAlignedPointerAsIndexOp::create(b, memref);
  Value i64 = arith::IndexCastOp::create(b, b.getI64Type(), index);
  return LLVM::IntToPtrOp::create(b, LLVM::LLVMPointerType::get(b.getContext()),
                                  i64);
}

int64_t byteSize(Value memref) {
  auto type = cast<MemRefType>(memref.getType());
  return type.getNumElements() *
         llvm::divideCeil(type.getElementTypeBitWidth(), 8);
}

/// Declares a ringrt codegen-ABI function (codegen_abi.h).
func::FuncOp declareAbi(KernelCache &cache, MLIRContext *ctx, StringRef name,
                        ArrayRef<Type> inputs, ArrayRef<Type> results = {}) {
  return cache.declare(name, FunctionType::get(ctx, inputs, results));
}

LogicalResult requireDense(PatternRewriter &rewriter, Operation *op) {
  for (Type t : op->getOperandTypes())
    if (auto m = dyn_cast<MemRefType>(t))
      if (!m.getLayout().isIdentity() || !m.hasStaticShape())
        return rewriter.notifyMatchFailure(
            op, "the CPU kernels take static, dense (identity-layout) buffers");
  return success();
}

/// The ABI values around `op` when its buffers are static and dense (the
/// prologue of every runtime-call lowering), or a match failure.
FailureOr<AbiValues> getDenseAbiValues(PatternRewriter &rewriter,
                                       Operation *op) {
  auto abi = getAbiValues(op);
  if (failed(abi) || failed(requireDense(rewriter, op)))
    return failure();
  return abi;
}

/// The #ring.plan of the lowered function around `op`, or a match failure.
FailureOr<AttentionPlan> planOf(PatternRewriter &rewriter, Operation *op) {
  auto fn = op->getParentOfType<func::FuncOp>();
  auto planAttr = fn ? fn->getAttrOfType<PlanAttr>("ring.plan") : PlanAttr();
  if (!planAttr)
    return rewriter.notifyMatchFailure(op, "no ring.plan on the function");
  return AttentionPlan::fromAttr(planAttr);
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

/// Inlines a ring.stage into its parent block.
struct StageLowering : OpRewritePattern<StageOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(StageOp op,
                                PatternRewriter &rewriter) const override {
    rewriter.inlineBlockBefore(&op.getBody().front(), op);
    rewriter.eraseOp(op);
    return success();
  }
};

/// Replaces a block op by a call to its kernel (one per variant).
template <typename OpTy>
struct KernelCallLowering : OpRewritePattern<OpTy> {
  using GetKernel = std::function<func::FuncOp(OpTy)>;
  KernelCallLowering(MLIRContext *ctx, GetKernel getKernel)
      : OpRewritePattern<OpTy>(ctx), getKernel(std::move(getKernel)) {}

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    if (failed(requireDense(rewriter, op)))
      return failure();
    func::FuncOp kernel = getKernel(op);
    rewriter.replaceOpWithNewOp<func::CallOp>(op, kernel,
                                              op->getOperands());
    return success();
  }
  GetKernel getKernel;
};

/// ring.all_reduce → ringrt_cg_allreduce_sum_f32.
struct AllReduceLowering : OpRewritePattern<AllReduceOp> {
  AllReduceLowering(MLIRContext *ctx, KernelCache &cache)
      : OpRewritePattern(ctx), cache(cache) {}
  LogicalResult matchAndRewrite(AllReduceOp op,
                                PatternRewriter &rewriter) const override {
    auto abi = getDenseAbiValues(rewriter, op);
    if (failed(abi))
      return failure();
    KernelBuilder b(op.getLoc(), rewriter);
    auto ptr = LLVM::LLVMPointerType::get(op.getContext());
    auto fn = declareAbi(cache, op.getContext(), "ringrt_cg_allreduce_sum_f32",
                         {ptr, ptr, ptr, b.getI64Type(), b.getI32Type()});
    auto count = cast<MemRefType>(op.getBuffer().getType()).getNumElements();
    func::CallOp::create(b, fn,
                         ValueRange{abi->context, abi->status,
                                    dataPointer(b, op.getBuffer()),
                                    b.i64(count), b.i32(op.getStage())});
    rewriter.eraseOp(op);
    return success();
  }
  KernelCache &cache;
};

/// ring.output_all_reduce → ringrt_cg_allreduce_sum_f32_axis over the
/// dim-slice axis, then over the head-group axis (the sum over the
/// head-group × dim-slice ranks of this ring coordinate), then the kernel
/// that adds the bias and rounds Y.
struct OutputAllReduceLowering : OpRewritePattern<OutputAllReduceOp> {
  OutputAllReduceLowering(MLIRContext *ctx, KernelCache &cache)
      : OpRewritePattern(ctx), cache(cache) {}
  LogicalResult matchAndRewrite(OutputAllReduceOp op,
                                PatternRewriter &rewriter) const override {
    auto abi = getDenseAbiValues(rewriter, op);
    if (failed(abi))
      return failure();
    FailureOr<AttentionPlan> maybePlan = planOf(rewriter, op);
    if (failed(maybePlan))
      return failure();
    const AttentionPlan &plan = *maybePlan;
    KernelBuilder b(op.getLoc(), rewriter);
    auto ptr = LLVM::LLVMPointerType::get(op.getContext());
    auto sumFn = declareAbi(cache, op.getContext(),
                            "ringrt_cg_allreduce_sum_f32_axis",
                            {ptr, ptr, ptr, b.getI64Type(), b.getI32Type(),
                             b.getI32Type()});
    auto count = cast<MemRefType>(op.getPartial().getType()).getNumElements();
    // Diagnostics name it as the stage after the ring's last.
    int64_t stage = plan.ring();
    for (GridRole role : {GridRole::DimSlice, GridRole::HeadGroup})
      if (plan.size(role) > 1)
        func::CallOp::create(
            b, sumFn,
            ValueRange{abi->context, abi->status,
                       dataPointer(b, op.getPartial()), b.i64(count),
                       b.i32(static_cast<int>(role)), b.i32(stage)});
    rewriter.replaceOpWithNewOp<func::CallOp>(
        op, getOutputFinishKernel(cache, op), op->getOperands());
    return success();
  }
  KernelCache &cache;
};

/// ring.output_reduce_scatter → ringrt_cg_reduce_scatter_rows_sum_f32 of the
/// partial in place (dim slices, then head groups), ringrt_cg_output_share
/// for this rank's rows, then the kernel that adds the bias and writes
/// them to Y (and zeros past them).
struct OutputReduceScatterLowering
    : OpRewritePattern<OutputReduceScatterOp> {
  OutputReduceScatterLowering(MLIRContext *ctx, KernelCache &cache)
      : OpRewritePattern(ctx), cache(cache) {}
  LogicalResult matchAndRewrite(OutputReduceScatterOp op,
                                PatternRewriter &rewriter) const override {
    auto abi = getDenseAbiValues(rewriter, op);
    if (failed(abi))
      return failure();
    FailureOr<AttentionPlan> maybePlan = planOf(rewriter, op);
    if (failed(maybePlan))
      return failure();
    const AttentionPlan &plan = *maybePlan;
    KernelBuilder b(op.getLoc(), rewriter);
    auto ptr = LLVM::LLVMPointerType::get(op.getContext());
    Type i64 = b.getI64Type(), i32 = b.getI32Type();
    auto sumFn = declareAbi(cache, op.getContext(),
                            "ringrt_cg_reduce_scatter_rows_sum_f32",
                            {ptr, ptr, ptr, i64, i64, i64, ptr, i64, i32});
    auto shareFn = declareAbi(cache, op.getContext(), "ringrt_cg_output_share",
                              {ptr, ptr, ptr, i64, i32}, {i64});
    ArrayRef<int64_t> p = cast<MemRefType>(op.getPartial().getType()).getShape();
    Value shares = outputSharesAddress(b, op.getLoc(), op);
    Value k = b.i64(static_cast<int64_t>(op.getShares().size()));
    // Diagnostics name it as the stage after the ring's last.
    func::CallOp::create(b, sumFn,
                         ValueRange{abi->context, abi->status,
                                    dataPointer(b, op.getPartial()),
                                    b.i64(p[0]), b.i64(p[1]), b.i64(p[2]),
                                    shares, k, b.i32(plan.ring())});
    SmallVector<Value> args(op->getOperands());
    for (int which : {0, 1}) {
      Value v = func::CallOp::create(b, shareFn,
                                     ValueRange{abi->context, abi->status,
                                                shares, k, b.i32(which)})
                    .getResult(0);
      args.push_back(arith::IndexCastOp::create(b, b.getIndexType(), v));
    }
    rewriter.replaceOpWithNewOp<func::CallOp>(
        op, getOutputScatterFinishKernel(cache, op), args);
    return success();
  }
  KernelCache &cache;
};

/// The ringrt_cg_all_to_all arguments after (ctx, status) of `op`: send,
/// recv, mode, batch, source heads and tokens, destination heads and
/// tokens, bytes per token row, id (codegen_abi.h).
SmallVector<Value> allToAllArgs(KernelBuilder &b, AllToAllOp op, Value send,
                                Value recv) {
  auto s = cast<MemRefType>(op.getSend().getType());
  auto r = cast<MemRefType>(op.getRecv().getType());
  int64_t rowBytes = llvm::divideCeil(s.getElementTypeBitWidth(), 8) *
                     (s.getRank() == 4 ? s.getDimSize(3) : 1);
  return {send,
          recv,
          b.i32(static_cast<int32_t>(op.getMode())),
          b.i64(s.getDimSize(0)),
          b.i64(s.getDimSize(1)),
          b.i64(s.getDimSize(2)),
          b.i64(r.getDimSize(1)),
          b.i64(r.getDimSize(2)),
          b.i64(rowBytes),
          b.i32(static_cast<int32_t>(op.getId()))};
}

/// ring.all_to_all → ringrt_cg_all_to_all (blocking, over the a2a axis).
struct AllToAllLowering : OpRewritePattern<AllToAllOp> {
  AllToAllLowering(MLIRContext *ctx, KernelCache &cache)
      : OpRewritePattern(ctx), cache(cache) {}
  LogicalResult matchAndRewrite(AllToAllOp op,
                                PatternRewriter &rewriter) const override {
    auto abi = getDenseAbiValues(rewriter, op);
    if (failed(abi))
      return failure();
    KernelBuilder b(op.getLoc(), rewriter);
    auto ptr = LLVM::LLVMPointerType::get(op.getContext());
    Type i32 = b.getI32Type(), i64 = b.getI64Type();
    auto fn = declareAbi(cache, op.getContext(), "ringrt_cg_all_to_all",
                         {ptr, ptr, ptr, ptr, i32, i64, i64, i64, i64, i64,
                          i64, i32});
    SmallVector<Value> args = {abi->context, abi->status};
    args.append(allToAllArgs(b, op, dataPointer(b, op.getSend()),
                             dataPointer(b, op.getRecv())));
    func::CallOp::create(b, fn, args);
    rewriter.eraseOp(op);
    return success();
  }
  KernelCache &cache;
};

int32_t tagOf(Operation *op) {
  auto tag = op->getAttrOfType<IntegerAttr>(kTagAttr);
  return tag ? static_cast<int32_t>(tag.getInt()) : 0;
}

/// ring.shift → ringrt_cg_shift (blocking).
struct ShiftLowering : OpRewritePattern<ShiftOp> {
  ShiftLowering(MLIRContext *ctx, KernelCache &cache)
      : OpRewritePattern(ctx), cache(cache) {}
  LogicalResult matchAndRewrite(ShiftOp op,
                                PatternRewriter &rewriter) const override {
    auto abi = getDenseAbiValues(rewriter, op);
    if (failed(abi))
      return failure();
    KernelBuilder b(op.getLoc(), rewriter);
    auto ptr = LLVM::LLVMPointerType::get(op.getContext());
    SmallVector<Type> types = {ptr,           ptr,           ptr,
                               ptr,           b.getI64Type(), b.getI32Type(),
                               b.getI32Type()};
    SmallVector<Value> args = {
        abi->context, abi->status, dataPointer(b, op.getSend()),
        dataPointer(b, op.getRecv()), b.i64(byteSize(op.getSend())),
        b.i32(op.getStage()), b.i32(tagOf(op))};
    // Backward shifts (a window's halo) name their direction.
    if (op.getBackward()) {
      types.push_back(b.getI32Type());
      args.push_back(b.i32(-1));
    }
    auto fn = declareAbi(cache, op.getContext(),
                         op.getBackward() ? "ringrt_cg_shift_dir"
                                          : "ringrt_cg_shift",
                         types);
    func::CallOp::create(b, fn, args);
    rewriter.eraseOp(op);
    return success();
  }
  KernelCache &cache;
};

/// ring.shift_start and its ring.shift_wait users → ringrt_cg_shift_start
/// and ringrt_cg_shift_wait on a request slot allocated at function entry.
struct ShiftStartLowering : OpRewritePattern<ShiftStartOp> {
  ShiftStartLowering(MLIRContext *ctx, KernelCache &cache)
      : OpRewritePattern(ctx), cache(cache) {}
  LogicalResult matchAndRewrite(ShiftStartOp op,
                                PatternRewriter &rewriter) const override {
    auto abi = getDenseAbiValues(rewriter, op);
    if (failed(abi))
      return failure();
    for (Operation *user : op->getUsers())
      if (!isa<ShiftWaitOp>(user))
        return rewriter.notifyMatchFailure(op, "transfer used by a non-wait");
    MLIRContext *ctx = op.getContext();
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    KernelBuilder b(op.getLoc(), rewriter);
    SmallVector<Type> startTypes = {ptr,           ptr,           ptr,
                                    ptr,           b.getI64Type(), b.getI32Type(),
                                    b.getI32Type()};
    if (op.getBackward())
      startTypes.push_back(b.getI32Type());
    startTypes.push_back(ptr);
    auto startFn = declareAbi(cache, ctx,
                              op.getBackward() ? "ringrt_cg_shift_start_dir"
                                               : "ringrt_cg_shift_start",
                              startTypes);
    auto waitFn = declareAbi(cache, ctx, "ringrt_cg_shift_wait", {ptr, ptr, ptr});

    // The request slot lives at function entry so that every wait, in
    // whichever region, sees it; it starts out null.
    Value slot;
    {
      OpBuilder::InsertionGuard guard(b);
      auto fn = op->getParentOfType<func::FuncOp>();
      b.setInsertionPointToStart(&fn.getBody().front());
      slot = LLVM::AllocaOp::create(b, ptr, ptr, b.i64(1));
      LLVM::StoreOp::create(b, LLVM::ZeroOp::create(b, ptr), slot);
    }
    SmallVector<Value> startArgs = {
        abi->context, abi->status, dataPointer(b, op.getSend()),
        dataPointer(b, op.getRecv()), b.i64(byteSize(op.getSend())),
        b.i32(op.getStage()), b.i32(tagOf(op))};
    if (op.getBackward())
      startArgs.push_back(b.i32(-1));
    startArgs.push_back(slot);
    func::CallOp::create(b, startFn, startArgs);
    for (Operation *user : llvm::make_early_inc_range(op->getUsers())) {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPoint(user);
      func::CallOp::create(rewriter, user->getLoc(), waitFn,
                           ValueRange{abi->context, abi->status, slot});
      rewriter.eraseOp(user);
    }
    rewriter.eraseOp(op);
    return success();
  }
  KernelCache &cache;
};

/// shard.process_multi_index → this rank's coordinate on every grid axis:
/// ringrt_cg_coord for the axis of a role, 0 for axes without one.
struct ProcessMultiIndexLowering : OpRewritePattern<shard::ProcessMultiIndexOp> {
  ProcessMultiIndexLowering(MLIRContext *ctx, KernelCache &cache)
      : OpRewritePattern(ctx), cache(cache) {}
  LogicalResult matchAndRewrite(shard::ProcessMultiIndexOp op,
                                PatternRewriter &rewriter) const override {
    auto abi = getAbiValues(op);
    if (failed(abi))
      return failure();
    FailureOr<AttentionPlan> maybePlan = planOf(rewriter, op);
    if (failed(maybePlan))
      return failure();
    const AttentionPlan &plan = *maybePlan;
    KernelBuilder b(op.getLoc(), rewriter);
    auto ptr = LLVM::LLVMPointerType::get(op.getContext());
    auto coordFn = declareAbi(cache, op.getContext(), "ringrt_cg_coord",
                              {ptr, b.getI32Type()}, {b.getI32Type()});
    SmallVector<int64_t> axes;
    for (auto a : op.getAxes())
      axes.push_back(a);
    if (axes.empty())
      for (int64_t a = 0; a < op->getNumResults(); ++a)
        axes.push_back(a);
    SmallVector<Value> coords;
    for (int64_t axis : axes) {
      Value coord = b.index(0);
      // The attention's roles, and the a2a axis (ringrt_axis A2A).
      for (int role = 0; role <= kNumGridRoles; ++role)
        if ((role < kNumGridRoles ? plan.axisOfRole[role] : plan.a2aAxis) ==
                axis &&
            plan.size(static_cast<GridRole>(role)) > 1) {
          Value c = func::CallOp::create(b, coordFn,
                                         ValueRange{abi->context, b.i32(role)})
                        .getResult(0);
          coord = arith::IndexCastOp::create(b, b.getIndexType(), c);
        }
      coords.push_back(coord);
    }
    rewriter.replaceOp(op, coords);
    return success();
  }
  KernelCache &cache;
};

} // namespace

void mlir::ring::cpu::populateRingToCPUPatterns(RewritePatternSet &patterns,
                                                KernelCache &kernels,
                                                const RingToCPUOptions &options) {
  MLIRContext *ctx = patterns.getContext();
  KernelCache *cache = &kernels;
  int64_t queryTile = options.queryTile;
  patterns.add<StageLowering>(ctx);
  patterns.add<KernelCallLowering<BlockAttentionOp>>(
      ctx, [cache, queryTile](BlockAttentionOp op) {
        return getBlockAttentionKernel(*cache, op, queryTile);
      });
  patterns.add<KernelCallLowering<BlockAttentionAccumulateOp>>(
      ctx, [cache, queryTile](BlockAttentionAccumulateOp op) {
        return getBlockAttentionKernel(*cache, op, queryTile);
      });
  patterns.add<KernelCallLowering<FillPartialOp>>(
      ctx, [cache](FillPartialOp op) { return getFillPartialKernel(*cache, op); });
  patterns.add<KernelCallLowering<MergeOp>>(
      ctx, [cache](MergeOp op) { return getMergeKernel(*cache, op); });
  patterns.add<KernelCallLowering<FinalizeOp>>(
      ctx, [cache](FinalizeOp op) { return getFinalizeKernel(*cache, op); });
  patterns.add<KernelCallLowering<BlockScoresOp>>(
      ctx, [cache](BlockScoresOp op) { return getBlockScoresKernel(*cache, op); });
  patterns.add<KernelCallLowering<BlockSoftmaxVOp>>(
      ctx, [cache](BlockSoftmaxVOp op) {
        return getBlockSoftmaxVKernel(*cache, op);
      });
  // The backward pass (RingGradOps.td).
  patterns.add<KernelCallLowering<ZeroOp>>(
      ctx, [cache](ZeroOp op) { return getZeroKernel(*cache, op); });
  patterns.add<KernelCallLowering<AccumulateOp>>(
      ctx, [cache](AccumulateOp op) { return getAccumulateKernel(*cache, op); });
  patterns.add<KernelCallLowering<ConvertOp>>(
      ctx, [cache](ConvertOp op) { return getConvertKernel(*cache, op); });
  patterns.add<KernelCallLowering<SumReplicasOp>>(
      ctx, [cache](SumReplicasOp op) {
        return getSumReplicasKernel(*cache, op);
      });
  patterns.add<KernelCallLowering<GradDeltaOp>>(
      ctx, [cache](GradDeltaOp op) { return getGradDeltaKernel(*cache, op); });
  patterns.add<KernelCallLowering<BlockAttentionBackwardOp>>(
      ctx, [cache](BlockAttentionBackwardOp op) {
        return getBlockAttentionBackwardKernel(*cache, op);
      });
  // The whole layer (RingLayerOps.td).
  patterns.add<KernelCallLowering<ProjectOp>>(
      ctx, [cache](ProjectOp op) { return getProjectKernel(*cache, op); });
  patterns.add<KernelCallLowering<OutProjectOp>>(
      ctx, [cache](OutProjectOp op) { return getOutProjectKernel(*cache, op); });
  patterns.add<AllReduceLowering, AllToAllLowering, OutputAllReduceLowering,
               OutputReduceScatterLowering,
               ShiftLowering, ShiftStartLowering, ProcessMultiIndexLowering>(
      ctx, kernels);
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

namespace {

/// Numbers the shifts of every stage in program order (tags 0..15). The
/// branches of an scf.if (rank-dependent case selection) each start from
/// the count before the if, so that the ranks of a ring, which take
/// different branches, agree on the tags of matching transfers.
void numberShifts(Block &block, llvm::DenseMap<int64_t, int64_t> &counters) {
  Builder b(block.getParentOp()->getContext());
  for (Operation &op : block) {
    if (isa<ShiftOp, ShiftStartOp>(op)) {
      int64_t stage = op.getAttrOfType<IntegerAttr>("stage").getInt();
      op.setAttr(kTagAttr, b.getI32IntegerAttr(counters[stage]++ % 16));
      continue;
    }
    if (isa<scf::IfOp>(op)) {
      llvm::DenseMap<int64_t, int64_t> merged = counters;
      for (Region &region : op.getRegions())
        for (Block &inner : region) {
          llvm::DenseMap<int64_t, int64_t> branch = counters;
          numberShifts(inner, branch);
          for (auto [stage, count] : branch)
            merged[stage] = std::max(merged[stage], count);
        }
      counters = std::move(merged);
      continue;
    }
    for (Region &region : op.getRegions())
      for (Block &inner : region)
        numberShifts(inner, counters);
  }
}

/// Whether `alloc` (in `entry`) is a buffer for the whole call: static,
/// dense, and freed, if at all, in `entry`.
bool isCallLongBuffer(memref::AllocOp alloc, Block &entry) {
  MemRefType type = alloc.getType();
  return type.hasStaticShape() && type.getLayout().isIdentity() &&
         llvm::all_of(alloc->getUsers(), [&](Operation *u) {
           return !isa<memref::DeallocOp>(u) || u->getBlock() == &entry;
         });
}

/// The kernel attribute (i64) counting the trailing scratch arguments that
/// hoistKernelScratch gave it.
constexpr StringLiteral kScratchArgsAttr = "ring.cpu.scratch_args";

/// Moves the scratch buffers that the kernels `fn` calls allocate for each
/// call (tiles of K, widened V, query rows...) into `fn`: each kernel takes
/// them as trailing memref arguments instead, and `fn` allocates one set
/// per kernel in its entry block, shared by every call of that kernel
/// (calls run one after the other), which assignWorkspace then places in
/// the workspace. So a kernel call mallocs nothing.
void hoistKernelScratch(func::FuncOp fn) {
  Block &body = fn.getBody().front();
  OpBuilder top = OpBuilder::atBlockBegin(&body);
  llvm::DenseMap<Operation *, SmallVector<Value>> scratchOf;
  SmallVector<func::CallOp> calls;
  fn.walk([&](func::CallOp call) { calls.push_back(call); });
  auto module = fn->getParentOfType<ModuleOp>();
  for (func::CallOp call : calls) {
    auto kernel = module.lookupSymbol<func::FuncOp>(call.getCallee());
    if (!kernel || kernel.isExternal())
      continue;
    if (!kernel->hasAttr(kScratchArgsAttr)) {
      Block &entry = kernel.getBody().front();
      SmallVector<memref::AllocOp> allocs;
      for (auto alloc : entry.getOps<memref::AllocOp>())
        if (isCallLongBuffer(alloc, entry))
          allocs.push_back(alloc);
      for (memref::AllocOp alloc : allocs) {
        unsigned n = kernel.getNumArguments();
        if (failed(kernel.insertArgument(n, alloc.getType(), {},
                                         alloc.getLoc())))
          continue;
        for (Operation *u : llvm::make_early_inc_range(alloc->getUsers()))
          if (isa<memref::DeallocOp>(u))
            u->erase();
        alloc.getResult().replaceAllUsesWith(kernel.getArgument(n));
        alloc->erase();
      }
      kernel->setAttr(kScratchArgsAttr,
                      top.getI64IntegerAttr(static_cast<int64_t>(allocs.size())));
    }
    int64_t extra = kernel->getAttrOfType<IntegerAttr>(kScratchArgsAttr).getInt();
    if (extra == 0)
      continue;
    auto [it, fresh] = scratchOf.try_emplace(kernel.getOperation());
    if (fresh) {
      unsigned first = kernel.getNumArguments() - extra;
      for (unsigned i = first; i < kernel.getNumArguments(); ++i)
        it->second.push_back(memref::AllocOp::create(
            top, fn.getLoc(),
            cast<MemRefType>(kernel.getArgument(i).getType())));
    }
    call->insertOperands(call->getNumOperands(), it->second);
  }
}

/// Brackets every kernel call of `fn` (a callee named ring_cpu_*) with
/// ringrt_cg_kernel_begin/end: while ringrt_device_time_kernels is on they
/// time it on the host clock (ring-run --bench's host overhead is the
/// entry's time minus the kernels'), and otherwise cost two calls and a
/// branch per kernel call (a few per ring stage).
void timeKernelCalls(func::FuncOp fn, KernelCache &cache) {
  SmallVector<func::CallOp> calls;
  fn.walk([&](func::CallOp c) {
    if (c.getCallee().starts_with("ring_cpu_"))
      calls.push_back(c);
  });
  if (calls.empty())
    return;
  MLIRContext *ctx = fn.getContext();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto i64 = IntegerType::get(ctx, 64);
  func::FuncOp begin =
      declareAbi(cache, ctx, "ringrt_cg_kernel_begin", {ptr}, {i64});
  func::FuncOp end = declareAbi(cache, ctx, "ringrt_cg_kernel_end", {ptr, i64});
  Value context = fn.getArgument(0);
  for (func::CallOp c : calls) {
    OpBuilder b(c);
    Value start =
        func::CallOp::create(b, c.getLoc(), begin, ValueRange{context})
            .getResult(0);
    b.setInsertionPointAfter(c);
    func::CallOp::create(b, c.getLoc(), end, ValueRange{context, start});
  }
}

/// Frees, before every return, the buffers the function allocates in its
/// entry block and does not free itself.
void freeLocalBuffers(func::FuncOp fn) {
  SmallVector<memref::AllocOp> allocs;
  for (auto alloc : fn.getBody().front().getOps<memref::AllocOp>())
    if (llvm::none_of(alloc->getUsers(),
                      [](Operation *u) { return isa<memref::DeallocOp>(u); }))
      allocs.push_back(alloc);
  fn.walk([&](func::ReturnOp ret) {
    OpBuilder b(ret);
    for (auto alloc : allocs)
      memref::DeallocOp::create(b, ret.getLoc(), alloc);
  });
}

struct ConvertRingToCPUPass
    : public mlir::ring::impl::ConvertRingToCPUPassBase<ConvertRingToCPUPass> {
  using ConvertRingToCPUPassBase::ConvertRingToCPUPassBase;

  /// Lowers the per-rank function `fn` with the kernels of `cache` (one
  /// ISA variant's); the entry point is added by the caller.
  LogicalResult lowerPerRank(func::FuncOp fn, KernelCache &cache,
                             int64_t tile) {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    RingToCPUOptions options;
    options.queryTile = tile;
    populateRingToCPUPatterns(patterns, cache, options);
    FrozenRewritePatternSet frozen(std::move(patterns));
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    Location loc = fn.getLoc();
    bool fromGpuLaunch = fn->hasAttr(kAbiAttr);
    // A function already marked (by the GPU target's
    // convert-ring-to-gpu-launch) has the three arguments and its
    // workspace.
    if (!fn->hasAttr(kAbiAttr)) {
      if (failed(fn.insertArguments({0, 0, 0}, {ptr, ptr, ptr}, {{}, {}, {}},
                                    {loc, loc, loc})))
        return fn.emitError("cannot add the context, status and workspace "
                            "arguments");
    }
    fn->setAttr(kAbiAttr, UnitAttr::get(ctx));
    llvm::DenseMap<int64_t, int64_t> counters;
    numberShifts(fn.getBody().front(), counters);

    if (failed(applyPatternsGreedily(fn, frozen)))
      return fn.emitError("convert-ring-to-cpu did not converge");
    bool left = false;
    fn.walk([&](Operation *op) {
      if (isa<RingDialect, shard::ShardDialect>(op->getDialect())) {
        op->emitError() << "'" << op->getName()
                        << "' could not be lowered to the CPU (the CPU "
                           "kernels take static, dense buffers)";
        left = true;
      }
    });
    if (left)
      return failure();
    // (The GPU launch pass has already placed its buffers.)
    if (!fromGpuLaunch) {
      timeKernelCalls(fn, cache);
      hoistKernelScratch(fn);
      if (failed(assignWorkspace(fn, fn.getArgument(2))))
        return failure();
    }
    freeLocalBuffers(fn);
    fn.walk([](Operation *op) { op->removeAttr(kTagAttr); });
    fn->removeAttr(kAbiAttr);
    // The plan names the grid, which has no LLVM translation; nothing
    // after this pass reads it (the artifact writer reads it before).
    fn->removeAttr("ring.plan");
    fn.setPrivate();
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();

    // The ISA variants (CpuVariants.h), best first; none: one set of
    // kernels for the object's CPU with the q-tile option.
    SmallVector<const CpuVariant *> variants;
    SmallVector<StringRef> names;
    StringRef(cpuVariants).split(names, ',', -1, /*KeepEmpty=*/false);
    for (StringRef name : names) {
      const CpuVariant *v = lookupCpuVariant(name.trim());
      if (!v) {
        module.emitError() << "unknown CPU variant '" << name.trim()
                           << "' (known: avx512bf16, avx512, avx2)";
        return signalPassFailure();
      }
      variants.push_back(v);
    }

    SmallVector<func::FuncOp> perRank;
    for (auto fn : module.getOps<func::FuncOp>())
      if (fn->hasAttr("ring.plan") && !fn.isExternal())
        perRank.push_back(fn);

    // Every kernel cache, for the cleanups at the end (a cache per
    // variant; the first also holds the entry's declarations).
    std::vector<std::unique_ptr<KernelCache>> caches;
    caches.push_back(std::make_unique<KernelCache>(
        module, variants.empty() ? nullptr : variants.front()));
    for (size_t i = 1; i < variants.size(); ++i)
      caches.push_back(std::make_unique<KernelCache>(module, variants[i]));

    for (func::FuncOp fn : perRank) {
      auto planAttr = fn->getAttrOfType<PlanAttr>("ring.plan");
      if (!planAttr) {
        fn.emitError("ring.plan must be a #ring.plan attribute");
        return signalPassFailure();
      }
      Operation *early = nullptr;
      fn.walk([&](Operation *op) {
        if (isa<AttentionOp, AttentionLayerOp, LocalAttentionOp,
                LocalAttentionBackwardOp>(op))
          early = op;
      });
      if (early) {
        early->emitError() << "'" << early->getName()
                           << "' must be scheduled (ring-partition, "
                              "ring-schedule, ring-overlap) before "
                              "convert-ring-to-cpu";
        return signalPassFailure();
      }
      // The variants this function's dtype takes (appliesTo), by index
      // into `variants` and `caches`.
      AttentionPlan plan = AttentionPlan::fromAttr(planAttr);
      SmallVector<size_t> active;
      for (auto [i, v] : llvm::enumerate(variants))
        if (appliesTo(*v, plan.elementType))
          active.push_back(i);
      // The other variants are copies of the function, named
      // NAME_<variant>, taken before it is lowered.
      // (drop_begin needs a non-empty range.)
      SmallVector<size_t> others(active.empty() ? active.begin()
                                                : active.begin() + 1,
                                 active.end());
      SmallVector<func::FuncOp> alternates;
      for (size_t i : others) {
        OpBuilder b(fn);
        b.setInsertionPointAfter(fn);
        auto copy = cast<func::FuncOp>(b.clone(*fn));
        std::string copyName =
            (fn.getSymName() + "_" + variants[i]->name).str();
        if (SymbolTable::lookupSymbolIn(module, copyName)) {
          fn.emitError() << "the function '" << copyName
                         << "' already exists in the module";
          return signalPassFailure();
        }
        copy.setSymName(copyName);
        alternates.push_back(copy);
      }
      size_t first = active.empty() ? 0 : active.front();
      if (failed(lowerPerRank(fn, *caches[first],
                              active.empty() ? int64_t(queryTile)
                                             : variants[first]->queryTile)))
        return signalPassFailure();
      SmallVector<CpuVariantFunction> dispatch;
      for (auto [copy, i] : llvm::zip(alternates, others)) {
        if (failed(lowerPerRank(copy, *caches[i], variants[i]->queryTile)))
          return signalPassFailure();
        compileForVariant(copy, *variants[i]);
        dispatch.push_back({variants[i], copy});
      }
      if (!active.empty()) {
        compileForVariant(fn, *variants[first]);
        dispatch.insert(dispatch.begin(), {variants[first], fn});
      }
      if (emitEntry &&
          failed(emitEntryPoint(fn, plan, *caches[0], hostFeatures,
                                dispatch)))
        return signalPassFailure();
    }

    // The grids are no longer referenced.
    for (auto grid : llvm::make_early_inc_range(module.getOps<shard::GridOp>()))
      if (SymbolTable::symbolKnownUseEmpty(grid, module))
        grid.erase();

    // exp and log as polynomial approximations, which vectorize (LLVM would
    // otherwise scalarize vector exp into libm calls).
    RewritePatternSet mathPatterns(ctx);
    populateMathPolynomialApproximationPatterns(mathPatterns);
    FrozenRewritePatternSet frozenMath(std::move(mathPatterns));
    for (auto &cache : caches)
      for (func::FuncOp kernel : cache->all()) {
        kernel->removeAttr(kScratchArgsAttr);
        if (failed(applyPatternsGreedily(kernel, frozenMath)))
          return signalPassFailure();
      }
  }
};

} // namespace
