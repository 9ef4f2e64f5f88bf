//===- Partition.cpp - global spec to per-rank SPMD function ---*- C++ -*-===//
//
// This file implements the ring-partition pass: every function computing a
// ring.attention on shard-annotated global tensors becomes the per-rank
// function of the artifact's C ABI, (Q, K, V, O, LSE) local memrefs, whose
// body reads the grid coordinates and performs one ring.local_attention.
// With `grad`, a second per-rank function performs the backward pass.
//
//===----------------------------------------------------------------------===//

#include "dialect/AttentionPlan.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"

namespace mlir::ring {
#define GEN_PASS_DEF_RINGPARTITIONPASS
#include "passes/Passes.h.inc"
} // namespace mlir::ring

using namespace mlir;
using namespace mlir::ring;

namespace {

/// The grid coordinates of the rank, per role (0 for a role without a grid
/// axis), read with shard.process_multi_index at `b`.
SmallVector<Value> emitCoords(OpBuilder &b, Location loc,
                              const AttentionPlan &plan) {
  MLIRContext *ctx = b.getContext();
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  SmallVector<Value> axisCoords, coords;
  if (!plan.grid.empty()) {
    SmallVector<Type> idx(plan.gridShape.size(), b.getIndexType());
    auto pmi = shard::ProcessMultiIndexOp::create(
        b, loc, idx, FlatSymbolRefAttr::get(ctx, plan.grid),
        DenseI16ArrayAttr::get(ctx, {}));
    axisCoords.assign(pmi.getResults().begin(), pmi.getResults().end());
  }
  for (int64_t axis : plan.axisOfRole)
    coords.push_back(axis < 0 ? zero : axisCoords[axis]);
  return coords;
}

/// A ring.all_to_all of `plan`'s a2a axis; `degree` names U when the shapes
/// do not imply it (U does not divide the ring's local block).
void emitAllToAll(OpBuilder &b, Location loc, const AttentionPlan &plan,
                  Value send, Value recv, A2AModeAttr mode, int64_t id) {
  auto op = AllToAllOp::create(b, loc, send, recv, mode,
                               b.getI64IntegerAttr(id), IntegerAttr());
  if (plan.localSeq() % plan.a2a() != 0)
    op.setDegreeAttr(b.getI64IntegerAttr(plan.a2a()));
}

/// The all-to-all (Ulysses) form of the per-rank body: Q, K and V go from
/// sequence shards to head shards of the ring's local block, the attention
/// runs on those, and O and LSE come back to the sequence layout.
void emitAllToAllAttention(OpBuilder &b, Location loc,
                           const AttentionPlan &plan, ArrayRef<Value> args,
                           ArrayRef<Value> coords) {
  MLIRContext *ctx = b.getContext();
  Type elt = plan.elementType;
  Type f32 = Float32Type::get(ctx);
  SmallVector<Type> types = {MemRefType::get(plan.localQShape(), elt),
                             MemRefType::get(plan.localKVShape(), elt),
                             MemRefType::get(plan.localKVShape(), elt),
                             MemRefType::get(plan.localQShape(), elt),
                             MemRefType::get(plan.localLseShape(), f32)};
  SmallVector<Value> heads;
  for (Type t : types)
    heads.push_back(memref::AllocOp::create(b, loc, cast<MemRefType>(t)));
  auto toHeads = A2AModeAttr::get(ctx, A2AMode::seq_to_heads);
  auto toSeq = A2AModeAttr::get(ctx, A2AMode::heads_to_seq);
  for (int i = 0; i < 3; ++i)
    emitAllToAll(b, loc, plan, args[i], heads[i], toHeads, i);
  // Packed documents: the head-sharded attention covers the ring's whole
  // local block, so the global boundaries apply unchanged.
  LocalAttentionOp::create(b, loc, heads[0], heads[1], heads[2], heads[3],
                           heads[4],
                           plan.hasDocuments() ? args[5] : Value(), coords,
                           plan.toAttr(ctx));
  emitAllToAll(b, loc, plan, heads[3], args[3], toSeq, 3);
  emitAllToAll(b, loc, plan, heads[4], args[4], toSeq, 4);
  for (Value v : heads)
    memref::DeallocOp::create(b, loc, v);
}

/// The all-to-all form of the backward per-rank body: Q, K, V, O, LSE and
/// dO go from sequence shards to head shards (O and LSE rather than the
/// rows of D: the local backward computes D itself), the unchanged ring
/// backward runs on those, and dQ, dK, dV come back to the sequence
/// layout. Replicated key/value heads come back as U heads, whose dK/dV
/// (each from its rank's query heads only) ring.sum_replicas adds up.
void emitAllToAllBackward(OpBuilder &b, Location loc,
                          const AttentionPlan &plan, ArrayRef<Value> args,
                          ArrayRef<Value> coords) {
  MLIRContext *ctx = b.getContext();
  Type elt = plan.elementType;
  auto qT = MemRefType::get(plan.localQShape(), elt);
  auto kvT = MemRefType::get(plan.localKVShape(), elt);
  auto lseT = MemRefType::get(plan.localLseShape(), Float32Type::get(ctx));
  SmallVector<Type> types = {qT, kvT, kvT, qT, lseT, qT, qT, kvT, kvT};
  SmallVector<Value> heads, allocs;
  for (Type t : types) {
    heads.push_back(memref::AllocOp::create(b, loc, cast<MemRefType>(t)));
    allocs.push_back(heads.back());
  }
  auto toHeads = A2AModeAttr::get(ctx, A2AMode::seq_to_heads);
  auto toSeq = A2AModeAttr::get(ctx, A2AMode::heads_to_seq);
  for (int i = 0; i < 6; ++i)
    emitAllToAll(b, loc, plan, args[i], heads[i], toHeads, i);
  LocalAttentionBackwardOp::create(b, loc, heads[0], heads[1], heads[2],
                                   heads[3], heads[4], heads[5], heads[6],
                                   heads[7], heads[8],
                                   plan.hasDocuments() ? args[9] : Value(),
                                   coords, plan.toAttr(ctx));
  emitAllToAll(b, loc, plan, heads[6], args[6], toSeq, 6);
  // With a2a padding, ring.sum_replicas sums only the rows of this rank's
  // share, so that it leaves the padding rows unwritten as the all-to-all
  // does: ⌊S/U⌋ rows, one more for a2a coordinates below S mod U
  // (ringrt/Layout.h a2aShareRows).
  Value shareRows;
  if (plan.replicatesKvHeads() && plan.hasA2APadding()) {
    auto pmi = shard::ProcessMultiIndexOp::create(
        b, loc, SmallVector<Type>{b.getIndexType()},
        FlatSymbolRefAttr::get(ctx, plan.grid),
        DenseI16ArrayAttr::get(ctx, {static_cast<int16_t>(plan.a2aAxis)}));
    int64_t s = plan.localSeq(), u = plan.a2a();
    Value longer = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::ult, pmi->getResult(0),
        arith::ConstantIndexOp::create(b, loc, s % u));
    shareRows = arith::SelectOp::create(
        b, loc, longer, arith::ConstantIndexOp::create(b, loc, s / u + 1),
        arith::ConstantIndexOp::create(b, loc, s / u));
  }
  for (int i = 7; i < 9; ++i) {
    if (!plan.replicatesKvHeads()) {
      emitAllToAll(b, loc, plan, heads[i], args[i], toSeq, i);
      continue;
    }
    // The U replicas, one per a2a rank, as U heads of this rank's tokens.
    auto repT = MemRefType::get(
        {plan.batch, plan.a2a(), plan.abiSeq(), plan.localHeadDim()}, elt);
    Value rep = memref::AllocOp::create(b, loc, repT);
    allocs.push_back(rep);
    emitAllToAll(b, loc, plan, heads[i], rep, toSeq, i);
    SumReplicasOp::create(b, loc, rep, args[i], shareRows);
  }
  for (Value v : allocs)
    memref::DeallocOp::create(b, loc, v);
}

/// Adds, after the forward per-rank function `forward`, the backward one:
/// `@<forward>_backward(q, k, v, o, lse, do, dq, dk, dv)` with one
/// ring.local_attention_backward. Its `ring.backward` attribute names the
/// forward function (the entry point is `<forward>_attention_backward`).
void addBackwardFunction(func::FuncOp forward, const AttentionPlan &plan,
                         Location loc) {
  MLIRContext *ctx = forward.getContext();
  auto qT = MemRefType::get(plan.abiQShape(), plan.elementType);
  auto kvT = MemRefType::get(plan.abiKVShape(), plan.elementType);
  auto lseT = MemRefType::get(plan.abiLseShape(), Float32Type::get(ctx));
  SmallVector<Type> types = {qT, kvT, kvT, qT, lseT, qT, qT, kvT, kvT};
  // Packed documents: the boundaries come last (perRankBuffers).
  if (plan.hasDocuments())
    types.push_back(
        MemRefType::get({plan.maxDocs + 1}, IntegerType::get(ctx, 32)));
  OpBuilder b(ctx);
  b.setInsertionPointAfter(forward);
  auto fn = func::FuncOp::create(b, loc, (forward.getSymName() + "_backward").str(),
                                 FunctionType::get(ctx, types, {}));
  Block *body = fn.addEntryBlock();
  b.setInsertionPointToStart(body);
  SmallVector<Value> coords = emitCoords(b, loc, plan);
  SmallVector<Value> a(body->getArguments());
  if (plan.a2a() == 1)
    LocalAttentionBackwardOp::create(
        b, loc, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8],
        plan.hasDocuments() ? a[9] : Value(), coords, plan.toAttr(ctx));
  else
    emitAllToAllBackward(b, loc, plan, a, coords);
  func::ReturnOp::create(b, loc);
  fn->setAttr("ring.plan", plan.toAttr(ctx));
  fn->setAttr("ring.backward", forward.getSymNameAttr());
  StringRef names[] = {"q",  "k",  "v",  "o",  "lse",
                       "do", "dq", "dk", "dv", "cu_seqlens"};
  for (unsigned i = 0; i < types.size(); ++i)
    fn.setArgAttr(i, "ring.name", StringAttr::get(ctx, names[i]));
}

/// Checks that `func` holds only the spec op `op` (and its shard
/// annotations) and returns exactly its (`out`, `lse`), described as
/// `what` in the error; sets `ret` to the function's return.
LogicalResult checkSpecFunction(func::FuncOp func, Operation *op, Value out,
                                Value lse, StringRef what,
                                func::ReturnOp &ret) {
  ret = cast<func::ReturnOp>(func.getBody().back().getTerminator());
  if (ret.getNumOperands() != 2 || ret.getOperand(0) != out ||
      ret.getOperand(1) != lse)
    return op->emitOpError()
           << "ring-partition needs the function to return exactly the "
           << what << "; @" << func.getSymName() << " returns something else";
  for (Operation &other : func.getBody().front())
    if (&other != op && &other != ret &&
        !isa<shard::ShardOp, shard::ShardingOp>(other))
      return other.emitOpError()
             << "ring-partition supports functions that contain only the "
                "attention and its shard annotations";
  return success();
}

/// Rewrites `func`, whose results must be exactly the outputs of `op`.
LogicalResult partitionFunction(func::FuncOp func, AttentionOp op,
                                const AttentionPlan &plan) {
  func::ReturnOp ret;
  if (failed(checkSpecFunction(func, op, op.getOutput(), op.getLse(),
                               "attention's (output, lse)", ret)))
    return failure();

  MLIRContext *ctx = func.getContext();
  Type elt = plan.elementType;
  Type f32 = Float32Type::get(ctx);
  auto qT = MemRefType::get(plan.abiQShape(), elt);
  auto kvT = MemRefType::get(plan.abiKVShape(), elt);
  auto lseT = MemRefType::get(plan.abiLseShape(), f32);
  SmallVector<Type> argTypes = {qT, kvT, kvT, qT, lseT};
  // Packed documents: the boundaries come last (perRankBuffers).
  if (plan.hasDocuments())
    argTypes.push_back(
        MemRefType::get({plan.maxDocs + 1}, IntegerType::get(ctx, 32)));

  // Replace the body: a fresh block with the local buffers as arguments.
  Location loc = op.getLoc();
  Block *oldBody = &func.getBody().front();
  Block *body = new Block();
  func.getBody().push_front(body);
  SmallVector<Value> args;
  for (Type t : argTypes)
    args.push_back(body->addArgument(t, func.getLoc()));
  OpBuilder b = OpBuilder::atBlockBegin(body);

  // Grid coordinates per role; a role without a grid axis has coordinate 0.
  SmallVector<Value> coords = emitCoords(b, loc, plan);

  if (plan.a2a() == 1) {
    LocalAttentionOp::create(b, loc, args[0], args[1], args[2], args[3],
                             args[4],
                             plan.hasDocuments() ? args[5] : Value(), coords,
                             plan.toAttr(ctx));
  } else {
    emitAllToAllAttention(b, loc, plan, args, coords);
    if (plan.replicatesKvHeads())
      op.emitRemark() << "a2a: the " << plan.kvHeads / plan.headGroups()
                      << " key/value heads of a head group are fewer than "
                         "a2a = "
                      << plan.a2a()
                      << ", so the all-to-all replicates each on "
                      << plan.a2a() / (plan.kvHeads / plan.headGroups())
                      << " ranks (" << plan.localHeads()
                      << " query heads and 1 key/value head per rank)";
  }
  func::ReturnOp::create(b, ret.getLoc());
  bool grad = op.getGrad();
  // Remarks on `op` before its block is erased with it.
  if (grad && plan.a2a() > 1 && plan.replicatesKvHeads())
    op.emitRemark() << "a2a backward: each key/value head's dK/dV comes "
                       "back from its "
                    << plan.a2a() / (plan.kvHeads / plan.headGroups())
                    << " replicas, each computed from that rank's query "
                       "heads only; ring.sum_replicas adds them onto the "
                       "owning head (fp32 sum, one rounding)";
  oldBody->dropAllDefinedValueUses();
  oldBody->erase();

  func.setFunctionType(FunctionType::get(ctx, argTypes, {}));
  func->setAttr("ring.plan", plan.toAttr(ctx));
  // The argument names of the C ABI, for readers of the IR.
  StringRef names[] = {"q", "k", "v", "o", "lse", "cu_seqlens"};
  for (unsigned i = 0; i < argTypes.size(); ++i)
    func.setArgAttr(i, "ring.name", StringAttr::get(ctx, names[i]));
  if (grad)
    addBackwardFunction(func, plan, loc);
  return success();
}

/// Rewrites `func`, whose results must be exactly the outputs of the layer
/// `op`, into the per-rank layer function (x, wq, wk, wv, wo, [bq, bk, bv,
/// bo], y, lse, [cu_seqlens]): the projections of the rank's tokens before
/// the ring (ring.project into Q, K, V workspace buffers in the attention's
/// layout), the ring (ring.local_attention with the plan's window and
/// documents, which ring-schedule expands), then the
/// output projection and the reduction of Y over the head-group ×
/// dim-slice ranks: an all-reduce, or with `layer_output = reduce_scatter`
/// a reduce-scatter onto the sequence (ring.output_reduce_scatter, with
/// the plan's shares).
LogicalResult partitionLayerFunction(func::FuncOp func, AttentionLayerOp op,
                                     const AttentionPlan &plan) {
  func::ReturnOp ret;
  if (failed(checkSpecFunction(func, op, op.getY(), op.getLse(),
                               "layer's (y, lse)", ret)))
    return failure();

  MLIRContext *ctx = func.getContext();
  SmallVector<PerRankBuffer> buffers = perRankBuffers(plan, false);
  SmallVector<Type> argTypes;
  for (const PerRankBuffer &b : buffers)
    argTypes.push_back(MemRefType::get(b.shape, b.elementType));
  Location loc = op.getLoc();
  Block *oldBody = &func.getBody().front();
  Block *body = new Block();
  func.getBody().push_front(body);
  llvm::StringMap<Value> arg;
  for (auto [t, b] : llvm::zip(argTypes, buffers))
    arg[b.name] = body->addArgument(t, func.getLoc());
  OpBuilder b = OpBuilder::atBlockBegin(body);
  SmallVector<Value> coords = emitCoords(b, loc, plan);

  Type elt = plan.elementType;
  auto qT = MemRefType::get(plan.localQShape(), elt);
  auto kvT = MemRefType::get(plan.localKVShape(), elt);
  SmallVector<Value> allocs;
  auto alloc = [&](MemRefType t) {
    allocs.push_back(memref::AllocOp::create(b, loc, t));
    return allocs.back();
  };
  Value q = alloc(qT), k = alloc(kvT), v = alloc(kvT), o = alloc(qT);
  Value yPart =
      alloc(MemRefType::get(plan.localXShape(), Float32Type::get(ctx)));
  auto bias = [&](StringRef name) {
    return plan.bias ? arg[name] : Value();
  };
  ProjectOp::create(b, loc, arg["x"], arg["wq"], bias("bq"), q);
  ProjectOp::create(b, loc, arg["x"], arg["wk"], bias("bk"), k);
  ProjectOp::create(b, loc, arg["x"], arg["wv"], bias("bv"), v);
  // Packed documents: the boundaries (the last argument) reach the ring as
  // they do without the layer; the projections are per token.
  LocalAttentionOp::create(b, loc, q, k, v, o, arg["lse"],
                           plan.hasDocuments() ? arg["cu_seqlens"] : Value(),
                           coords, plan.toAttr(ctx));
  OutProjectOp::create(b, loc, o, arg["wo"], yPart);
  if (plan.scattersOutput())
    OutputReduceScatterOp::create(b, loc, yPart, bias("bo"), arg["y"],
                                  b.getDenseI64ArrayAttr(plan.outputShares()));
  else
    OutputAllReduceOp::create(b, loc, yPart, bias("bo"), arg["y"]);
  for (Value a : allocs)
    memref::DeallocOp::create(b, loc, a);
  func::ReturnOp::create(b, ret.getLoc());
  oldBody->dropAllDefinedValueUses();
  oldBody->erase();

  func.setFunctionType(FunctionType::get(ctx, argTypes, {}));
  func->setAttr("ring.plan", plan.toAttr(ctx));
  for (auto [i, buf] : llvm::enumerate(buffers))
    func.setArgAttr(i, "ring.name", StringAttr::get(ctx, buf.name));
  return success();
}

struct RingPartitionPass
    : public mlir::ring::impl::RingPartitionPassBase<RingPartitionPass> {
  void runOnOperation() override {
    SymbolTableCollection symbols;
    SmallVector<std::pair<func::FuncOp, Operation *>> work;
    bool ok = true;
    getOperation().walk([&](func::FuncOp func) {
      SmallVector<Operation *> ops;
      func.walk([&](Operation *op) {
        if (isa<AttentionOp, AttentionLayerOp>(op))
          ops.push_back(op);
      });
      if (ops.size() > 1) {
        ops[1]->emitOpError()
            << "ring-partition handles one ring.attention or "
               "ring.attention_layer per function; @"
            << func.getSymName() << " has " << ops.size();
        ok = false;
      } else if (ops.size() == 1) {
        work.push_back({func, ops[0]});
      }
    });
    if (!ok)
      return signalPassFailure();
    for (auto [func, op] : work) {
      if (auto layer = dyn_cast<AttentionLayerOp>(op)) {
        FailureOr<AttentionPlan> plan = deriveLayerPlan(layer, symbols);
        if (failed(plan) || failed(partitionLayerFunction(func, layer, *plan)))
          return signalPassFailure();
        continue;
      }
      auto attn = cast<AttentionOp>(op);
      FailureOr<AttentionPlan> plan = deriveAttentionPlan(attn, symbols);
      if (failed(plan) || failed(partitionFunction(func, attn, *plan)))
        return signalPassFailure();
    }
  }
};
} // namespace
