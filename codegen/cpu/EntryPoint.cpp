//===- EntryPoint.cpp - the C-ABI entry of a CPU artifact -------*- C++ -*-===//
//
// This file implements the generation of `NAME_attention` in MLIR (func,
// cf and LLVM dialect ops), so that an artifact needs no C compiler for its
// ABI layer. A ringrt_tensor starts with its data pointer; the entry builds
// a memref descriptor over it (an `!llvm.struct` cast to the memref type,
// which reconcile-unrealized-casts folds away after func-to-llvm) and calls
// the per-rank function with the workspace that ringrt_cg_workspace
// resolves (the caller's, or the context's, allocated once). It also emits
// `NAME_workspace_bytes`.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/EntryPoint.h"
#include "codegen/Workspace.h"
#include "codegen/cpu/CpuVariants.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::ring;
using namespace mlir::ring::cpu;

std::string mlir::ring::cpu::entryPointName(StringRef name) {
  return (name + "_attention").str();
}

std::string mlir::ring::cpu::layerEntryPointName(StringRef name) {
  return (name + "_layer").str();
}

std::string mlir::ring::cpu::backwardEntryPointName(StringRef name) {
  return (name + "_attention_backward").str();
}

std::string mlir::ring::cpu::workspaceBytesName(StringRef name) {
  return (name + "_workspace_bytes").str();
}

std::string mlir::ring::cpu::artifactInfoName(StringRef name) {
  return (name + "_artifact_info").str();
}

/// The bytes of a ringrt_artifact_info (ringrt/codegen_abi.h): magic,
/// format version, entry kind, plan hash (little-endian, as on every
/// target whose host code ringc emits) and the entry's name.
static std::string artifactInfoBytes(uint64_t planHash, StringRef entry) {
  std::string bytes = "RINGRTAI";
  auto append = [&](uint64_t v, int n) {
    for (int i = 0; i < n; ++i)
      bytes.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  append(/*RINGRT_ARTIFACT_FORMAT_VERSION=*/1, 4);
  append(/*RINGRT_ENTRY_KIND_TENSOR_ABI=*/3, 4);
  append(planHash, 8);
  std::string name = entry.str();
  name.resize(112, '\0');
  return bytes + name;
}

/// ringrt_dtype of an element type.
static int32_t ringrtDType(Type t) {
  if (t.isBF16())
    return 1;
  if (t.isF16())
    return 2;
  return 0;
}

/// The address of a NUL-terminated constant string global.
static Value stringAddress(KernelBuilder &b, ModuleOp module, StringRef symbol,
                           StringRef text) {
  auto global = module.lookupSymbol<LLVM::GlobalOp>(symbol);
  if (!global) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    std::string withNul = (text + Twine('\0')).str();
    auto type = LLVM::LLVMArrayType::get(b.getI8Type(), withNul.size());
    global = LLVM::GlobalOp::create(b, type, /*isConstant=*/true,
                                    LLVM::Linkage::Internal, symbol,
                                    b.getStringAttr(withNul));
  }
  return LLVM::AddressOfOp::create(b, global);
}

LogicalResult mlir::ring::cpu::emitEntryPoint(func::FuncOp perRank,
                                              const AttentionPlan &plan,
                                              KernelCache &cache,
                                              StringRef hostFeatures,
                                              ArrayRef<CpuVariantFunction> variants) {
  MLIRContext *ctx = perRank.getContext();
  auto module = perRank->getParentOfType<ModuleOp>();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  Type i32 = IntegerType::get(ctx, 32), i64 = IntegerType::get(ctx, 64);
  // The backward per-rank function (ring.backward names the forward one)
  // takes the forward's tensors, dO, and the three gradients.
  auto forwardName = perRank->getAttrOfType<StringAttr>("ring.backward");
  // Expected local buffers, from the plan (a layer's take x, the weights,
  // y and lse), and the function's buffer types.
  struct Tensor {
    StringRef name;
    SmallVector<int64_t> shape;
    MemRefType type;
  };
  SmallVector<Tensor> tensors;
  SmallVector<StringRef> names;
  SmallVector<PerRankBuffer> buffers =
      perRankBuffers(plan, static_cast<bool>(forwardName));
  for (const PerRankBuffer &buf : buffers) {
    tensors.push_back({buf.name, buf.shape, {}});
    names.push_back(buf.name);
  }
  if (perRank.getNumArguments() != 3 + names.size())
    return perRank.emitError()
           << "a per-rank function must take (context, status, workspace, "
           << llvm::join(names, ", ") << ")";
  auto wsAttr = perRank->getAttrOfType<IntegerAttr>(kWorkspaceBytesAttr);
  if (!wsAttr)
    return perRank.emitError("a per-rank function must record its workspace "
                             "size ('")
           << kWorkspaceBytesAttr << "')";
  int64_t workspaceBytes = wsAttr.getInt();
  for (CpuVariantFunction v : variants) {
    auto attr = v.fn->getAttrOfType<IntegerAttr>(kWorkspaceBytesAttr);
    if (!attr)
      return v.fn.emitError("a per-rank function must record its workspace "
                            "size ('")
             << kWorkspaceBytesAttr << "')";
    workspaceBytes = std::max(workspaceBytes, attr.getInt());
  }

  for (auto [i, t] : llvm::enumerate(tensors)) {
    t.type = dyn_cast<MemRefType>(perRank.getArgument(3 + i).getType());
    Type want = buffers[i].elementType;
    if (!t.type || t.type.getShape() != ArrayRef<int64_t>(t.shape) ||
        t.type.getElementType() != want || !t.type.getLayout().isIdentity())
      return perRank.emitError()
             << "buffer '" << t.name << "' of the per-rank function has type "
             << perRank.getArgument(3 + i).getType()
             << " but the plan implies a dense memref of shape ["
             << llvm::make_range(t.shape.begin(), t.shape.end()) << "] of "
             << want;
  }

  auto checkFn = cache.declare(
      "ringrt_check_tensor",
      FunctionType::get(ctx, {ptr, ptr, i32, i32, ptr, i64}, {i32}));

  KernelBuilder b(perRank.getLoc(), ctx);
  b.setInsertionPointAfter(perRank);
  std::string name = forwardName
                         ? backwardEntryPointName(forwardName.getValue())
                     : plan.isLayer() ? layerEntryPointName(perRank.getSymName())
                                      : entryPointName(perRank.getSymName());
  if (SymbolTable::lookupSymbolIn(module, name))
    return perRank.emitError() << "the entry point '" << name
                               << "' already exists in the module";
  std::string wsName = workspaceBytesName(perRank.getSymName());
  if (SymbolTable::lookupSymbolIn(module, wsName))
    return perRank.emitError() << "the function '" << wsName
                               << "' already exists in the module";
  {
    // NAME_workspace_bytes(): the per-rank size of a caller-owned workspace.
    // With grad, the forward's is the larger of both entries' needs, so that
    // one workspace serves both; NAME_backward_workspace_bytes() is the
    // backward's own. The entries are emitted in either order: the second
    // one raises the forward's size.
    int64_t own = workspaceBytes;
    std::string forwardWs =
        forwardName ? workspaceBytesName(forwardName.getValue()) : wsName;
    std::string backwardWs =
        workspaceBytesName((perRank.getSymName() + "_backward").str());
    auto returned = [&](StringRef fnName) -> arith::ConstantOp {
      auto f = module.lookupSymbol<func::FuncOp>(fnName);
      if (!f || f.isExternal())
        return {};
      auto ret = cast<func::ReturnOp>(f.getBody().front().getTerminator());
      return ret.getOperand(0).getDefiningOp<arith::ConstantOp>();
    };
    int64_t exported = own;
    if (!forwardName)
      if (auto c = returned(backwardWs))
        exported = std::max(own, cast<IntegerAttr>(c.getValue()).getInt());
    auto wsFn = func::FuncOp::create(b, wsName, FunctionType::get(ctx, {}, {i64}));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(wsFn.addEntryBlock());
    func::ReturnOp::create(b, ValueRange{b.i64(exported)});
    if (forwardName)
      if (auto c = returned(forwardWs))
        if (own > cast<IntegerAttr>(c.getValue()).getInt())
          c.setValueAttr(b.getI64IntegerAttr(own));
  }
  // (context, the tensors, workspace, stream).
  SmallVector<Type> entryArgs(3 + tensors.size(), ptr);
  auto entryType = FunctionType::get(ctx, entryArgs, {i32});
  auto entry = func::FuncOp::create(b, name, entryType);
  Block *block = entry.addEntryBlock();
  Block *failBlock = new Block();
  failBlock->addArgument(i32, b.getLoc());
  entry.getBody().push_back(failBlock);
  b.setInsertionPointToStart(failBlock);
  func::ReturnOp::create(b, failBlock->getArgument(0));

  // NAME_artifact_info: what this library was built for; the entry checks
  // it against the context before anything else.
  std::string infoName = artifactInfoName(perRank.getSymName());
  if (name.size() >= 112)
    return perRank.emitError() << "the entry name '" << name
                               << "' is longer than the 111 characters an "
                                  "artifact descriptor holds";
  if (SymbolTable::lookupSymbolIn(module, infoName))
    return perRank.emitError() << "the symbol '" << infoName
                               << "' already exists in the module";
  LLVM::GlobalOp info;
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    std::string bytes = artifactInfoBytes(plan.hash(), name);
    auto type = LLVM::LLVMArrayType::get(b.getI8Type(), bytes.size());
    info = LLVM::GlobalOp::create(b, type, /*isConstant=*/true,
                                  LLVM::Linkage::External, infoName,
                                  b.getStringAttr(bytes), /*alignment=*/8);
  }

  b.setInsertionPointToStart(block);
  // Branches to the failure exit when `status` is not RINGRT_OK.
  auto exitOnFailure = [&](Value status) {
    Value failed =
        arith::CmpIOp::create(b, arith::CmpIPredicate::ne, status, b.i32(0));
    Block *next = b.getBlock()->splitBlock(b.getInsertionPoint());
    cf::CondBranchOp::create(b, failed, failBlock, ValueRange{status}, next,
                             ValueRange{});
    b.setInsertionPointToStart(next);
  };
  auto checkArtifact = cache.declare("ringrt_cg_check_artifact",
                                    FunctionType::get(ctx, {ptr, ptr}, {i32}));
  exitOnFailure(func::CallOp::create(
                    b, checkArtifact,
                    ValueRange{block->getArgument(0),
                               LLVM::AddressOfOp::create(b, info)})
                    .getResult(0));
  if (!hostFeatures.empty()) {
    auto checkCpu = cache.declare("ringrt_cg_check_cpu",
                                  FunctionType::get(ctx, {ptr}, {i32}));
    Value features = stringAddress(b, module, "__ringc_host_features",
                                   hostFeatures);
    exitOnFailure(
        func::CallOp::create(b, checkCpu, ValueRange{features}).getResult(0));
  }
  Value one = b.i64(1);
  // Packed documents: the last argument before the workspace is a plain
  // `const int32_t *cu_seqlens` (perRankBuffers puts it last), validated
  // before anything else reads it.
  bool documents = plan.hasDocuments();
  if (documents) {
    auto checkDocs = cache.declare(
        "ringrt_cg_check_cu_seqlens",
        FunctionType::get(ctx, {ptr, ptr, i64, i64}, {i32}));
    exitOnFailure(
        func::CallOp::create(
            b, checkDocs,
            ValueRange{block->getArgument(0),
                       block->getArgument(tensors.size()),
                       b.i64(plan.maxDocs), b.i64(plan.seq)})
            .getResult(0));
  }
  for (auto [i, t] : llvm::enumerate(tensors)) {
    if (documents && i + 1 == tensors.size())
      break;
    int64_t rank = t.type.getRank();
    Value shape = LLVM::AllocaOp::create(b, ptr, i64, b.i64(rank));
    for (int64_t d = 0; d < rank; ++d) {
      Value slot = LLVM::GEPOp::create(b, ptr, i64, shape,
                                       ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(d)});
      LLVM::StoreOp::create(b, b.i64(t.shape[d]), slot);
    }
    Value nameAddr = stringAddress(
        b, module, ("__ringc_tensor_name_" + t.name).str(), t.name);
    Value status =
        func::CallOp::create(
            b, checkFn,
            ValueRange{block->getArgument(1 + i), nameAddr,
                       b.i32(ringrtDType(t.type.getElementType())),
                       b.i32(rank), shape, b.i64(0)})
            .getResult(0);
    exitOnFailure(status);
  }
  (void)one;
  // Inputs whose fp32 logits could overflow are refused, not turned into
  // NaN (host tensors only; ringrt decides from the context's device). A
  // layer's Q and K are made inside the call, so its entry cannot scan them
  // first; its host program bounds X and the weights instead.
  if (!plan.isLayer()) {
  auto checkInputs = cache.declare(
      "ringrt_cg_check_inputs",
      FunctionType::get(ctx, {ptr, ptr, ptr, Float64Type::get(ctx), i64},
                        {i32}));
  exitOnFailure(
      func::CallOp::create(
          b, checkInputs,
          ValueRange{block->getArgument(0), block->getArgument(1),
                     block->getArgument(2),
                     arith::ConstantOp::create(
                         b, b.getF64FloatAttr(plan.scale)),
                     b.i64(plan.headDim)})
          .getResult(0));
  }

  // The workspace: the caller's, or the context's (allocated once).
  SmallVector<Value> args;
  Value ctxArg = block->getArgument(0);
  Value statusCell = LLVM::AllocaOp::create(b, ptr, i32, b.i64(1));
  LLVM::StoreOp::create(b, b.i32(0), statusCell);
  auto wsFn = cache.declare("ringrt_cg_workspace",
                            FunctionType::get(ctx, {ptr, ptr, ptr, i64}, {ptr}));
  Value workspace =
      func::CallOp::create(b, wsFn,
                           ValueRange{ctxArg, statusCell,
                                      block->getArgument(1 + tensors.size()),
                                      b.i64(workspaceBytes)})
          .getResult(0);
  exitOnFailure(LLVM::LoadOp::create(b, i32, statusCell));
  // The best variant the running CPU supports (or RINGRT_CPU_VARIANT's),
  // chosen before the call begins: between ringrt_cg_begin and
  // ringrt_cg_end the entry has no early exit, so a failed selection
  // leaves no call open on the context.
  Value variantIndex;
  if (variants.size() >= 2) {
    SmallVector<const CpuVariant *> table;
    for (const CpuVariantFunction &v : variants)
      table.push_back(v.variant);
    auto selectFn = cache.declare("ringrt_cg_select_cpu_variant",
                                  FunctionType::get(ctx, {ptr, ptr, ptr}, {i32}));
    Value tableAddr = stringAddress(b, module, "__ringc_cpu_variants",
                                    cpuVariantTable(table));
    variantIndex = func::CallOp::create(b, selectFn,
                                        ValueRange{ctxArg, statusCell, tableAddr})
                       .getResult(0);
    exitOnFailure(LLVM::LoadOp::create(b, i32, statusCell));
  }
  // The call's stream: the caller's, or the context's own.
  auto beginFn = cache.declare("ringrt_cg_begin",
                               FunctionType::get(ctx, {ptr, ptr, ptr}, {}));
  func::CallOp::create(
      b, beginFn,
      ValueRange{ctxArg, statusCell, block->getArgument(2 + tensors.size())});
  exitOnFailure(LLVM::LoadOp::create(b, i32, statusCell));

  // Memref descriptors over the data pointers (dense, offset 0).
  args.push_back(ctxArg);
  args.push_back(statusCell);
  args.push_back(workspace);
  for (auto [i, t] : llvm::enumerate(tensors)) {
    Value data = documents && i + 1 == tensors.size()
                     ? block->getArgument(1 + i)
                     : LLVM::LoadOp::create(b, ptr, block->getArgument(1 + i))
                           .getResult();
    args.push_back(denseMemrefOver(b, b.getLoc(), data, t.type));
  }
  if (variants.size() < 2) {
    func::CallOp::create(b, perRank, args);
  } else {
    // switch (index) { case i: call variant i } (default: the last, the
    // baseline; the selection returns a valid index on success).
    Block *before = b.getBlock();
    Block *join = before->splitBlock(b.getInsertionPoint());
    SmallVector<Block *> cases;
    SmallVector<int32_t> caseValues;
    for (auto [i, variant] : llvm::enumerate(variants)) {
      CpuVariantFunction v = variant;
      Block *c = new Block();
      entry.getBody().getBlocks().insert(join->getIterator(), c);
      b.setInsertionPointToStart(c);
      func::CallOp::create(b, v.fn, args);
      cf::BranchOp::create(b, join);
      cases.push_back(c);
      caseValues.push_back(static_cast<int32_t>(i));
    }
    b.setInsertionPointToEnd(before);
    cf::SwitchOp::create(b, variantIndex, cases.back(), ValueRange{}, caseValues,
                         cases, SmallVector<ValueRange>(cases.size()));
    b.setInsertionPointToStart(join);
  }
  // Returns without waiting for the device (GPU targets).
  auto endFn = cache.declare("ringrt_cg_end",
                             FunctionType::get(ctx, {ptr, ptr}, {}));
  func::CallOp::create(b, endFn, ValueRange{ctxArg, statusCell});
  Value result = LLVM::LoadOp::create(b, i32, statusCell);
  func::ReturnOp::create(b, result);

  // NAME_sync: the entry, then a wait for its stream.
  b.setInsertionPointAfter(entry);
  std::string syncName = name + "_sync";
  if (SymbolTable::lookupSymbolIn(module, syncName))
    return perRank.emitError() << "the function '" << syncName
                               << "' already exists in the module";
  auto sync = func::FuncOp::create(b, syncName, entryType);
  b.setInsertionPointToStart(sync.addEntryBlock());
  Value st = func::CallOp::create(b, entry, sync.getArguments()).getResult(0);
  Value cell = LLVM::AllocaOp::create(b, ptr, i32, b.i64(1));
  LLVM::StoreOp::create(b, st, cell);
  auto waitFn = cache.declare("ringrt_cg_stream_wait",
                              FunctionType::get(ctx, {ptr, ptr, ptr}, {}));
  func::CallOp::create(b, waitFn,
                       ValueRange{sync.getArgument(0), cell,
                                  sync.getArgument(2 + tensors.size())});
  func::ReturnOp::create(b, ValueRange{LLVM::LoadOp::create(b, i32, cell)});
  return success();
}
