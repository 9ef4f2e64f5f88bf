//===- ring-gpu-kernel.cpp - generate one GPU kernel variant ----*- C++ -*-===//
//
// This file implements `ring-gpu-kernel`, a developer tool of the GPU
// target: it generates one kernel variant (--kernel: the block-attention
// kernel, or the dim-slice kernels block_scores / block_softmax_v, with
// --head-dim the slice width, or the whole layer's GEMMs), plus the fp32
// row kernels, into
// `gpu.module @ringc_kernels`, lowers it with the
// target's pipeline and prints the MLIR (--emit=mlir), the lowered MLIR
// (--emit=llvm) or the PTX (--emit=ptx). The ptxas matrix of the lit suite
// and the emulator block checks use it.
//
//===----------------------------------------------------------------------===//

#include "codegen/gpu/GpuModuleBuilder.h"
#include "codegen/gpu/PtxSerializer.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"

using namespace mlir;
using namespace mlir::ring;
using namespace mlir::ring::gpu;
namespace cl = llvm::cl;

static cl::opt<std::string> target("target", cl::init("sm_90a"),
                                   cl::desc("sm_90a, sm_80, ..."));
static cl::opt<std::string> ptxVersion("ptx", cl::init(""),
                                       cl::desc("PTX version (ptx80)"));
static cl::opt<std::string> dtype("dtype", cl::init("bf16"),
                                  cl::desc("bf16, f16 (f32 is rejected)"));
static cl::opt<int> headDim("head-dim", cl::init(64), cl::desc("D"));
static cl::opt<std::string> mask("mask", cl::init("none"),
                                 cl::desc("none or causal"));
static cl::opt<std::string> layout("layout", cl::init("none"),
                                   cl::desc("none, zigzag or striped"));
static cl::opt<int> warps("warps", cl::init(0), cl::desc("warps per CTA"));
static cl::opt<int> blockN("block-n", cl::init(0), cl::desc("keys per tile"));
static cl::opt<std::string>
    kernel("kernel", cl::init("attention"),
           cl::desc("attention, block_scores, block_softmax_v, backward "
                    "(the dQ and dK/dV kernels of the backward pass, its "
                    "dim-slice kernels with --head-dim the slice width, and "
                    "its elementwise kernels) or layer (the whole layer's "
                    "projection GEMMs and Y kernel, with and without bias; the wgmma GEMMs with --gpu-kernel=wgmma)"));
static cl::opt<std::string> gpuKernel(
    "gpu-kernel", cl::init("mma"),
    cl::desc("block-attention kernel: mma (mma.sync, any sm_80+), wgmma "
             "(sm_90a: TMA + wgmma, warp-specialized; with --kernel=backward "
             "the wgmma backward kernels) or auto"));
static cl::opt<int> stages("stages", cl::init(0),
                           cl::desc("K/V stages of the wgmma kernel"));
static cl::opt<bool> pingPong("ping-pong", cl::init(true),
                              cl::desc("wgmma kernel: consumer ping-pong"));
static cl::opt<std::string> epilogue(
    "epilogue", cl::init("partial"),
    cl::desc("attention epilogue: partial (ring.block_attention), acc or "
             "acc_first (ring.block_attention_accumulate, fused merge)"));
static cl::opt<int64_t>
    seqLen("seq-len", cl::init(0),
           cl::desc("global sequence length of a layout with padded parts "
                    "(the block op's seq_len; 0: none)"));
static cl::opt<int64_t> ringSize("ring-size", cl::init(1),
                                 cl::desc("ring size, with --seq-len"));
static cl::opt<int64_t> maxDocs(
    "max-docs", cl::init(0),
    cl::desc("packed documents: the kernels take cu_seqlens of max_docs + 1 "
             "boundaries and mask each key to its query's document (0: "
             "none)"));
static cl::opt<int64_t> dModel(
    "d-model", cl::init(0),
    cl::desc("--kernel=layer: the layer's d_model, with --head-dim as the "
             "local head_dim; unless both are multiples of 8, the "
             "element-wise GEMMs (0: the chunked GEMMs)"));
static cl::opt<std::string> emit("emit", cl::init("ptx"),
                                 cl::desc("mlir, llvm or ptx"));

static int fail(const llvm::Twine &msg) {
  llvm::WithColor::error(llvm::errs(), "ring-gpu-kernel") << msg << "\n";
  return 1;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv, "generate one GPU kernel variant\n");
  std::string error;
  auto info = TargetInfo::get(target, ptxVersion, error);
  if (!info)
    return fail(error);
  AttentionKernelConfig c;
  c.headDim = headDim;
  c.dtype = dtype;
  auto m = symbolizeMaskKind(mask);
  auto l = symbolizeBalance(layout);
  if (!m || !l)
    return fail("bad --mask or --layout");
  c.mask = *m;
  c.layout = *l;
  c.tiles = defaultAttentionTiles(headDim);
  if (seqLen < 0 || ringSize < 1)
    return fail("bad --seq-len or --ring-size (seq-len >= 0, ring-size >= 1)");
  if (seqLen > 0) {
    // The buffers' rows of the padded layout (ringrt/Layout.h), and the
    // window side that masks the padding rows (Kernels.h).
    int64_t parts = c.layout == Balance::zigzag ? 2 * ringSize : ringSize;
    int64_t per = (seqLen + parts - 1) / parts;
    int64_t localRows = c.layout == Balance::zigzag ? 2 * per : per;
    c.padding = SeqPadding::of(static_cast<uint64_t>(seqLen), ringSize,
                               localRows);
    c.window = KernelWindow::of(c.mask == MaskKind::causal, WindowAttr(),
                                c.padding.span, /*padded=*/true);
  }
  if (maxDocs < 0)
    return fail("bad --max-docs (>= 0)");
  c.maxDocs = maxDocs;
  if (warps > 0)
    c.tiles.warps = warps;
  if (blockN > 0)
    c.tiles.blockN = blockN;
  if (epilogue == "acc")
    c.epilogue = AttentionEpilogue::Accumulate;
  else if (epilogue == "acc_first")
    c.epilogue = AttentionEpilogue::AccumulateFirst;
  else if (epilogue != "partial")
    return fail("bad --epilogue '" + epilogue +
                "' (partial, acc or acc_first)");
  BlockScoresKernelConfig scores;
  scores.sliceDim = headDim;
  scores.dtype = dtype;
  SoftmaxVKernelConfig softmax;
  softmax.sliceDim = headDim;
  softmax.dtype = dtype;
  softmax.mask = c.mask;
  softmax.layout = c.layout;
  softmax.padding = c.padding;
  softmax.window = c.window;
  softmax.maxDocs = c.maxDocs;
  auto kind = selectAttentionKernel(gpuKernel, *info, error);
  if (!kind)
    return fail(error);
  WgmmaAttentionConfig wc = defaultWgmmaAttentionConfig(headDim);
  wc.dtype = dtype;
  wc.mask = c.mask;
  wc.layout = c.layout;
  wc.padding = c.padding;
  wc.window = c.window;
  wc.maxDocs = c.maxDocs;
  if (blockN > 0)
    wc.blockN = blockN;
  if (stages > 0)
    wc.stages = stages;
  wc.pingPong = pingPong;
  wc.epilogue = c.epilogue;
  BackwardKernelConfig bwd = *kind == AttentionKernelKind::wgmma
                                 ? defaultWgmmaBackwardConfig(headDim)
                                 : defaultBackwardConfig(headDim);
  bwd.dtype = dtype;
  bwd.mask = c.mask;
  bwd.layout = c.layout;
  bwd.padding = c.padding;
  bwd.window = c.window;
  bwd.maxDocs = c.maxDocs;
  if (warps > 0)
    bwd.warps = warps;
  if (blockN > 0)
    bwd.blockN = blockN;
  SliceBackwardKernelConfig sliceBwd;
  sliceBwd.sliceDim = headDim;
  sliceBwd.dtype = dtype;
  sliceBwd.mask = c.mask;
  sliceBwd.layout = c.layout;
  sliceBwd.padding = c.padding;
  sliceBwd.window = c.window;
  sliceBwd.maxDocs = c.maxDocs;
  bool wgmma = kernel == "attention" && *kind == AttentionKernelKind::wgmma;
  std::string why;
  if (wgmma)
    why = wc.validate(*info);
  else if (kernel == "attention")
    why = c.validate(*info);
  else if (kernel == "block_scores")
    why = scores.validate(*info);
  else if (kernel == "block_softmax_v")
    why = softmax.validate(*info);
  else if (kernel == "backward") {
    why = bwd.validate(*info);
    if (why.empty())
      why = sliceBwd.validate(*info);
  } else if (kernel == "layer") {
    GemmKernelConfig g;
    g.dtype = dtype;
    g.wgmma = *kind == AttentionKernelKind::wgmma;
    why = g.validate(*info);
  } else
    return fail("bad --kernel '" + kernel + "'");
  if (!why.empty())
    return fail(why);

  DialectRegistry registry;
  registerAllDialects(registry);
  registerGpuTargetDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  OwningOpRef<ModuleOp> module = ModuleOp::create(UnknownLoc::get(&ctx));
  GpuModuleBuilder builder(*info);
  if (wgmma)
    builder.addWgmmaAttention(wc);
  else if (kernel == "attention")
    builder.addAttention(c);
  else if (kernel == "block_scores")
    builder.addBlockScores(scores);
  else if (kernel == "backward") {
    builder.addBackward(bwd);
    builder.addSliceBackward(sliceBwd);
    builder.addGradRowKernels(dtype);
  } else if (kernel == "layer") {
    for (GemmKind k : {GemmKind::Project, GemmKind::ProjectQKV,
                       GemmKind::OutProject, GemmKind::OutProjectY,
                       GemmKind::Finish})
      for (bool bias : {false, true}) {
        GemmKernelConfig g;
        g.kind = k;
        g.dtype = dtype;
        g.bias = bias;
        g.wgmma = *kind == AttentionKernelKind::wgmma;
        if (dModel > 0)
          g.setShape(dModel, headDim);
        if (g.validate(*info).empty())
          builder.addGemm(g);
      }
  } else
    builder.addSoftmaxV(softmax);
  builder.addRowKernels(dtype);
  if (failed(builder.build(*module)))
    return 1;
  if (emit != "mlir") {
    PassManager pm(&ctx);
    buildKernelLoweringPipeline(pm);
    if (emit == "ptx")
      buildPtxSerializationPipeline(pm);
    if (failed(pm.run(*module)))
      return 1;
  }
  if (emit == "ptx")
    llvm::outs() << extractPtx(*module, kKernelModuleName);
  else
    module->print(llvm::outs());
  return 0;
}
