//===- ConvertRingToGPULaunch.cpp - kernel launches on the host -*- C++ -*-===//
//
// This file implements `convert-ring-to-gpu-launch`, the host side of the
// GPU target: the PTX of `gpu.binary @ringc_kernels` is embedded as a global
// string, the compute ops of each per-rank function become
// `ringrt_cg_launch` calls that follow the launch ABI of Kernels.h, and the
// function's buffers move to device memory. What remains (shifts, the
// dim-slice all-reduce of the device score buffer, coordinates, the C
// entry) is then lowered by `convert-ring-to-cpu`, which sees the
// `ring.cpu.abi` marker and reuses the context and status arguments added
// here; ringrt_cg_shift_* and ringrt_cg_allreduce_sum_f32 wait for the
// device and stage device buffers through host memory where the
// communicator cannot address them.
//
// This is the explicit launch path, not upstream `gpu-to-llvm` with an
// `mgpu*` wrapper ABI: our kernels are generated as text with `!llvm.ptr`
// parameters (no memref descriptors to unpack), launch by name through one
// ringrt call, and keep the status-cell error convention of the CPU target.
//
//===----------------------------------------------------------------------===//

#include "codegen/gpu/GpuModuleBuilder.h"
#include "codegen/gpu/Passes.h"
#include "codegen/gpu/PtxSerializer.h"
#include "codegen/gpu/TargetInfo.h"
#include "codegen/OutputShares.h"
#include "codegen/Workspace.h"
#include "dialect/AttentionPlan.h"
#include "dialect/RingOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseSet.h"

namespace mlir::ring::gpu {
#define GEN_PASS_DEF_CONVERTRINGTOGPULAUNCHPASS
#include "codegen/gpu/Passes.h.inc"
} // namespace mlir::ring::gpu

using namespace mlir;
using namespace mlir::ring;
using namespace mlir::ring::gpu;

/// The marker convert-ring-to-cpu reads: the function already takes the
/// ringrt context, the status cell and the workspace (device memory) as its
/// first three arguments, and its per-call buffers live in the workspace.
static constexpr StringLiteral kAbiAttr = "ring.cpu.abi";
/// The global holding the PTX text.
static constexpr StringLiteral kPtxGlobal = "ringc_ptx";

namespace {

/// One launch argument: its value and whether it is a pointer.
using ParamList = SmallVector<Value>;

/// Emits the host code of one per-rank function.
class LaunchEmitter {
public:
  LaunchEmitter(ModuleOp module, func::FuncOp fn, const TargetInfo &target,
                int warps, int blockN, AttentionKernelKind kind)
      : module(module), fn(fn), builder(target), ctx(module.getContext()),
        ptrTy(LLVM::LLVMPointerType::get(ctx)) {
    builder.setTileOverrides(warps, blockN);
    builder.setAttentionKernel(kind);
  }

  LogicalResult run();

private:
  // Constants and addresses.
  Value i32(OpBuilder &b, Location loc, int64_t v) {
    return LLVM::ConstantOp::create(b, loc, b.getI32Type(),
                                    b.getI32IntegerAttr(v));
  }
  Value i64(OpBuilder &b, Location loc, int64_t v) {
    return LLVM::ConstantOp::create(b, loc, b.getI64Type(),
                                    b.getI64IntegerAttr(v));
  }
  Value f32(OpBuilder &b, Location loc, double v) {
    return LLVM::ConstantOp::create(b, loc, b.getF32Type(),
                                    b.getF32FloatAttr(static_cast<float>(v)));
  }
  /// An index value as i32.
  Value indexToI32(OpBuilder &b, Location loc, Value v) {
    return arith::IndexCastOp::create(b, loc, b.getI32Type(), v);
  }
  /// The aligned base pointer of a memref.
  Value dataPointer(OpBuilder &b, Location loc, Value memref) {
    Value idx = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, memref);
    Value raw = arith::IndexCastOp::create(b, loc, b.getI64Type(), idx);
    return LLVM::IntToPtrOp::create(b, loc, ptrTy, raw);
  }
  /// The address of a NUL-terminated string constant `@name`.
  Value stringAddress(OpBuilder &b, Location loc, StringRef name,
                      StringRef text);
  /// Declares a ringrt codegen-ABI function (codegen_abi.h).
  func::FuncOp declare(StringRef name, ArrayRef<Type> inputs,
                       ArrayRef<Type> results = {});

  /// Replaces `op` with the launch of its tagged kernel. The first
  /// `byRef` params are pointers to the parameter's bytes themselves (the
  /// 128-byte tensor maps); the rest are values stored in 8-byte slots.
  /// `kernelName` launches that kernel instead of the tagged one, and
  /// leaves `op` in place (an op with two kernels).
  LogicalResult emitLaunch(Operation *op, int64_t gridX, int64_t gridY,
                           int64_t gridZ, int64_t block, int64_t smem,
                           ValueRange params, int64_t byRef = 0,
                           StringRef kernelName = "");
  /// Checks that `op`'s tag is the kernel `name` this pass would launch.
  LogicalResult checkTag(Operation *op, StringRef name);
  /// A 128-byte, 64-byte aligned tensor map of `memref` ([B, H, L, D],
  /// 16-bit elements) with box {64, boxRows}, encoded on the device at run
  /// time (ringrt_cg_tensor_map_3d); returns its address.
  Value tensorMap(OpBuilder &b, Location loc, Value memref, int64_t boxRows);
  LogicalResult lower(BlockAttentionOp op);
  LogicalResult lower(BlockAttentionAccumulateOp op);
  /// ring.sum_replicas: one thread per destination element.
  LogicalResult lower(SumReplicasOp op);
  /// The launch of either block op, writing to `outO`/`outLse` (the
  /// partial or the accumulator; Kernels.h, AttentionEpilogue).
  template <typename OpTy>
  LogicalResult lowerAttention(OpTy op, Value outO, Value outLse);
  /// The same with the sm_90a wgmma kernel (tensor maps for Q, K, V).
  template <typename OpTy>
  LogicalResult lowerWgmma(OpTy op, Value outO, Value outLse);
  LogicalResult lower(BlockScoresOp op);
  LogicalResult lower(BlockSoftmaxVOp op);
  LogicalResult lower(FillPartialOp op);
  LogicalResult lower(MergeOp op);
  LogicalResult lower(FinalizeOp op);
  LogicalResult lower(BlockAttentionBackwardOp op);
  LogicalResult lower(GradDeltaOp op);
  /// The whole layer: the projection GEMMs, and the output all-reduce
  /// (ringrt's axis all-reduce of the device partial, then the kernel that
  /// adds b_o and rounds Y).
  LogicalResult lowerGemm(Operation *op, Value a, Value w, Value bias,
                          Value c, ArrayRef<int64_t> headSide);
  LogicalResult lower(OutputAllReduceOp op);
  /// The reduce-scatter: ringrt's reduce-scatter of the device partial in
  /// place, this rank's share from ringrt, then the kernel that writes it
  /// (+ b_o) to Y.
  LogicalResult lower(OutputReduceScatterOp op);
  /// The three projections of qkvGroup() as one launch (erases them).
  LogicalResult lowerQkv(SmallVector<ProjectOp, 3> group);
  /// ring.zero, ring.accumulate, ring.convert: one thread per element.
  LogicalResult lowerElementwise(Operation *op, ValueRange buffers);
  LogicalResult lower(memref::AllocOp op);
  void lower(memref::DeallocOp op);
  /// Packed documents: for each host cu_seqlens the function's block ops
  /// take (`docs`, a function argument), a buffer of the workspace and its
  /// copy from the host on the call's stream (ringrt_cg_copy_to_device) at
  /// function entry. Call before assignWorkspace, which places the buffer.
  void addDeviceDocuments();
  /// The device copy of a block op's `docs` (an !llvm.ptr), appended to
  /// `params` as the kernels' last parameter when the op has documents.
  void appendDocuments(Value docs, SmallVectorImpl<Value> &params);

  ModuleOp module;
  func::FuncOp fn;
  GpuModuleBuilder builder;
  MLIRContext *ctx;
  Type ptrTy;
  Value context, status, moduleSlot;
  /// Inserts at the start of the entry block, in order.
  std::optional<OpBuilder> entry;
  /// Host cu_seqlens -> its device copy's address (addDeviceDocuments).
  llvm::DenseMap<Value, Value> deviceDocs;
};

Value LaunchEmitter::stringAddress(OpBuilder &b, Location loc, StringRef name,
                                   StringRef text) {
  auto global = module.lookupSymbol<LLVM::GlobalOp>(name);
  if (!global) {
    OpBuilder gb(ctx);
    gb.setInsertionPointToStart(module.getBody());
    std::string value = text.str();
    value.push_back('\0');
    auto type = LLVM::LLVMArrayType::get(IntegerType::get(ctx, 8),
                                         value.size());
    global = LLVM::GlobalOp::create(gb, loc, type, /*isConstant=*/true,
                                    LLVM::Linkage::Internal, name,
                                    gb.getStringAttr(value));
  }
  return LLVM::AddressOfOp::create(b, loc, global);
}

func::FuncOp LaunchEmitter::declare(StringRef name, ArrayRef<Type> inputs,
                                    ArrayRef<Type> results) {
  if (auto f = module.lookupSymbol<func::FuncOp>(name))
    return f;
  OpBuilder b(ctx);
  b.setInsertionPointToStart(module.getBody());
  auto f = func::FuncOp::create(b, module.getLoc(), name,
                                FunctionType::get(ctx, inputs, results));
  f.setPrivate();
  return f;
}

LogicalResult LaunchEmitter::emitLaunch(Operation *op, int64_t gridX,
                                        int64_t gridY, int64_t gridZ,
                                        int64_t block, int64_t smem,
                                        ValueRange params, int64_t byRef,
                                        StringRef kernelName) {
  auto kernel = op->getAttrOfType<FlatSymbolRefAttr>(kKernelAttrName);
  if (kernel && !kernelName.empty())
    kernel = FlatSymbolRefAttr::get(ctx, kernelName);
  if (!kernel)
    return op->emitError("no '") << kKernelAttrName
                                 << "' on the op: run "
                                    "ring-gpu-generate-kernels first";
  // CUDA's grid limits: x up to 2^31 - 1, y and z up to 65535 (the kernels
  // put heads on y and batch on z).
  if (gridX < 1 || gridX > INT32_MAX || gridY < 1 || gridY > 65535 ||
      gridZ < 1 || gridZ > 65535)
    return op->emitError("launch grid ")
           << gridX << "x" << gridY << "x" << gridZ
           << " exceeds CUDA's limits (x <= 2147483647; y = heads per rank "
              "and z = batch must be <= 65535)";
  Location loc = op->getLoc();
  int64_t n = static_cast<int64_t>(params.size());
  // Parameter storage (one 8-byte slot per parameter) and the array of
  // pointers to it, both at function entry so that no launch in a branch
  // grows the stack.
  Value storage = LLVM::AllocaOp::create(*entry, loc, ptrTy,
                                         entry->getI64Type(),
                                         i64(*entry, loc, n), 8);
  Value array =
      LLVM::AllocaOp::create(*entry, loc, ptrTy, ptrTy, i64(*entry, loc, n), 8);

  OpBuilder b(op);
  for (auto [i, v] : llvm::enumerate(params)) {
    Value slot = v;
    if (static_cast<int64_t>(i) >= byRef) {
      slot = LLVM::GEPOp::create(b, loc, ptrTy, b.getI64Type(), storage,
                                 ArrayRef<LLVM::GEPArg>{int32_t(i)});
      LLVM::StoreOp::create(b, loc, v, slot);
    }
    Value entrySlot = LLVM::GEPOp::create(b, loc, ptrTy, ptrTy, array,
                                          ArrayRef<LLVM::GEPArg>{int32_t(i)});
    LLVM::StoreOp::create(b, loc, slot, entrySlot);
  }
  Type i32Ty = b.getI32Type();
  auto launchFn = declare("ringrt_cg_launch",
                          {ptrTy, ptrTy, ptrTy, ptrTy, i32Ty, i32Ty, i32Ty,
                           i32Ty, i32Ty, i32Ty, i32Ty, ptrTy});
  Value mod = LLVM::LoadOp::create(b, loc, ptrTy, moduleSlot);
  Value name = stringAddress(b, loc, ("ringc_kname_" + kernel.getValue()).str(),
                             kernel.getValue());
  func::CallOp::create(
      b, loc, launchFn,
      ValueRange{context, status, mod, name, i32(b, loc, gridX),
                 i32(b, loc, gridY), i32(b, loc, gridZ), i32(b, loc, block),
                 i32(b, loc, 1), i32(b, loc, 1), i32(b, loc, smem), array});
  if (kernelName.empty())
    op->erase();
  return success();
}

static ArrayRef<int64_t> shapeOf(Value v) {
  return cast<MemRefType>(v.getType()).getShape();
}

static int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

LogicalResult LaunchEmitter::checkTag(Operation *op, StringRef name) {
  auto tagged = op->getAttrOfType<FlatSymbolRefAttr>(kKernelAttrName);
  if (tagged && tagged.getValue() != name)
    return op->emitError("tagged kernel ")
           << tagged << " does not match this pass's kernel (" << name
           << "); give both passes the same target, warps, block-n and "
              "gpu-kernel";
  return success();
}

Value LaunchEmitter::tensorMap(OpBuilder &b, Location loc, Value memref,
                               int64_t boxRows) {
  ArrayRef<int64_t> shape = shapeOf(memref);
  Type i32Ty = b.getI32Type(), i64Ty = b.getI64Type();
  // 128 bytes at 64-byte alignment, at function entry like the parameter
  // slots.
  Value map = LLVM::AllocaOp::create(
      *entry, loc, ptrTy, LLVM::LLVMArrayType::get(b.getI8Type(), 128),
      i64(*entry, loc, 1), 64);
  bool f16 = cast<MemRefType>(memref.getType()).getElementType().isF16();
  auto encode = declare("ringrt_cg_tensor_map_3d",
                        {ptrTy, ptrTy, ptrTy, ptrTy, i32Ty, i64Ty, i64Ty,
                         i64Ty, i32Ty, i32Ty});
  func::CallOp::create(
      b, loc, encode,
      ValueRange{context, status, map, dataPointer(b, loc, memref),
                 i32(b, loc, f16 ? 1 : 0), i64(b, loc, shape[3]),
                 i64(b, loc, shape[2]), i64(b, loc, shape[0] * shape[1]),
                 i32(b, loc, WgmmaAttentionConfig::kPanelCols),
                 i32(b, loc, boxRows)});
  return map;
}

template <typename OpTy>
LogicalResult LaunchEmitter::lowerWgmma(OpTy op, Value outO, Value outLse) {
  ArrayRef<int64_t> q = shapeOf(op.getQuery()), k = shapeOf(op.getKey()),
                    po = shapeOf(outO);
  ArrayRef<int64_t> qRows = op.getQRows(), kvRows = op.getKvRows();
  WgmmaAttentionConfig config = builder.wgmmaConfigFor(op);
  if (failed(checkTag(op, config.kernelName())))
    return failure();
  OpBuilder b(op);
  Location loc = op.getLoc();
  const double log2e = 1.4426950408889634;
  SmallVector<Value> params = {
      tensorMap(b, loc, op.getQuery(), WgmmaAttentionConfig::kBlockM),
      tensorMap(b, loc, op.getKey(), config.blockN),
      tensorMap(b, loc, op.getValue(), config.blockN),
      dataPointer(b, loc, outO),
      dataPointer(b, loc, outLse),
      i32(b, loc, q[1]),
      i32(b, loc, k[1]),
      i32(b, loc, q[2]),
      i32(b, loc, k[2]),
      i32(b, loc, po[2]),
      i32(b, loc, qRows[0]),
      i32(b, loc, qRows[1]),
      i32(b, loc, kvRows[0]),
      i32(b, loc, kvRows[1]),
      indexToI32(b, loc, op.getQOwner()),
      indexToI32(b, loc, op.getKvOwner()),
      i32(b, loc, op.getRingSize()),
      f32(b, loc, op.getScale().convertToDouble() * log2e)};
  appendDocuments(op.getDocuments(), params);
  return emitLaunch(op, ceilDiv(qRows[1], WgmmaAttentionConfig::kBlockM),
                    q[1], q[0], WgmmaAttentionConfig::kThreads,
                    config.sharedBytes(), params, /*byRef=*/3);
}

template <typename OpTy>
LogicalResult LaunchEmitter::lowerAttention(OpTy op, Value outO,
                                            Value outLse) {
  ArrayRef<int64_t> q = shapeOf(op.getQuery()), k = shapeOf(op.getKey()),
                    po = shapeOf(outO);
  ArrayRef<int64_t> qRows = op.getQRows(), kvRows = op.getKvRows();
  if (qRows[1] == 0) { // no query rows: nothing to compute
    op->erase();
    return success();
  }
  if (builder.attentionKernel() == AttentionKernelKind::wgmma)
    return lowerWgmma(op, outO, outLse);
  AttentionKernelConfig config = builder.configFor(op);
  if (failed(checkTag(op, config.kernelName())))
    return failure();
  OpBuilder b(op);
  Location loc = op.getLoc();
  const double log2e = 1.4426950408889634;
  SmallVector<Value> params = {
      dataPointer(b, loc, op.getQuery()),
      dataPointer(b, loc, op.getKey()),
      dataPointer(b, loc, op.getValue()),
      dataPointer(b, loc, outO),
      dataPointer(b, loc, outLse),
      i32(b, loc, q[1]),
      i32(b, loc, k[1]),
      i32(b, loc, q[2]),
      i32(b, loc, k[2]),
      i32(b, loc, po[2]),
      i32(b, loc, qRows[0]),
      i32(b, loc, qRows[1]),
      i32(b, loc, kvRows[0]),
      i32(b, loc, kvRows[1]),
      indexToI32(b, loc, op.getQOwner()),
      indexToI32(b, loc, op.getKvOwner()),
      i32(b, loc, op.getRingSize()),
      f32(b, loc, op.getScale().convertToDouble() * log2e)};
  appendDocuments(op.getDocuments(), params);
  return emitLaunch(op, ceilDiv(qRows[1], config.tiles.blockM()), q[1], q[0],
                    config.tiles.threads(), config.sharedBytes(), params);
}

LogicalResult LaunchEmitter::lower(BlockAttentionOp op) {
  return lowerAttention(op, op.getPartialOutput(), op.getPartialLse());
}

LogicalResult LaunchEmitter::lower(BlockAttentionAccumulateOp op) {
  return lowerAttention(op, op.getAccOutput(), op.getAccLse());
}

LogicalResult LaunchEmitter::lower(BlockScoresOp op) {
  ArrayRef<int64_t> q = shapeOf(op.getQuery()), k = shapeOf(op.getKey()),
                    s = shapeOf(op.getScores());
  ArrayRef<int64_t> qRows = op.getQRows(), kvRows = op.getKvRows();
  if (qRows[1] == 0 || kvRows[1] == 0) { // nothing to compute
    op->erase();
    return success();
  }
  BlockScoresKernelConfig config = builder.configFor(op);
  OpBuilder b(op);
  Location loc = op.getLoc();
  SmallVector<Value> params = {
      dataPointer(b, loc, op.getQuery()), dataPointer(b, loc, op.getKey()),
      dataPointer(b, loc, op.getScores()), i32(b, loc, q[1]),
      i32(b, loc, k[1]), i32(b, loc, q[2]), i32(b, loc, k[2]),
      i32(b, loc, s[2]), i32(b, loc, s[3]), i32(b, loc, qRows[0]),
      i32(b, loc, qRows[1]), i32(b, loc, kvRows[0]), i32(b, loc, kvRows[1])};
  int64_t tiles = ceilDiv(qRows[1], config.blockM()) *
                  ceilDiv(kvRows[1], config.kBlockN);
  return emitLaunch(op, tiles, q[1], q[0], config.threads(),
                    config.sharedBytes(), params);
}

LogicalResult LaunchEmitter::lower(BlockSoftmaxVOp op) {
  ArrayRef<int64_t> s = shapeOf(op.getScores()), v = shapeOf(op.getValue()),
                    po = shapeOf(op.getPartialOutput());
  ArrayRef<int64_t> qRows = op.getQRows(), kvRows = op.getKvRows();
  if (qRows[1] == 0) { // no query rows: nothing to compute
    op->erase();
    return success();
  }
  SoftmaxVKernelConfig config = builder.configFor(op);
  OpBuilder b(op);
  Location loc = op.getLoc();
  const double log2e = 1.4426950408889634;
  SmallVector<Value> params = {
      dataPointer(b, loc, op.getScores()),
      dataPointer(b, loc, op.getValue()),
      dataPointer(b, loc, op.getPartialOutput()),
      dataPointer(b, loc, op.getPartialLse()),
      i32(b, loc, po[1]),
      i32(b, loc, v[1]),
      i32(b, loc, v[2]),
      i32(b, loc, s[2]),
      i32(b, loc, s[3]),
      i32(b, loc, po[2]),
      i32(b, loc, qRows[0]),
      i32(b, loc, qRows[1]),
      i32(b, loc, kvRows[0]),
      i32(b, loc, kvRows[1]),
      indexToI32(b, loc, op.getQOwner()),
      indexToI32(b, loc, op.getKvOwner()),
      i32(b, loc, op.getRingSize()),
      f32(b, loc, op.getScale().convertToDouble() * log2e)};
  appendDocuments(op.getDocuments(), params);
  return emitLaunch(op, ceilDiv(qRows[1], config.kWarps), po[1], po[0],
                    config.threads(), 0, params);
}

LogicalResult LaunchEmitter::lower(FillPartialOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  ArrayRef<int64_t> o = shapeOf(op.getOutput());
  int64_t rows = cast<MemRefType>(op.getLse().getType()).getNumElements();
  SmallVector<Value> params = {dataPointer(b, loc, op.getOutput()),
                               dataPointer(b, loc, op.getLse()),
                               i32(b, loc, rows), i32(b, loc, o.back())};
  return emitLaunch(op, ceilDiv(rows, kRowKernelThreads), 1, 1,
                    kRowKernelThreads, 0, params);
}

LogicalResult LaunchEmitter::lower(MergeOp op) {
  ArrayRef<int64_t> po = shapeOf(op.getPartialOutput()),
                    ao = shapeOf(op.getAccOutput());
  ArrayRef<int64_t> rows = op.getRows();
  if (rows[1] == 0) {
    op->erase();
    return success();
  }
  OpBuilder b(op);
  Location loc = op.getLoc();
  int64_t bh = po[0] * po[1];
  SmallVector<Value> params = {
      dataPointer(b, loc, op.getPartialOutput()),
      dataPointer(b, loc, op.getPartialLse()),
      dataPointer(b, loc, op.getAccOutput()),
      dataPointer(b, loc, op.getAccLse()),
      i32(b, loc, bh),
      i32(b, loc, po[2]),
      i32(b, loc, ao[2]),
      i32(b, loc, rows[0]),
      i32(b, loc, rows[1]),
      i32(b, loc, po.back())};
  return emitLaunch(op, ceilDiv(bh * rows[1], kRowKernelThreads), 1, 1,
                    kRowKernelThreads, 0, params);
}

LogicalResult LaunchEmitter::lower(FinalizeOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  ArrayRef<int64_t> ao = shapeOf(op.getAccOutput());
  int64_t rows = cast<MemRefType>(op.getAccLse().getType()).getNumElements();
  SmallVector<Value> params = {dataPointer(b, loc, op.getAccOutput()),
                               dataPointer(b, loc, op.getAccLse()),
                               dataPointer(b, loc, op.getOutput()),
                               dataPointer(b, loc, op.getLse()),
                               i32(b, loc, rows), i32(b, loc, ao.back())};
  return emitLaunch(op, ceilDiv(rows, kRowKernelThreads), 1, 1,
                    kRowKernelThreads, 0, params);
}

LogicalResult LaunchEmitter::lower(BlockAttentionBackwardOp op) {
  ArrayRef<int64_t> q = shapeOf(op.getQuery()), k = shapeOf(op.getKey());
  ArrayRef<int64_t> qRows = op.getQRows(), kvRows = op.getKvRows();
  if (qRows[1] == 0 || kvRows[1] == 0) { // no visible pair
    op->erase();
    return success();
  }
  // The mma.sync kernels, or with dim slices (scores given) the SIMT ones;
  // their parameter lists differ only in the score buffers (Kernels.h).
  const bool slices = static_cast<bool>(op.getScores());
  std::string dq, dkdv;
  int64_t rowsPerCta, threads, smem;
  if (slices) {
    SliceBackwardKernelConfig c = builder.sliceBackwardConfigFor(op);
    dq = c.dqKernelName();
    dkdv = c.dkdvKernelName();
    rowsPerCta = c.kWarps;
    threads = c.threads();
    smem = 0;
  } else {
    BackwardKernelConfig c = builder.configFor(op);
    dq = c.dqKernelName();
    dkdv = c.dkdvKernelName();
    rowsPerCta = 16 * c.warps;
    threads = 32 * c.warps;
    smem = c.sharedBytes();
  }
  if (failed(checkTag(op, dq)))
    return failure();
  OpBuilder b(op);
  Location loc = op.getLoc();
  const double log2e = 1.4426950408889634;
  double scale = op.getScale().convertToDouble();
  SmallVector<Value> buffers = {op.getQuery(), op.getKey()};
  if (!slices)
    buffers.push_back(op.getValue());
  buffers.append({op.getGradOutput(), op.getLse(), op.getDelta()});
  if (slices)
    buffers.append({op.getScores(), op.getScoreGrad()});
  buffers.append({op.getGradQuery(), op.getGradKey(), op.getGradValue()});
  SmallVector<int64_t> sizes = {q[1], k[1], q[2], k[2]};
  if (slices) {
    ArrayRef<int64_t> sc = shapeOf(op.getScores());
    sizes.append({sc[2], sc[3]});
  }
  sizes.append({qRows[0], qRows[1], kvRows[0], kvRows[1]});
  SmallVector<Value> params;
  for (Value v : buffers)
    params.push_back(dataPointer(b, loc, v));
  for (int64_t v : sizes)
    params.push_back(i32(b, loc, v));
  params.push_back(indexToI32(b, loc, op.getQOwner()));
  params.push_back(indexToI32(b, loc, op.getKvOwner()));
  params.push_back(i32(b, loc, op.getRingSize()));
  params.push_back(f32(b, loc, scale * log2e));
  params.push_back(f32(b, loc, scale));
  appendDocuments(op.getDocuments(), params);
  // dK/dV first, then dQ (which erases the op); both on the same stream.
  if (failed(emitLaunch(op, ceilDiv(kvRows[1], rowsPerCta), k[1], k[0],
                        threads, smem, params, /*byRef=*/0, dkdv)))
    return failure();
  return emitLaunch(op, ceilDiv(qRows[1], rowsPerCta), q[1], q[0], threads,
                    smem, params);
}

LogicalResult LaunchEmitter::lower(GradDeltaOp op) {
  ArrayRef<int64_t> o = shapeOf(op.getOutput());
  int64_t rows = o[0] * o[1] * o[2];
  OpBuilder b(op);
  Location loc = op.getLoc();
  SmallVector<Value> params = {dataPointer(b, loc, op.getOutput()),
                               dataPointer(b, loc, op.getGradOutput()),
                               dataPointer(b, loc, op.getDelta()),
                               i64(b, loc, rows), i64(b, loc, o[3])};
  return emitLaunch(op, ceilDiv(rows, kRowKernelThreads), 1, 1,
                    kRowKernelThreads, 0, params);
}

LogicalResult LaunchEmitter::lower(SumReplicasOp op) {
  auto dt = cast<MemRefType>(op.getDest().getType());
  int64_t n = dt.getNumElements(), dim = dt.getDimSize(3);
  OpBuilder b(op);
  Location loc = op->getLoc();
  // The elements per head to write: the a2a share's rows (`rows`) or all.
  Value limit =
      op.getRows()
          ? LLVM::MulOp::create(
                b, loc,
                arith::IndexCastOp::create(b, loc, b.getI64Type(), op.getRows()),
                i64(b, loc, dim))
                .getResult()
          : i64(b, loc, dt.getDimSize(2) * dim);
  SmallVector<Value> params = {dataPointer(b, loc, op.getSource()),
                               dataPointer(b, loc, op.getDest()),
                               i64(b, loc, n),
                               i64(b, loc, dt.getDimSize(2) * dim),
                               i64(b, loc, op.getReplicas()), limit};
  return emitLaunch(op, ceilDiv(n, kRowKernelThreads), 1, 1,
                    kRowKernelThreads, 0, params);
}

LogicalResult LaunchEmitter::lowerGemm(Operation *op, Value a, Value w,
                                       Value bias, Value c,
                                       ArrayRef<int64_t> headSide) {
  // headSide is the [B, H, Ll, Dl] operand (C of ring.project, A of
  // ring.out_project); W is [K, N].
  ArrayRef<int64_t> ws = shapeOf(w);
  int64_t m = headSide[0] * headSide[2], n = ws[1], k = ws[0];
  OpBuilder b(op);
  Location loc = op->getLoc();
  Value biasPtr = bias ? dataPointer(b, loc, bias)
                       : LLVM::ZeroOp::create(b, loc, ptrTy).getResult();
  SmallVector<Value> params = {
      dataPointer(b, loc, a), dataPointer(b, loc, w), biasPtr,
      dataPointer(b, loc, c), i32(b, loc, m), i32(b, loc, n), i32(b, loc, k),
      i32(b, loc, headSide[2]), i32(b, loc, headSide[1]),
      i32(b, loc, headSide[3])};
  GemmKernelConfig config = isa<ProjectOp>(op)
                                ? builder.configFor(cast<ProjectOp>(op))
                                : builder.configFor(cast<OutProjectOp>(op));
  return emitLaunch(op, ceilDiv(n, config.blockN()), ceilDiv(m, config.kBlockM),
                    1, config.threads(), config.sharedBytes(), params);
}

LogicalResult LaunchEmitter::lowerQkv(SmallVector<ProjectOp, 3> group) {
  ProjectOp q = group[0];
  ArrayRef<int64_t> qs = shapeOf(q.getOutput()), ks = shapeOf(group[1].getOutput());
  int64_t m = qs[0] * qs[2], nq = shapeOf(q.getWeight())[1],
          nkv = shapeOf(group[1].getWeight())[1],
          k = shapeOf(q.getWeight())[0];
  OpBuilder b(q);
  Location loc = q.getLoc();
  SmallVector<Value> params = {dataPointer(b, loc, q.getInput())};
  for (ProjectOp p : group)
    params.push_back(dataPointer(b, loc, p.getWeight()));
  for (ProjectOp p : group)
    params.push_back(p.getBias()
                         ? dataPointer(b, loc, p.getBias())
                         : LLVM::ZeroOp::create(b, loc, ptrTy).getResult());
  for (ProjectOp p : group)
    params.push_back(dataPointer(b, loc, p.getOutput()));
  for (int64_t v : {m, nq, nkv, k, qs[2], qs[1], ks[1], qs[3]})
    params.push_back(i32(b, loc, v));
  GemmKernelConfig config = builder.qkvConfigFor(q);
  int64_t tiles =
      ceilDiv(nq, config.blockN()) + 2 * ceilDiv(nkv, config.blockN());
  if (failed(emitLaunch(q, tiles, ceilDiv(m, config.kBlockM), 1,
                        config.threads(), config.sharedBytes(), params)))
    return failure();
  group[1]->erase();
  group[2]->erase();
  return success();
}

LogicalResult LaunchEmitter::lower(OutputAllReduceOp op) {
  auto planAttr = fn->getAttrOfType<PlanAttr>("ring.plan");
  if (!planAttr)
    return op.emitError("no ring.plan on the per-rank function");
  AttentionPlan plan = AttentionPlan::fromAttr(planAttr);
  OpBuilder b(op);
  Location loc = op.getLoc();
  Type i32Ty = b.getI32Type(), i64Ty = b.getI64Type();
  int64_t count = cast<MemRefType>(op.getPartial().getType()).getNumElements();
  // The sums as on the CPU target (ConvertRingToCPU.cpp): dim slices, then
  // head groups, in place; ringrt waits for the device and uses NCCL or
  // stages through host memory. Diagnostics name it as the stage after the
  // ring's last.
  auto sumFn = declare("ringrt_cg_allreduce_sum_f32_axis",
                       {ptrTy, ptrTy, ptrTy, i64Ty, i32Ty, i32Ty});
  for (GridRole role : {GridRole::DimSlice, GridRole::HeadGroup})
    if (plan.size(role) > 1)
      func::CallOp::create(
          b, loc, sumFn,
          ValueRange{context, status, dataPointer(b, loc, op.getPartial()),
                     i64(b, loc, count), i32(b, loc, static_cast<int>(role)),
                     i32(b, loc, plan.ring())});
  Value bias = op.getBias();
  SmallVector<Value> params = {
      dataPointer(b, loc, op.getPartial()),
      bias ? dataPointer(b, loc, bias)
           : LLVM::ZeroOp::create(b, loc, ptrTy).getResult(),
      dataPointer(b, loc, op.getOutput()), i64(b, loc, count),
      i64(b, loc, shapeOf(op.getOutput()).back())};
  return emitLaunch(op, ceilDiv(count, kRowKernelThreads), 1, 1,
                    kRowKernelThreads, 0, params);
}

LogicalResult LaunchEmitter::lower(OutputReduceScatterOp op) {
  auto planAttr = fn->getAttrOfType<PlanAttr>("ring.plan");
  if (!planAttr)
    return op.emitError("no ring.plan on the per-rank function");
  AttentionPlan plan = AttentionPlan::fromAttr(planAttr);
  OpBuilder b(op);
  Location loc = op.getLoc();
  Type i32Ty = b.getI32Type(), i64Ty = b.getI64Type();
  ArrayRef<int64_t> p = shapeOf(op.getPartial()), y = shapeOf(op.getOutput());
  Value shares = outputSharesAddress(b, loc, op);
  Value k = i64(b, loc, static_cast<int64_t>(op.getShares().size()));
  // As on the CPU target (ConvertRingToCPU.cpp): in place, dim slices then
  // head groups; NCCL on the device or staged through host memory.
  auto sumFn = declare("ringrt_cg_reduce_scatter_rows_sum_f32",
                       {ptrTy, ptrTy, ptrTy, i64Ty, i64Ty, i64Ty, ptrTy,
                        i64Ty, i32Ty});
  func::CallOp::create(b, loc, sumFn,
                       ValueRange{context, status,
                                  dataPointer(b, loc, op.getPartial()),
                                  i64(b, loc, p[0]), i64(b, loc, p[1]),
                                  i64(b, loc, p[2]), shares, k,
                                  i32(b, loc, plan.ring())});
  auto shareFn = declare("ringrt_cg_output_share",
                         {ptrTy, ptrTy, ptrTy, i64Ty, i32Ty}, {i64Ty});
  SmallVector<Value, 2> share;
  for (int which : {0, 1})
    share.push_back(func::CallOp::create(b, loc, shareFn,
                                         ValueRange{context, status, shares, k,
                                                    i32(b, loc, which)})
                        .getResult(0));
  int64_t count = y[0] * y[1] * y[2];
  if (count == 0) {
    op->erase();
    return success();
  }
  Value bias = op.getBias();
  SmallVector<Value> params = {
      dataPointer(b, loc, op.getPartial()),
      bias ? dataPointer(b, loc, bias)
           : LLVM::ZeroOp::create(b, loc, ptrTy).getResult(),
      dataPointer(b, loc, op.getOutput()), i64(b, loc, count),
      i64(b, loc, y[2]), i64(b, loc, y[1]), i64(b, loc, p[1]), share[0],
      share[1]};
  return emitLaunch(op, ceilDiv(count, kRowKernelThreads), 1, 1,
                    kRowKernelThreads, 0, params);
}

LogicalResult LaunchEmitter::lowerElementwise(Operation *op,
                                              ValueRange buffers) {
  int64_t n = cast<MemRefType>(buffers[0].getType()).getNumElements();
  if (n == 0) {
    op->erase();
    return success();
  }
  OpBuilder b(op);
  Location loc = op->getLoc();
  SmallVector<Value> params;
  for (Value v : buffers)
    params.push_back(dataPointer(b, loc, v));
  params.push_back(i64(b, loc, n));
  return emitLaunch(op, ceilDiv(n, kRowKernelThreads), 1, 1,
                    kRowKernelThreads, 0, params);
}

LogicalResult LaunchEmitter::lower(memref::AllocOp op) {
  MemRefType type = op.getType();
  if (!type.hasStaticShape() || !type.getLayout().isIdentity())
    return op.emitError("GPU targets allocate static, dense buffers only");
  OpBuilder b(op);
  Location loc = op.getLoc();
  int64_t bytes = std::max<int64_t>(
      1, type.getNumElements() *
             static_cast<int64_t>(
                 llvm::divideCeil(type.getElementTypeBitWidth(), 8)));
  auto allocFn = declare("ringrt_cg_device_alloc",
                         {ptrTy, ptrTy, b.getI64Type()}, {ptrTy});
  Value p = func::CallOp::create(b, loc, allocFn,
                                 ValueRange{context, status,
                                            i64(b, loc, bytes)})
                .getResult(0);
  Value memref = denseMemrefOver(b, loc, p, type);
  op.getResult().replaceAllUsesWith(memref);
  op->erase();
  return success();
}

void LaunchEmitter::lower(memref::DeallocOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto syncFn = declare("ringrt_cg_synchronize", {ptrTy, ptrTy});
  auto freeFn = declare("ringrt_cg_device_free", {ptrTy, ptrTy, ptrTy});
  // Kernels still in flight may use the buffer.
  func::CallOp::create(b, loc, syncFn, ValueRange{context, status});
  func::CallOp::create(b, loc, freeFn,
                       ValueRange{context, status,
                                  dataPointer(b, loc, op.getMemref())});
  op->erase();
}

void LaunchEmitter::addDeviceDocuments() {
  SmallVector<Value> hostDocs;
  fn.walk([&](Operation *op) {
    Value docs;
    if (auto o = dyn_cast<BlockAttentionOp>(op))
      docs = o.getDocuments();
    else if (auto o = dyn_cast<BlockAttentionAccumulateOp>(op))
      docs = o.getDocuments();
    else if (auto o = dyn_cast<BlockSoftmaxVOp>(op))
      docs = o.getDocuments();
    else if (auto o = dyn_cast<BlockAttentionBackwardOp>(op))
      docs = o.getDocuments();
    if (docs && !llvm::is_contained(hostDocs, docs))
      hostDocs.push_back(docs);
  });
  Block &body = fn.getBody().front();
  OpBuilder b = OpBuilder::atBlockBegin(&body);
  for (Value host : hostDocs) {
    Location loc = host.getLoc();
    auto type = cast<MemRefType>(host.getType());
    // A per-call buffer: assignWorkspace makes it a view of the workspace.
    Value buffer = memref::AllocOp::create(
        b, loc, MemRefType::get(type.getShape(), type.getElementType()));
    Value device = dataPointer(b, loc, buffer);
    auto copyFn = declare("ringrt_cg_copy_to_device",
                          {ptrTy, ptrTy, ptrTy, ptrTy, b.getI64Type()});
    func::CallOp::create(
        b, loc, copyFn,
        ValueRange{context, status, device, dataPointer(b, loc, host),
                   i64(b, loc, type.getNumElements() * 4)});
    deviceDocs[host] = device;
  }
}

void LaunchEmitter::appendDocuments(Value docs,
                                    SmallVectorImpl<Value> &params) {
  if (docs)
    params.push_back(deviceDocs.lookup(docs));
}

LogicalResult LaunchEmitter::run() {
  Location loc = fn.getLoc();
  if (failed(fn.insertArguments({0, 0, 0}, {ptrTy, ptrTy, ptrTy},
                                {{}, {}, {}}, {loc, loc, loc})))
    return fn.emitError("cannot add the context, status and workspace "
                        "arguments");
  fn->setAttr(kAbiAttr, UnitAttr::get(ctx));
  context = fn.getArgument(0);
  status = fn.getArgument(1);
  // Packed documents reach the kernels as a device copy of cu_seqlens.
  addDeviceDocuments();
  // The buffers that live for the whole call are views of the workspace
  // (device memory the caller or the context owns): no cuMemAlloc or
  // cuMemFree per call.
  if (failed(assignWorkspace(fn, fn.getArgument(2))))
    return failure();
  Block &body = fn.getBody().front();
  entry.emplace(OpBuilder::atBlockBegin(&body));

  // The module, loaded once per call (ringrt caches it per context).
  moduleSlot = LLVM::AllocaOp::create(*entry, loc, ptrTy, ptrTy,
                                      i64(*entry, loc, 1), 8);
  auto loadFn = declare("ringrt_cg_module_load", {ptrTy, ptrTy, ptrTy, ptrTy});
  Value ptx = stringAddress(*entry, loc, kPtxGlobal, "");
  func::CallOp::create(*entry, loc, loadFn,
                       ValueRange{context, status, ptx, moduleSlot});

  // Any other buffer (none in the programs ring-schedule builds today) is
  // allocated where it is and freed where the program frees it, or before
  // every return.
  SmallVector<memref::AllocOp> allocs;
  SmallVector<Operation *> work;
  // The fused QKV launch replaces a group's three ops at its first one;
  // the ops it (or the output GEMM below) replaces are not visited.
  llvm::DenseSet<Operation *> fusedLater;
  fn.walk([&](ProjectOp p) {
    auto group = qkvGroup(p);
    if (!group.empty() && group[0] == p) {
      fusedLater.insert(group[1]);
      fusedLater.insert(group[2]);
    }
  });
  // With nothing to reduce, the output GEMM writes Y and the all-reduce
  // goes with it.
  fn.walk([&](OutProjectOp o) {
    if (OutputAllReduceOp r = directOutput(o))
      fusedLater.insert(r);
  });
  fn.walk([&](Operation *op) {
    if (fusedLater.contains(op))
      return;
    if (isa<BlockAttentionOp, BlockAttentionAccumulateOp, BlockScoresOp,
            BlockSoftmaxVOp, FillPartialOp, MergeOp, FinalizeOp,
            BlockAttentionBackwardOp, GradDeltaOp, ZeroOp, AccumulateOp,
            ConvertOp, SumReplicasOp, ProjectOp, OutProjectOp,
            OutputAllReduceOp, OutputReduceScatterOp, memref::AllocOp,
            memref::DeallocOp>(op))
      work.push_back(op);
  });
  SmallVector<Value> unfreed;
  for (auto alloc : body.getOps<memref::AllocOp>())
    if (llvm::none_of(alloc->getUsers(),
                      [](Operation *u) { return isa<memref::DeallocOp>(u); }))
      unfreed.push_back(alloc);
  fn.walk([&](func::ReturnOp ret) {
    OpBuilder b(ret);
    for (Value v : unfreed)
      work.push_back(memref::DeallocOp::create(b, ret.getLoc(), v));
  });

  for (Operation *op : work) {
    LogicalResult r = success();
    if (auto o = dyn_cast<BlockAttentionOp>(op))
      r = lower(o);
    else if (auto o = dyn_cast<BlockAttentionAccumulateOp>(op))
      r = lower(o);
    else if (auto o = dyn_cast<BlockScoresOp>(op))
      r = lower(o);
    else if (auto o = dyn_cast<BlockSoftmaxVOp>(op))
      r = lower(o);
    else if (auto o = dyn_cast<FillPartialOp>(op))
      r = lower(o);
    else if (auto o = dyn_cast<MergeOp>(op))
      r = lower(o);
    else if (auto o = dyn_cast<FinalizeOp>(op))
      r = lower(o);
    else if (auto o = dyn_cast<BlockAttentionBackwardOp>(op))
      r = lower(o);
    else if (auto o = dyn_cast<GradDeltaOp>(op))
      r = lower(o);
    else if (auto o = dyn_cast<ZeroOp>(op))
      r = lowerElementwise(o, o.getBuffer());
    else if (auto o = dyn_cast<AccumulateOp>(op))
      r = lowerElementwise(o, {o.getSource(), o.getAccumulator()});
    else if (auto o = dyn_cast<ConvertOp>(op))
      r = lowerElementwise(o, {o.getSource(), o.getDest()});
    else if (auto o = dyn_cast<SumReplicasOp>(op))
      r = lower(o);
    else if (auto o = dyn_cast<ProjectOp>(op);
             o && !qkvGroup(o).empty())
      r = lowerQkv(qkvGroup(o));
    else if (auto o = dyn_cast<ProjectOp>(op))
      r = lowerGemm(o, o.getInput(), o.getWeight(), o.getBias(),
                    o.getOutput(), shapeOf(o.getOutput()));
    else if (auto o = dyn_cast<OutProjectOp>(op)) {
      if (OutputAllReduceOp reduce = directOutput(o)) {
        r = lowerGemm(o, o.getInput(), o.getWeight(), reduce.getBias(),
                      reduce.getOutput(), shapeOf(o.getInput()));
        reduce->erase();
      } else {
        r = lowerGemm(o, o.getInput(), o.getWeight(), Value(), o.getPartial(),
                      shapeOf(o.getInput()));
      }
    }
    else if (auto o = dyn_cast<OutputAllReduceOp>(op))
      r = lower(o);
    else if (auto o = dyn_cast<OutputReduceScatterOp>(op))
      r = lower(o);
    else if (auto o = dyn_cast<memref::AllocOp>(op))
      r = lower(o);
    else if (auto o = dyn_cast<memref::DeallocOp>(op))
      lower(o);
    if (failed(r))
      return failure();
  }

  // The function returns without waiting for its launches: the entry
  // point ends the call on the caller's stream (ringrt_cg_end), and
  // NAME_attention_sync or ringrt_device_synchronize waits.
  return success();
}

struct ConvertRingToGPULaunchPass
    : public mlir::ring::gpu::impl::ConvertRingToGPULaunchPassBase<
          ConvertRingToGPULaunchPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::string error;
    auto target = TargetInfo::get(this->target, ptx, error);
    if (!target) {
      module.emitError(error);
      return signalPassFailure();
    }
    // The same choice as ring-gpu-generate-kernels made (its remark said
    // so when "auto" fell back to mma.sync).
    GpuModuleBuilder chooser(*target);
    chooser.setTileOverrides(warps, blockN);
    auto kind = chooser.resolveAttentionKernel(module, gpuKernel,
                                               /*remark=*/false, error);
    if (!kind) {
      module.emitError(error);
      return signalPassFailure();
    }
    std::string text = extractPtx(module, kKernelModuleName);
    auto binary = module.lookupSymbol<mlir::gpu::BinaryOp>(kKernelModuleName);
    if (!binary || text.empty()) {
      module.emitError("convert-ring-to-gpu-launch needs the PTX of "
                       "gpu.binary @")
          << kKernelModuleName
          << " (run ring-gpu-generate-kernels, the kernel lowering and "
             "gpu-module-to-binary format=isa first)";
      return signalPassFailure();
    }
    binary.erase();
    module->removeAttr(mlir::gpu::GPUDialect::getContainerModuleAttrName());
    {
      OpBuilder b(module.getContext());
      b.setInsertionPointToStart(module.getBody());
      std::string value = text;
      value.push_back('\0');
      auto type = LLVM::LLVMArrayType::get(b.getI8Type(), value.size());
      LLVM::GlobalOp::create(b, module.getLoc(), type, /*isConstant=*/true,
                             LLVM::Linkage::Internal, kPtxGlobal,
                             b.getStringAttr(value));
    }

    SmallVector<func::FuncOp> perRank;
    for (auto fn : module.getOps<func::FuncOp>())
      if (fn->hasAttr("ring.plan") && !fn.isExternal())
        perRank.push_back(fn);
    for (func::FuncOp fn : perRank) {
      LaunchEmitter emitter(module, fn, *target, warps, blockN, *kind);
      if (failed(emitter.run()))
        return signalPassFailure();
    }
  }
};

} // namespace
