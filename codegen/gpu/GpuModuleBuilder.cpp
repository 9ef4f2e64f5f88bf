//===- GpuModuleBuilder.cpp - collect and build the kernel module -*- C++ -*-===//
//
// This file implements GpuModuleBuilder: variant collection with
// diagnostics, and the construction of `gpu.module @ringc_kernels` by
// parsing the generated kernel text (verified like any parsed IR) and moving
// it into the program's module.
//
//===----------------------------------------------------------------------===//

#include "codegen/gpu/GpuModuleBuilder.h"
#include "dialect/AttentionPlan.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/Parser/Parser.h"

using namespace mlir;
using namespace mlir::ring;
using namespace mlir::ring::gpu;

/// "bf16", "f16" or "f32" for an element type.
static std::string dtypeOf(Type t) {
  if (t.isBF16())
    return "bf16";
  if (t.isF16())
    return "f16";
  return "f32";
}

/// The padded parts of a block op's layout (its `seq_len`), if any.
template <typename OpTy> static SeqPadding paddingOf(OpTy op) {
  int64_t localSeq = cast<MemRefType>(op.getValue().getType()).getDimSize(2);
  return SeqPadding::of(op.getSeqLen(), op.getRingSize(), localSeq);
}

/// The kernel window of a block op (its global sequence: the local rows of
/// its K/V buffer times the ring size), which with padded parts also
/// rejects the padding rows (KernelWindow).
template <typename OpTy>
static KernelWindow windowOf(OpTy op) {
  int64_t localSeq = cast<MemRefType>(op.getValue().getType()).getDimSize(2);
  return KernelWindow::of(op.getMask() == MaskKind::causal,
                          op.getWindowAttr(),
                          localSeq * static_cast<int64_t>(op.getRingSize()),
                          op.getSeqLen().has_value());
}

/// The most documents of a block op's `docs` operand (max_docs, its
/// memref<N+1xi32>), or 0 without one.
template <typename OpTy> static int64_t maxDocsOf(OpTy op) {
  Value docs = op.getDocuments();
  return docs ? cast<MemRefType>(docs.getType()).getDimSize(0) - 1 : 0;
}

/// The variant of either block op (they share operands and attributes).
template <typename OpTy>
static AttentionKernelConfig attentionConfig(OpTy op, int warpsOverride,
                                             int blockNOverride) {
  auto qTy = cast<MemRefType>(op.getQuery().getType());
  AttentionKernelConfig c;
  c.headDim = qTy.getShape().back();
  c.dtype = dtypeOf(qTy.getElementType());
  c.mask = op.getMask();
  c.layout = op.getLayout();
  c.window = windowOf(op);
  c.padding = paddingOf(op);
  c.maxDocs = maxDocsOf(op);
  c.tiles = defaultAttentionTiles(c.headDim);
  if (warpsOverride > 0)
    c.tiles.warps = warpsOverride;
  if (blockNOverride > 0)
    c.tiles.blockN = blockNOverride;
  return c;
}

AttentionKernelConfig GpuModuleBuilder::configFor(BlockAttentionOp op) const {
  return attentionConfig(op, warpsOverride, blockNOverride);
}

AttentionKernelConfig
GpuModuleBuilder::configFor(BlockAttentionAccumulateOp op) const {
  AttentionKernelConfig c = attentionConfig(op, warpsOverride, blockNOverride);
  c.epilogue = op.getFirst() ? AttentionEpilogue::AccumulateFirst
                             : AttentionEpilogue::Accumulate;
  return c;
}

/// The wgmma variant of either block op.
template <typename OpTy>
static WgmmaAttentionConfig wgmmaConfig(OpTy op, int blockNOverride) {
  auto qTy = cast<MemRefType>(op.getQuery().getType());
  WgmmaAttentionConfig c =
      defaultWgmmaAttentionConfig(qTy.getShape().back());
  c.dtype = dtypeOf(qTy.getElementType());
  c.mask = op.getMask();
  c.layout = op.getLayout();
  c.window = windowOf(op);
  c.padding = paddingOf(op);
  c.maxDocs = maxDocsOf(op);
  if (blockNOverride > 0)
    c.blockN = blockNOverride;
  return c;
}

WgmmaAttentionConfig
GpuModuleBuilder::wgmmaConfigFor(BlockAttentionOp op) const {
  return wgmmaConfig(op, blockNOverride);
}

WgmmaAttentionConfig
GpuModuleBuilder::wgmmaConfigFor(BlockAttentionAccumulateOp op) const {
  WgmmaAttentionConfig c = wgmmaConfig(op, blockNOverride);
  c.epilogue = op.getFirst() ? AttentionEpilogue::AccumulateFirst
                             : AttentionEpilogue::Accumulate;
  return c;
}

BlockScoresKernelConfig GpuModuleBuilder::configFor(BlockScoresOp op) const {
  auto qTy = cast<MemRefType>(op.getQuery().getType());
  BlockScoresKernelConfig c;
  c.sliceDim = qTy.getShape().back();
  c.dtype = dtypeOf(qTy.getElementType());
  return c;
}

SoftmaxVKernelConfig GpuModuleBuilder::configFor(BlockSoftmaxVOp op) const {
  auto vTy = cast<MemRefType>(op.getValue().getType());
  SoftmaxVKernelConfig c;
  c.sliceDim = vTy.getShape().back();
  c.dtype = dtypeOf(vTy.getElementType());
  c.mask = op.getMask();
  c.layout = op.getLayout();
  c.window = windowOf(op);
  c.padding = paddingOf(op);
  c.maxDocs = maxDocsOf(op);
  return c;
}

BackwardKernelConfig
GpuModuleBuilder::configFor(BlockAttentionBackwardOp op) const {
  auto qTy = cast<MemRefType>(op.getQuery().getType());
  // The backward follows the forward's kernel kind (--gpu-kernel): wgmma on
  // sm_90a unless mma.sync is asked for.
  int64_t d = qTy.getShape().back();
  BackwardKernelConfig c = attentionKind == AttentionKernelKind::wgmma
                               ? defaultWgmmaBackwardConfig(d)
                               : defaultBackwardConfig(d);
  c.dtype = dtypeOf(qTy.getElementType());
  c.mask = op.getMask();
  c.layout = op.getLayout();
  c.window = windowOf(op);
  c.padding = paddingOf(op);
  c.maxDocs = maxDocsOf(op);
  if (warpsOverride > 0)
    c.warps = warpsOverride;
  if (blockNOverride > 0)
    c.blockN = blockNOverride;
  return c;
}

SliceBackwardKernelConfig
GpuModuleBuilder::sliceBackwardConfigFor(BlockAttentionBackwardOp op) const {
  auto qTy = cast<MemRefType>(op.getQuery().getType());
  SliceBackwardKernelConfig c;
  c.sliceDim = qTy.getShape().back();
  c.dtype = dtypeOf(qTy.getElementType());
  c.mask = op.getMask();
  c.layout = op.getLayout();
  c.window = windowOf(op);
  c.padding = paddingOf(op);
  c.maxDocs = maxDocsOf(op);
  return c;
}

std::optional<AttentionKernelKind>
GpuModuleBuilder::resolveAttentionKernel(Operation *root, StringRef option,
                                         bool remark, std::string &error) {
  auto kind = selectAttentionKernel(option, target, error);
  if (!kind || *kind != AttentionKernelKind::wgmma ||
      (option != "auto" && !option.empty()))
    return kind;
  // Why `k` cannot generate `op` ("" when it can, or for other ops).
  AttentionKernelKind saved = attentionKind;
  auto whyNot = [&](Operation *op, AttentionKernelKind k) -> std::string {
    attentionKind = k;
    bool wg = k == AttentionKernelKind::wgmma;
    if (auto ba = dyn_cast<BlockAttentionOp>(op))
      return wg ? wgmmaConfigFor(ba).validate(target)
                : configFor(ba).validate(target);
    if (auto acc = dyn_cast<BlockAttentionAccumulateOp>(op))
      return wg ? wgmmaConfigFor(acc).validate(target)
                : configFor(acc).validate(target);
    if (auto bw = dyn_cast<BlockAttentionBackwardOp>(op))
      if (!bw.getScores())
        return configFor(bw).validate(target);
    return "";
  };
  // Fall back only when mma.sync takes every block: otherwise the error is
  // the one of the kernel the target would run.
  Operation *fallbackOp = nullptr;
  std::string reason;
  bool mmaTakesAll = true;
  root->walk([&](Operation *op) {
    std::string why = whyNot(op, AttentionKernelKind::wgmma);
    if (!why.empty() && !fallbackOp) {
      fallbackOp = op;
      reason = why;
    }
    if (!whyNot(op, AttentionKernelKind::mma).empty())
      mmaTakesAll = false;
  });
  attentionKind = saved;
  if (!fallbackOp || !mmaTakesAll)
    return kind;
  if (remark)
    fallbackOp->emitRemark("--gpu-kernel=auto on ")
        << target.chip()
        << ": this module runs the mma.sync kernels, because the wgmma "
           "kernels cannot take this block: "
        << reason;
  return AttentionKernelKind::mma;
}

void GpuModuleBuilder::add(const std::string &name,
                           const std::function<std::string()> &text) {
  if (kernelNames.insert(name).second)
    kernels.emplace_back(name, text());
}

GemmKernelConfig GpuModuleBuilder::configFor(ProjectOp op) const {
  GemmKernelConfig c;
  c.kind = GemmKind::Project;
  c.dtype = dtypeOf(
      cast<MemRefType>(op.getInput().getType()).getElementType());
  c.bias = static_cast<bool>(op.getBias());
  // The GEMMs follow the attention kernel's kind (--gpu-kernel): wgmma on
  // sm_90a unless mma.sync is asked for.
  c.wgmma = attentionKind == AttentionKernelKind::wgmma;
  // X [B, Ll, d_model] -> [B, H, Ll, Dl].
  c.setShape(cast<MemRefType>(op.getInput().getType()).getShape().back(),
             cast<MemRefType>(op.getOutput().getType()).getShape().back());
  return c;
}

GemmKernelConfig GpuModuleBuilder::configFor(OutProjectOp op) const {
  GemmKernelConfig c;
  c.kind = GemmKind::OutProject;
  c.dtype = dtypeOf(
      cast<MemRefType>(op.getInput().getType()).getElementType());
  c.wgmma = attentionKind == AttentionKernelKind::wgmma;
  // O [B, H, Ll, Dl] -> the partial [B, Ll, d_model].
  c.setShape(cast<MemRefType>(op.getPartial().getType()).getShape().back(),
             cast<MemRefType>(op.getInput().getType()).getShape().back());
  return c;
}

OutputAllReduceOp mlir::ring::gpu::directOutput(OutProjectOp op) {
  auto fn = op->getParentOfType<func::FuncOp>();
  auto planAttr = fn ? fn->getAttrOfType<PlanAttr>("ring.plan") : PlanAttr();
  if (!planAttr)
    return {};
  AttentionPlan plan = AttentionPlan::fromAttr(planAttr);
  if (plan.headGroups() != 1 || plan.dimSlices() != 1)
    return {};
  OutputAllReduceOp reduce;
  for (Operation *user : op.getPartial().getUsers()) {
    if (user == op.getOperation() ||
        isa<memref::DeallocOp>(user))
      continue;
    auto r = dyn_cast<OutputAllReduceOp>(user);
    if (!r || reduce || r.getPartial() != op.getPartial() ||
        r->getBlock() != op->getBlock() || !op->isBeforeInBlock(r))
      return {};
    reduce = r;
  }
  return reduce;
}

GemmKernelConfig GpuModuleBuilder::configFor(OutputAllReduceOp op) const {
  GemmKernelConfig c;
  c.kind = GemmKind::Finish;
  c.dtype = dtypeOf(
      cast<MemRefType>(op.getOutput().getType()).getElementType());
  c.bias = static_cast<bool>(op.getBias());
  return c;
}

GemmKernelConfig GpuModuleBuilder::configFor(OutputReduceScatterOp op) const {
  GemmKernelConfig c;
  c.kind = GemmKind::ScatterFinish;
  c.dtype = dtypeOf(
      cast<MemRefType>(op.getOutput().getType()).getElementType());
  c.bias = static_cast<bool>(op.getBias());
  return c;
}

GemmKernelConfig GpuModuleBuilder::qkvConfigFor(ProjectOp op) const {
  GemmKernelConfig c = configFor(op);
  c.kind = GemmKind::ProjectQKV;
  return c;
}

SmallVector<ProjectOp, 3> mlir::ring::gpu::qkvGroup(ProjectOp op) {
  SmallVector<ProjectOp, 3> group;
  auto outType = [](ProjectOp p) {
    return cast<MemRefType>(p.getOutput().getType()).getElementType();
  };
  for (Operation *user : op.getInput().getUsers()) {
    auto p = dyn_cast<ProjectOp>(user);
    if (!p || p.getInput() != op.getInput() ||
        p->getBlock() != op->getBlock() || outType(p) != outType(op) ||
        static_cast<bool>(p.getBias()) != static_cast<bool>(op.getBias()) ||
        // Q, K, V share X's rows and the head dim.
        cast<MemRefType>(p.getOutput().getType()).getShape()[3] !=
            cast<MemRefType>(op.getOutput().getType()).getShape()[3])
      return {};
    group.push_back(p);
  }
  if (group.size() != 3)
    return {};
  llvm::sort(group, [](ProjectOp a, ProjectOp b) {
    return a->isBeforeInBlock(b);
  });
  // K and V have the same width (kv heads).
  auto cols = [](ProjectOp p) {
    return cast<MemRefType>(p.getWeight().getType()).getShape()[1];
  };
  if (cols(group[1]) != cols(group[2]))
    return {};
  return group;
}

/// M, N, K of a layer GEMM: rows B·Ll, then N and K per kind.
static std::array<int64_t, 3> gemmShape(Operation *op) {
  auto shape = [](Value v) { return cast<MemRefType>(v.getType()).getShape(); };
  if (auto p = dyn_cast<ProjectOp>(op)) {
    ArrayRef<int64_t> x = shape(p.getInput()), w = shape(p.getWeight());
    return {x[0] * x[1], w[1], w[0]};
  }
  auto o = cast<OutProjectOp>(op);
  ArrayRef<int64_t> in = shape(o.getInput()), w = shape(o.getWeight());
  return {in[0] * in[2], w[1], w[0]};
}

LogicalResult GpuModuleBuilder::collect(Operation *root) {
  bool ok = true;
  auto tag = [&](Operation *op, const std::string &name,
                 const std::function<std::string()> &text) {
    op->setAttr(kKernelAttrName,
                FlatSymbolRefAttr::get(op->getContext(), name));
    add(name, text);
  };
  // Tags `op` with the kernel of `c`, or diagnoses why there is none.
  auto tagVariant = [&](Operation *op, const auto &c, auto write) {
    std::string why = c.validate(target);
    if (!why.empty()) {
      op->emitError("cannot generate a GPU kernel for this block: ") << why;
      ok = false;
      return;
    }
    tag(op, c.kernelName(), [&] { return write(c); });
  };
  root->walk([&](Operation *op) {
    // Packed documents: each kernel kind that does not apply the document
    // mask refuses its `docs` in its config's validate() (maxDocs), rather
    // than ignore it.
    // The kernels take sizes and row indices as i32 (Kernels.h); offsets are
    // computed in i64.
    if (isa<BlockAttentionOp, BlockAttentionAccumulateOp, FillPartialOp,
            MergeOp, FinalizeOp, BlockScoresOp, BlockSoftmaxVOp,
            BlockAttentionBackwardOp, GradDeltaOp>(op))
      for (Value v : op->getOperands())
        if (auto t = dyn_cast<MemRefType>(v.getType()))
          for (int64_t d : t.getShape())
            if (d > INT32_MAX) {
              op->emitError("cannot generate a GPU kernel for this block: "
                            "dimension ")
                  << d << " of " << t
                  << " does not fit the kernels' 32-bit sizes; use more "
                     "ranks";
              ok = false;
              return;
            }
    // Padded parts: the masks form qp − kp from positions within ±3·span
    // (the padding sentinels of Visibility.h), in i32.
    if (auto seqLen = op->getAttrOfType<IntegerAttr>("seq_len")) {
      auto ring = op->getAttrOfType<IntegerAttr>("ring_size");
      auto kv = cast<MemRefType>(op->getOperand(1).getType());
      int64_t span = kv.getDimSize(2) * ring.getInt();
      if (span > INT32_MAX / 6) {
        op->emitError("cannot generate a GPU kernel for this block: the "
                      "padded sequence of ")
            << span << " positions does not fit the kernels' 32-bit mask "
            << "arithmetic (at most " << INT32_MAX / 6
            << " with padded parts); use a length that the layout's parts "
               "divide, or --target=cpu";
        ok = false;
        return;
      }
    }
    const bool wgmma = attentionKind == AttentionKernelKind::wgmma;
    if (auto ba = dyn_cast<BlockAttentionOp>(op)) {
      if (wgmma)
        tagVariant(op, wgmmaConfigFor(ba), writeWgmmaAttentionKernel);
      else
        tagVariant(op, configFor(ba), writeAttentionKernel);
    } else if (auto acc = dyn_cast<BlockAttentionAccumulateOp>(op)) {
      if (wgmma)
        tagVariant(op, wgmmaConfigFor(acc), writeWgmmaAttentionKernel);
      else
        tagVariant(op, configFor(acc), writeAttentionKernel);
    } else if (isa<FillPartialOp>(op)) {
      tag(op, "ringc_fill", [] { return writeFillKernel(); });
    } else if (isa<MergeOp>(op)) {
      tag(op, "ringc_merge", [] { return writeMergeKernel(); });
    } else if (auto fin = dyn_cast<FinalizeOp>(op)) {
      std::string dt = dtypeOf(
          cast<MemRefType>(fin.getOutput().getType()).getElementType());
      tag(op, "ringc_finalize_" + dt,
          [dt] { return writeFinalizeKernel(dt); });
    } else if (auto bs = dyn_cast<BlockScoresOp>(op)) {
      tagVariant(op, configFor(bs), writeBlockScoresKernel);
    } else if (auto sv = dyn_cast<BlockSoftmaxVOp>(op)) {
      tagVariant(op, configFor(sv), writeSoftmaxVKernel);
    } else if (auto bw = dyn_cast<BlockAttentionBackwardOp>(op)) {
      if (bw.getScores()) {
        // Dim slices: the SIMT kernels on the all-reduced scores.
        SliceBackwardKernelConfig c = sliceBackwardConfigFor(bw);
        std::string why = c.validate(target);
        if (!why.empty()) {
          op->emitError("cannot generate a GPU kernel for this block: ")
              << why;
          ok = false;
          return;
        }
        tag(op, c.dqKernelName(),
            [&] { return writeSliceBackwardDqKernel(c); });
        add(c.dkdvKernelName(), [&] { return writeSliceBackwardDkDvKernel(c); });
        return;
      }
      // Tagged with the dQ kernel; the dK/dV kernel of the same variant is
      // launched beside it.
      BackwardKernelConfig c = configFor(bw);
      std::string why = c.validate(target);
      if (!why.empty()) {
        op->emitError("cannot generate a GPU kernel for this block: ") << why;
        ok = false;
        return;
      }
      tag(op, c.dqKernelName(), [&] { return writeBackwardDqKernel(c); });
      add(c.dkdvKernelName(), [&] { return writeBackwardDkDvKernel(c); });
    } else if (isa<ProjectOp, OutProjectOp>(op)) {
      GemmKernelConfig c = isa<ProjectOp>(op)
                               ? configFor(cast<ProjectOp>(op))
                               : configFor(cast<OutProjectOp>(op));
      if (auto o = dyn_cast<OutProjectOp>(op))
        if (OutputAllReduceOp r = directOutput(o)) {
          c.kind = GemmKind::OutProjectY;
          c.bias = static_cast<bool>(r.getBias());
        }
      auto [m, n, k] = gemmShape(op);
      if (std::string why = c.checkShape(m, n, k); !why.empty()) {
        op->emitError("cannot generate a GPU kernel for this projection: ")
            << why;
        ok = false;
        return;
      }
      if (auto p = dyn_cast<ProjectOp>(op); p && !qkvGroup(p).empty())
        c = qkvConfigFor(p);
      tagVariant(op, c, writeGemmKernel);
    } else if (auto ar = dyn_cast<OutputAllReduceOp>(op)) {
      // Written by the output GEMM when there is nothing to reduce.
      bool direct = false;
      for (Operation *u : ar.getPartial().getUsers())
        if (auto o = dyn_cast<OutProjectOp>(u))
          direct |= directOutput(o) == ar;
      if (!direct)
        tagVariant(op, configFor(ar), writeGemmKernel);
    } else if (auto rs = dyn_cast<OutputReduceScatterOp>(op)) {
      tagVariant(op, configFor(rs), writeGemmKernel);
    } else if (isa<ZeroOp>(op)) {
      tag(op, "ringc_zero", [] { return writeZeroKernel(); });
    } else if (auto a = dyn_cast<AccumulateOp>(op)) {
      std::string src = dtypeOf(
          cast<MemRefType>(a.getSource().getType()).getElementType());
      tag(op, accumulateKernelName(src),
          [src] { return writeAccumulateKernel(src); });
    } else if (auto cv = dyn_cast<ConvertOp>(op)) {
      std::string src = dtypeOf(
          cast<MemRefType>(cv.getSource().getType()).getElementType());
      std::string dst = dtypeOf(
          cast<MemRefType>(cv.getDest().getType()).getElementType());
      tag(op, convertKernelName(src, dst),
          [src, dst] { return writeConvertKernel(src, dst); });
    } else if (auto sr = dyn_cast<SumReplicasOp>(op)) {
      std::string dt = dtypeOf(
          cast<MemRefType>(sr.getDest().getType()).getElementType());
      tag(op, sumReplicasKernelName(dt),
          [dt] { return writeSumReplicasKernel(dt); });
    } else if (auto gd = dyn_cast<GradDeltaOp>(op)) {
      std::string dt = dtypeOf(
          cast<MemRefType>(gd.getOutput().getType()).getElementType());
      tag(op, gradDeltaKernelName(dt),
          [dt] { return writeGradDeltaKernel(dt); });
    }
  });
  return success(ok);
}

std::string GpuModuleBuilder::addAttention(const AttentionKernelConfig &c) {
  std::string name = c.kernelName();
  if (kernelNames.insert(name).second)
    kernels.emplace_back(name, writeAttentionKernel(c));
  return name;
}

std::string
GpuModuleBuilder::addWgmmaAttention(const WgmmaAttentionConfig &c) {
  add(c.kernelName(), [&] { return writeWgmmaAttentionKernel(c); });
  return c.kernelName();
}

std::string GpuModuleBuilder::addBlockScores(const BlockScoresKernelConfig &c) {
  add(c.kernelName(), [&] { return writeBlockScoresKernel(c); });
  return c.kernelName();
}

std::string GpuModuleBuilder::addSoftmaxV(const SoftmaxVKernelConfig &c) {
  add(c.kernelName(), [&] { return writeSoftmaxVKernel(c); });
  return c.kernelName();
}

std::string GpuModuleBuilder::addGemm(const GemmKernelConfig &c) {
  add(c.kernelName(), [&] { return writeGemmKernel(c); });
  return c.kernelName();
}

void GpuModuleBuilder::addBackward(const BackwardKernelConfig &c) {
  add(c.dqKernelName(), [&] { return writeBackwardDqKernel(c); });
  add(c.dkdvKernelName(), [&] { return writeBackwardDkDvKernel(c); });
}

void GpuModuleBuilder::addSliceBackward(const SliceBackwardKernelConfig &c) {
  add(c.dqKernelName(), [&] { return writeSliceBackwardDqKernel(c); });
  add(c.dkdvKernelName(), [&] { return writeSliceBackwardDkDvKernel(c); });
}

void GpuModuleBuilder::addGradRowKernels(StringRef dtype) {
  add("ringc_zero", [] { return writeZeroKernel(); });
  add(accumulateKernelName("f32"), [] { return writeAccumulateKernel("f32"); });
  add(accumulateKernelName("bf16"),
      [] { return writeAccumulateKernel("bf16"); });
  add(convertKernelName("f32", dtype),
      [&] { return writeConvertKernel("f32", dtype); });
  add(convertKernelName("f32", "bf16"),
      [] { return writeConvertKernel("f32", "bf16"); });
  add(gradDeltaKernelName(dtype), [&] { return writeGradDeltaKernel(dtype); });
}

void GpuModuleBuilder::addRowKernels(StringRef dtype) {
  std::pair<std::string, std::string> rows[] = {
      {"ringc_fill", writeFillKernel()},
      {"ringc_merge", writeMergeKernel()},
      {"ringc_finalize_" + dtype.str(), writeFinalizeKernel(dtype)}};
  for (auto &k : rows)
    if (kernelNames.insert(k.first).second)
      kernels.push_back(std::move(k));
}

std::string GpuModuleBuilder::moduleText() const {
  std::string s = "gpu.module @" + kKernelModuleName.str() + " [" +
                  target.targetAttrText() + "] {\n";
  // Dynamic shared memory of every kernel (`.extern .shared` in PTX).
  s += "  llvm.mlir.global external @ringc_smem() {addr_space = 3 : i32, "
       "alignment = 16 : i64} : !llvm.array<0 x i8>\n";
  for (const auto &k : kernels)
    s += k.second;
  return s + "}\n";
}

LogicalResult GpuModuleBuilder::build(ModuleOp module) {
  MLIRContext *ctx = module.getContext();
  OwningOpRef<ModuleOp> parsed =
      parseSourceString<ModuleOp>(moduleText(), ParserConfig(ctx));
  if (!parsed)
    return module.emitError("internal error: the generated GPU kernels do "
                            "not parse (see the diagnostics above)");
  if (auto old = module.lookupSymbol<mlir::gpu::GPUModuleOp>(
          kKernelModuleName))
    old.erase();
  module->setAttr(mlir::gpu::GPUDialect::getContainerModuleAttrName(),
                  UnitAttr::get(ctx));
  auto gm = *parsed->getOps<mlir::gpu::GPUModuleOp>().begin();
  gm->moveBefore(module.getBody(), module.getBody()->end());
  return success();
}
