//===- AttentionPlan.cpp - how one attention spreads over a grid -*- C++ -*-===//
//
// This file implements the derivation of an AttentionPlan from the upstream
// `shard` annotations of a ring.attention, and the diagnostics for every spec
// that ringc cannot compile. The upstream ShardingOp verifier already rejects
// unknown grids and an axis repeated inside one split; the rules here are the
// ones specific to attention: which dimension may split over which axis, that
// Q, K and V agree, and the divisibility the layouts need.
//
//===----------------------------------------------------------------------===//

#include "dialect/AttentionPlan.h"
#include "dialect/Visibility.h"

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CheckedArithmetic.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <cfloat>
#include <cmath>
#include <numeric>

using namespace mlir;
using namespace mlir::ring;

//===----------------------------------------------------------------------===//
// Limits and checked arithmetic
//===----------------------------------------------------------------------===//

double mlir::ring::minScale() { return FLT_MIN; }
double mlir::ring::maxScale() { return FLT_MAX / kLog2E; }

std::optional<int64_t> mlir::ring::checkedProduct(ArrayRef<int64_t> dims,
                                                  int64_t init) {
  std::optional<int64_t> p = init;
  for (int64_t d : dims) {
    if (d < 0)
      return std::nullopt;
    p = llvm::checkedMul(*p, d);
    if (!p)
      return std::nullopt;
  }
  return p;
}

std::string mlir::ring::divisorsHint(int64_t a, int64_t b) {
  // Divisors of g = gcd(a, b) come in pairs (d, g/d) with d <= sqrt(g); the
  // search stops after kMaxHintTrials candidates so that a huge prime cannot
  // make a diagnostic hang.
  int64_t g = std::gcd(a, b);
  SmallVector<int64_t> small, large;
  bool complete = true;
  for (int64_t d = 1; d <= g / d; ++d) {
    if (d > kMaxHintTrials) {
      complete = false;
      break;
    }
    if (g % d == 0) {
      small.push_back(d);
      if (d != g / d)
        large.push_back(g / d);
    }
  }
  SmallVector<int64_t> all(small);
  if (complete)
    all.append(large.rbegin(), large.rend());
  bool more = !complete || all.size() > 16;
  if (all.size() > 16)
    all.resize(16);
  std::string s;
  llvm::raw_string_ostream os(s);
  llvm::interleaveComma(all, os);
  if (more)
    os << ", ...";
  return s;
}

LogicalResult
mlir::ring::verifyScale(double scale, int64_t headDim,
                        function_ref<InFlightDiagnostic()> emitError) {
  auto fmt = [](double d) { return llvm::formatv("{0}", llvm::format("%g", d)).str(); };
  if (!std::isfinite(scale) || scale <= 0.0)
    return emitError() << "scale must be positive and finite, got "
                       << fmt(scale) << " (the default is 1/sqrt(head_dim) = "
                       << fmt(1.0 / std::sqrt(static_cast<double>(headDim)))
                       << ")";
  if (scale < minScale() || scale > maxScale())
    return emitError() << "scale " << fmt(scale)
                       << " is outside [" << fmt(minScale()) << ", "
                       << fmt(maxScale())
                       << "]: the kernels compute in fp32 and fold log2(e) "
                          "into the scale, so scale and scale*log2(e) must be "
                          "normal fp32 numbers";
  return success();
}

StringRef mlir::ring::gridRoleName(GridRole role) {
  switch (role) {
  case GridRole::Ring:
    return "ring";
  case GridRole::HeadGroup:
    return "head_groups";
  case GridRole::DimSlice:
    return "dim_slices";
  case GridRole::A2A:
    return "a2a";
  }
  llvm_unreachable("unknown grid role");
}

int64_t AttentionPlan::size(GridRole role) const {
  int64_t axis = role == GridRole::A2A ? a2aAxis
                                       : axisOfRole[static_cast<int>(role)];
  return axis < 0 ? 1 : gridShape[axis];
}

ringrt::layout::Balance mlir::ring::toRuntimeBalance(Balance b) {
  switch (b) {
  case Balance::none:
    return ringrt::layout::Balance::None;
  case Balance::zigzag:
    return ringrt::layout::Balance::Zigzag;
  case Balance::striped:
    return ringrt::layout::Balance::Striped;
  }
  llvm_unreachable("unknown layout");
}

LogicalResult
mlir::ring::verifySeqLen(std::optional<uint64_t> seqLen, Balance layout,
                         int64_t ringSize, int64_t rows,
                         function_ref<InFlightDiagnostic()> emitError) {
  if (!seqLen)
    return success();
  int64_t L = static_cast<int64_t>(*seqLen);
  if (L < 1 || ringSize < 1 || L / ringSize >= rows + 1)
    return emitError() << "seq_len = " << *seqLen << " over a ring of "
                       << ringSize << " does not fit buffers of " << rows
                       << " rows";
  int64_t want = ringrt::layout::localRows(toRuntimeBalance(layout), L, ringSize);
  if (want != rows)
    return emitError() << "seq_len = " << L << " over a ring of " << ringSize
                       << " (" << stringifyBalance(layout)
                       << ") needs buffers of " << want << " rows, not "
                       << rows;
  return success();
}

int64_t AttentionPlan::localSeq() const {
  return ringrt::layout::localRows(toRuntimeBalance(balance), seq, ring());
}

bool AttentionPlan::hasSeqPadding() const {
  return ringrt::layout::hasPadding(toRuntimeBalance(balance), seq, ring());
}

int64_t AttentionPlan::globalToken(int64_t owner, int64_t row) const {
  return ringrt::layout::globalToken(toRuntimeBalance(balance), seq, ring(),
                                     owner, row);
}

int64_t AttentionPlan::rankTokens(int64_t owner) const {
  return ringrt::layout::rankTokens(toRuntimeBalance(balance), seq, ring(),
                                    owner);
}

TokenRows AttentionPlan::tokenRows(int64_t owner, int64_t r0, int64_t n) const {
  TokenRows t;
  t.stride = balance == Balance::striped ? ring() : 1;
  t.count = std::min(n, ringrt::layout::tokenRowsFrom(toRuntimeBalance(balance),
                                                      seq, ring(), owner, r0));
  if (t.count > 0)
    t.first = globalToken(owner, r0);
  return t;
}

SmallVector<int64_t> AttentionPlan::localQShape() const {
  return {batch, localHeads(), localSeq(), localHeadDim()};
}
SmallVector<int64_t> AttentionPlan::localKVShape() const {
  return {batch, localKvHeads(), localSeq(), localHeadDim()};
}
SmallVector<int64_t> AttentionPlan::localLseShape() const {
  return {batch, localHeads(), localSeq()};
}
SmallVector<int64_t> AttentionPlan::abiQShape() const {
  return {batch, heads / headGroups(), abiSeq(), localHeadDim()};
}
SmallVector<int64_t> AttentionPlan::abiKVShape() const {
  return {batch, kvHeads / headGroups(), abiSeq(), localHeadDim()};
}
SmallVector<int64_t> AttentionPlan::abiLseShape() const {
  return {batch, heads / headGroups(), abiSeq()};
}
SmallVector<int64_t> AttentionPlan::localXShape() const {
  return {batch, localSeq(), dModel};
}

int64_t AttentionPlan::outputShareRows(int64_t j) const {
  if (!scattersOutput())
    return localSeq();
  return ringrt::layout::partTokens(localSeq(), outputGroupSize(), j);
}

int64_t AttentionPlan::outputShareOffset(int64_t j) const {
  if (!scattersOutput())
    return 0;
  return ringrt::layout::partStart(localSeq(), outputGroupSize(), j);
}

SmallVector<int64_t> AttentionPlan::outputShares() const {
  SmallVector<int64_t> shares;
  int64_t k = scattersOutput() ? outputGroupSize() : 1;
  for (int64_t j = 0; j < k; ++j)
    shares.push_back(outputShareRows(j));
  return shares;
}

int64_t AttentionPlan::localYRows() const {
  return outputShareRows(0);
}

SmallVector<int64_t> AttentionPlan::localYShape() const {
  return {batch, localYRows(), dModel};
}

SmallVector<PerRankBuffer> mlir::ring::perRankBuffers(const AttentionPlan &plan,
                                                      bool backward) {
  Type elt = plan.elementType;
  Type f32 = Float32Type::get(elt.getContext());
  if (plan.isLayer()) {
    int64_t q = plan.localHeads() * plan.localHeadDim();
    int64_t kv = plan.localKvHeads() * plan.localHeadDim();
    int64_t dm = plan.dModel;
    SmallVector<PerRankBuffer> b = {{"x", plan.localXShape(), elt},
                                    {"wq", {dm, q}, elt},
                                    {"wk", {dm, kv}, elt},
                                    {"wv", {dm, kv}, elt},
                                    {"wo", {q, dm}, elt}};
    if (plan.bias)
      b.append({{"bq", {q}, elt},
                {"bk", {kv}, elt},
                {"bv", {kv}, elt},
                {"bo", {dm}, elt}});
    b.append({{"y", plan.localYShape(), elt},
              {"lse", plan.localLseShape(), f32}});
    return b;
  }
  SmallVector<PerRankBuffer> b = {{"q", plan.abiQShape(), elt},
                                  {"k", plan.abiKVShape(), elt},
                                  {"v", plan.abiKVShape(), elt},
                                  {"o", plan.abiQShape(), elt},
                                  {"lse", plan.abiLseShape(), f32}};
  if (backward)
    b.append({{"do", plan.abiQShape(), elt},
              {"dq", plan.abiQShape(), elt},
              {"dk", plan.abiKVShape(), elt},
              {"dv", plan.abiKVShape(), elt}});
  if (plan.hasDocuments())
    b.push_back({"cu_seqlens", {plan.maxDocs + 1},
                 IntegerType::get(elt.getContext(), 32)});
  return b;
}

StringRef AttentionPlan::dtypeName() const {
  if (elementType.isBF16())
    return "bf16";
  if (elementType.isF16())
    return "f16";
  return "f32";
}

std::string AttentionPlan::str() const {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "batch=" << batch << ",heads=" << heads << ",kv_heads=" << kvHeads
     << ",seq=" << seq << ",head_dim=" << headDim << ",dtype=" << dtypeName()
     << ",causal=" << (isCausal() ? 1 : 0)
     << ",balance=" << stringifyBalance(balance) << ",scale=";
  os << llvm::format("%.17g", scale);
  // Only with a window, so that the hashes of window-free plans stay.
  if (hasWindow())
    os << ",window=" << windowLeft << ":" << windowRight;
  if (hasDocuments())
    os << ",max_docs=" << maxDocs;
  os << ",grid=[";
  llvm::interleave(gridShape, os, "x");
  os << "],axes=[" << axisOfRole[0] << "," << axisOfRole[1] << ","
     << axisOfRole[2] << "]";
  // Appended only when present, so that plans without an a2a axis keep
  // their hash.
  if (a2aAxis >= 0)
    os << ",a2a_axis=" << a2aAxis;
  // Attention-only plans keep the hash they had before layers existed.
  if (isLayer())
    os << ",d_model=" << dModel << ",bias=" << (bias ? 1 : 0);
  // Likewise all-reduce layers.
  if (layerOutput != LayerOutput::all_reduce)
    os << ",layer_output=" << stringifyLayerOutput(layerOutput);
  return s;
}

uint64_t AttentionPlan::hash() const {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : str()) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

PlanAttr AttentionPlan::toAttr(MLIRContext *ctx) const {
  return PlanAttr::get(
      ctx, FlatSymbolRefAttr::get(ctx, grid.empty() ? "" : grid),
      DenseI64ArrayAttr::get(ctx, gridShape),
      axisOfRole[0], axisOfRole[1], axisOfRole[2], batch, heads, kvHeads, seq,
      headDim, elementType, mask, balance,
      FloatAttr::get(Float64Type::get(ctx), scale), a2aAxis, dModel, bias,
      windowAttr(ctx), maxDocs, layerOutput);
}

WindowAttr AttentionPlan::windowAttr(MLIRContext *ctx) const {
  return hasWindow() ? WindowAttr::get(ctx, windowLeft, windowRight)
                     : WindowAttr();
}

AttentionPlan AttentionPlan::fromAttr(PlanAttr attr) {
  AttentionPlan plan;
  plan.grid = attr.getGrid().getValue().str();
  plan.gridShape.assign(attr.getGridShape().asArrayRef().begin(),
                        attr.getGridShape().asArrayRef().end());
  plan.axisOfRole = {attr.getRingAxis(), attr.getHeadGroupAxis(),
                     attr.getDimSliceAxis()};
  plan.batch = attr.getBatch();
  plan.heads = attr.getHeads();
  plan.kvHeads = attr.getKvHeads();
  plan.seq = attr.getSeq();
  plan.headDim = attr.getHeadDim();
  plan.elementType = attr.getElementType();
  plan.mask = attr.getMask();
  plan.balance = attr.getBalance();
  plan.scale = attr.getScale().getValueAsDouble();
  plan.a2aAxis = attr.getA2aAxis();
  plan.dModel = attr.getDModel();
  plan.bias = attr.getBias();
  plan.layerOutput = attr.getLayerOutput();
  if (WindowAttr w = attr.getWindow()) {
    plan.windowLeft = w.getLeft();
    plan.windowRight = w.getRight();
  }
  plan.maxDocs = attr.getMaxDocs();
  return plan;
}

//===----------------------------------------------------------------------===//
// Derivation
//===----------------------------------------------------------------------===//

namespace {
constexpr StringLiteral kOperandNames[] = {"query", "key", "value"};
constexpr StringLiteral kDimNames[] = {"batch", "head", "sequence",
                                       "head_dim"};

/// The role a split of tensor dimension `dim` gives its grid axis.
GridRole roleOfDim(unsigned dim) {
  switch (dim) {
  case 1:
    return GridRole::HeadGroup;
  case 2:
    return GridRole::Ring;
  default:
    return GridRole::DimSlice;
  }
}

std::string axisStr(int64_t axis) {
  return axis < 0 ? std::string("no axis") : "grid axis " + std::to_string(axis);
}

std::string shapeStr(ArrayRef<int64_t> shape) {
  std::string dims;
  llvm::raw_string_ostream os(dims);
  llvm::interleave(shape, os, "x");
  return dims;
}

} // namespace

FailureOr<AttentionPlan>
mlir::ring::deriveAttentionPlan(AttentionOp op,
                                SymbolTableCollection &symbols) {
  AttentionPlan plan;
  ArrayRef<int64_t> q = op.getQuery().getType().getShape();
  ArrayRef<int64_t> k = op.getKey().getType().getShape();
  plan.batch = q[0];
  plan.heads = q[1];
  plan.kvHeads = k[1];
  plan.seq = q[2];
  plan.headDim = q[3];
  plan.elementType = op.getQuery().getType().getElementType();
  plan.mask = op.getMask();
  plan.balance = op.getEffectiveBalance();
  plan.scale = op.getEffectiveScale();
  if (WindowAttr w = op.getWindowAttr()) {
    plan.windowLeft = w.getLeft();
    plan.windowRight = w.getRight();
  }
  if (std::optional<int64_t> n = op.getMaxDocs())
    plan.maxDocs = *n;

  // Byte offsets of every tensor must fit in 64 bits (with fp32 accumulators
  // of Q's shape), or sizes computed later would silently wrap.
  for (auto [name, shape] :
       {std::pair<StringRef, ArrayRef<int64_t>>{"query", q}, {"key", k}})
    if (!checkedProduct(shape, 4))
      return op.emitOpError()
             << name << " of shape " << shapeStr(shape)
             << " is too large: its size in fp32 overflows 64-bit byte "
                "offsets";

  // The sharding op of each operand, or null when it is not annotated.
  std::array<shard::ShardingOp, 3> shardings;
  Value operands[] = {op.getQuery(), op.getKey(), op.getValue()};
  for (auto [i, v] : llvm::enumerate(operands)) {
    auto sh = v.getDefiningOp<shard::ShardOp>();
    if (!sh)
      continue;
    auto sop = sh.getSharding().getDefiningOp<shard::ShardingOp>();
    if (!sop)
      return op.emitOpError()
             << "the sharding of " << kOperandNames[i]
             << " must be defined by a shard.sharding op in the same function";
    if (!sop.getStaticHaloSizes().empty() ||
        !sop.getDynamicHaloSizes().empty())
      return op.emitOpError() << "the sharding of " << kOperandNames[i]
                              << " has halo sizes; ring attention shards "
                                 "without halos";
    if (!sop.getStaticShardedDimsOffsets().empty() ||
        !sop.getDynamicShardedDimsOffsets().empty())
      return op.emitOpError()
             << "the sharding of " << kOperandNames[i]
             << " has explicit sharded_dims_offsets; ring attention needs "
                "equal shards";
    shardings[i] = sop;
  }

  unsigned annotated = llvm::count_if(shardings, [](auto s) { return !!s; });
  if (annotated == 0)
    return plan;
  if (annotated != 3) {
    unsigned missing = llvm::find(shardings, nullptr) - shardings.begin();
    unsigned present = llvm::find_if(shardings, [](auto s) { return !!s; }) -
                       shardings.begin();
    return op.emitOpError()
           << kOperandNames[missing] << " has no shard.shard annotation but "
           << kOperandNames[present]
           << " has one; annotate query, key and value on the same grid";
  }

  StringRef gridName = shardings[0].getGrid();
  for (unsigned i = 1; i < 3; ++i)
    if (shardings[i].getGrid() != gridName)
      return op.emitOpError()
             << "query is sharded on grid @" << gridName << " but "
             << kOperandNames[i] << " on grid @" << shardings[i].getGrid()
             << "; query, key and value must use one grid";
  shard::GridOp gridOp =
      shard::getGridOrNull(op, shardings[0].getGridAttr(), symbols);
  if (!gridOp)
    return op.emitOpError() << "unknown grid @" << gridName
                            << "; declare it with `shard.grid @" << gridName
                            << "(shape = ...)` in the module";
  plan.grid = gridName.str();
  plan.gridShape.assign(gridOp.getShape().begin(), gridOp.getShape().end());
  for (auto [axis, size] : llvm::enumerate(plan.gridShape))
    if (ShapedType::isDynamic(size))
      return op.emitOpError() << "grid @" << gridName << " has a dynamic size on axis " << axis
                              << "; ringc needs a static grid";

  // The all-to-all axis named by the op (a2a_axis), if any.
  std::optional<int64_t> a2aAttr;
  if (std::optional<uint64_t> a = op.getA2aAxis()) {
    if (*a >= plan.gridShape.size())
      return op.emitOpError()
             << "a2a_axis(" << *a << ") names no axis of grid @" << gridName
             << ", which has " << plan.gridShape.size() << " axes";
    a2aAttr = static_cast<int64_t>(*a);
  }

  // Role -> axis for each operand, with the per-tensor rules.
  std::array<std::array<int64_t, 3>, 3> roleAxis;
  std::array<int64_t, 3> a2aAxis = {-1, -1, -1};
  for (unsigned t = 0; t < 3; ++t) {
    roleAxis[t] = {-1, -1, -1};
    ArrayRef<shard::GridAxesAttr> split = shardings[t].getSplitAxes().getAxes();
    if (split.size() > 4)
      return op.emitOpError() << "the sharding of " << kOperandNames[t]
                              << " splits " << split.size()
                              << " dimensions of a 4-d tensor";
    for (auto [dim, axes] : llvm::enumerate(split)) {
      if (axes.empty())
        continue;
      // The sequence may split over [ring axis, a2a axis] or [a2a axis]
      // when the op names its a2a axis; the a2a axis is the minor one.
      if (dim == 2 && a2aAttr && axes.asArrayRef().back() == *a2aAttr &&
          axes.size() <= 2) {
        a2aAxis[t] = *a2aAttr;
        if (axes.size() == 1)
          continue;
      } else if (dim == 2 && a2aAttr && llvm::is_contained(axes.asArrayRef(),
                                                           *a2aAttr)) {
        return op.emitOpError()
               << "the sequence dimension of " << kOperandNames[t]
               << " is split over grid axes ["
               << llvm::join(llvm::map_range(axes.asArrayRef(),
                                             [](int16_t a) {
                                               return std::to_string(a);
                                             }),
                             ", ")
               << "]; with a2a_axis(" << *a2aAttr
               << ") it splits over [ring axis, " << *a2aAttr << "] or ["
               << *a2aAttr << "] (the a2a axis last)";
      }
      if (axes.size() > 1 && !(dim == 2 && a2aAxis[t] >= 0))
        return op.emitOpError()
               << "the " << kDimNames[dim] << " dimension of "
               << kOperandNames[t] << " is split over " << axes.size()
               << " grid axes; ringc splits each dimension over at most one "
                  "grid axis"
               << (dim == 2 ? " (or the sequence over [ring axis, a2a axis] "
                              "when ring.attention names its all-to-all axis "
                              "with a2a_axis(A))"
                            : "");
      int64_t axis = axes[0];
      if (axis < 0 || axis >= static_cast<int64_t>(plan.gridShape.size()))
        return op.emitOpError()
               << "the " << kDimNames[dim] << " dimension of "
               << kOperandNames[t] << " is split over grid axis " << axis
               << " but grid @" << gridName << " has "
               << plan.gridShape.size() << " axes";
      if (dim == 0)
        return op.emitOpError()
               << "the batch dimension of " << kOperandNames[t]
               << " is split over grid axis " << axis
               << "; ringc splits sequence (dim 2) over the ring axis, heads "
                  "(dim 1) over head groups and head_dim (dim 3) over dim "
                  "slices, never batch";
      roleAxis[t][static_cast<int>(roleOfDim(dim))] = axis;
    }
  }
  for (unsigned t = 1; t < 3; ++t)
    for (unsigned r = 0; r < 3; ++r)
      if (roleAxis[t][r] != roleAxis[0][r]) {
        unsigned dim = r == 0 ? 2 : r == 1 ? 1 : 3;
        return op.emitOpError()
               << "the " << kDimNames[dim] << " dimension is split over "
               << axisStr(roleAxis[0][r]) << " for query but over "
               << axisStr(roleAxis[t][r]) << " for " << kOperandNames[t]
               << "; query, key and value must split each dimension the "
                  "same way";
      }
  plan.axisOfRole = roleAxis[0];
  for (unsigned t = 0; t < 3; ++t)
    if (a2aAxis[t] != a2aAxis[0])
      return op.emitOpError()
             << "the sequence dimension is split over the a2a axis for "
             << (a2aAxis[0] >= 0 ? kOperandNames[0] : kOperandNames[t])
             << " but not for "
             << (a2aAxis[0] >= 0 ? kOperandNames[t] : kOperandNames[0])
             << "; query, key and value must split each dimension the same "
                "way";
  if (a2aAttr && a2aAxis[0] < 0)
    return op.emitOpError()
           << "a2a_axis(" << *a2aAttr
           << ") names the all-to-all axis, but the sequence dimension is not "
              "split over it; split it over [ring axis, "
           << *a2aAttr << "] or [" << *a2aAttr << "]";
  plan.a2aAxis = a2aAxis[0];

  if (failed(plan.verify([&] { return op.emitOpError(); })))
    return failure();
  return plan;
}

//===----------------------------------------------------------------------===//
// Verification
//===----------------------------------------------------------------------===//

LogicalResult
AttentionPlan::verify(function_ref<InFlightDiagnostic()> emitError) const {
  // The grid: positive sizes, at most kMaxRanks ranks in all.
  for (auto [axis, size] : llvm::enumerate(gridShape))
    if (size < 1)
      return emitError() << "grid axis " << axis << " has size " << size
                         << "; every grid axis needs size >= 1";
  std::optional<int64_t> gridRanks = checkedProduct(gridShape);
  if (!gridRanks || *gridRanks > kMaxRanks)
    return emitError() << "the grid of shape " << shapeStr(gridShape)
                       << " has "
                       << (gridRanks ? std::to_string(*gridRanks)
                                     : std::string("more than 2^63"))
                       << " ranks; ringc supports at most " << kMaxRanks
                       << " (ring-verify-schedule checks every rank's "
                          "schedule, at a cost of ranks x ring stages)";
  for (int role = 0; role < kNumGridRoles; ++role) {
    int64_t axis = axisOfRole[role];
    StringRef name = gridRoleName(static_cast<GridRole>(role));
    if (axis < -1 || axis >= static_cast<int64_t>(gridShape.size()))
      return emitError() << "the " << name << " axis is " << axis
                         << " but the grid has " << gridShape.size()
                         << " axes; valid: -1 (no axis) or 0.."
                         << static_cast<int64_t>(gridShape.size()) - 1;
    for (int other = 0; other < role; ++other)
      if (axis >= 0 && axisOfRole[other] == axis)
        return emitError()
               << "grid axis " << axis << " plays two roles ("
               << gridRoleName(static_cast<GridRole>(other)) << " and "
               << name << "); each role needs its own axis";
  }
  if (a2aAxis < -1 || a2aAxis >= static_cast<int64_t>(gridShape.size()))
    return emitError() << "the a2a axis is " << a2aAxis
                       << " but the grid has " << gridShape.size()
                       << " axes; valid: -1 (no axis) or 0.."
                       << static_cast<int64_t>(gridShape.size()) - 1;
  for (int role = 0; role < kNumGridRoles; ++role)
    if (a2aAxis >= 0 && axisOfRole[role] == a2aAxis)
      return emitError() << "grid axis " << a2aAxis << " plays two roles ("
                         << gridRoleName(static_cast<GridRole>(role))
                         << " and a2a); each role needs its own axis";
  for (auto [axis, size] : llvm::enumerate(gridShape))
    if (size != 1 &&
        !llvm::is_contained(axisOfRole, static_cast<int64_t>(axis)) &&
        a2aAxis != static_cast<int64_t>(axis))
      return emitError()
             << "grid axis " << axis << (grid.empty() ? "" : " of @" + grid)
             << " has size " << size << " but no dimension is split over it; the work would be "
                "replicated "
             << size << " times. Give that axis size 1 or split a dimension "
             << "over it";

  // The problem: positive sizes that fit 64-bit byte offsets.
  std::pair<StringRef, int64_t> dims[] = {{"batch", batch},
                                         {"heads", heads},
                                         {"kv_heads", kvHeads},
                                         {"seq", seq},
                                         {"head_dim", headDim}};
  for (auto [name, v] : dims)
    if (v < 1)
      return emitError() << name << " is " << v << "; it must be at least 1";
  if (!checkedProduct({batch, std::max(heads, kvHeads), seq, headDim}, 4))
    return emitError() << "a tensor of shape " << batch << "x"
                       << std::max(heads, kvHeads) << "x" << seq << "x"
                       << headDim
                       << " is too large: its size in fp32 overflows 64-bit "
                          "byte offsets";
  if (heads % kvHeads != 0)
    return emitError() << "query heads (" << heads
                       << ") must be a multiple of key/value heads ("
                       << kvHeads << "); valid key/value head counts: "
                       << divisorsHint(heads, heads);
  if (!elementType || !(elementType.isBF16() || elementType.isF16() ||
                        elementType.isF32()))
    return emitError() << "element type " << elementType
                       << " is not supported; valid: bf16, f16, f32";
  if (failed(verifyScale(scale, headDim, emitError)))
    return failure();
  if (dModel < 0)
    return emitError() << "d_model is " << dModel
                       << "; it must be at least 1 (or 0: attention only)";
  if (!isLayer() && bias)
    return emitError() << "bias needs a layer (d_model >= 1)";
  if (!isLayer() && layerOutput != LayerOutput::all_reduce)
    return emitError() << "layer_output = "
                       << stringifyLayerOutput(layerOutput)
                       << " needs a layer (d_model >= 1): it says how the "
                          "layer's Y is reduced, and attention alone has no "
                          "Y; drop it or give d_model";
  // The layer's weights ([d_model, Hq*D] and [Hq*D, d_model]) and X/Y
  // ([B, L, d_model]) must fit 64-bit byte offsets in fp32 too.
  if (isLayer() && (!checkedProduct({dModel, std::max(heads, kvHeads),
                                     headDim}, 4) ||
                    !checkedProduct({batch, seq, dModel}, 4)))
    return emitError() << "the layer with d_model " << dModel
                       << " is too large: its weights or X/Y in fp32 "
                          "overflow 64-bit byte offsets";
  if (hasWindow() && failed(verifyWindow(windowLeft, windowRight, emitError)))
    return failure();
  if (maxDocs != 0) {
    if (failed(verifyMaxDocs(maxDocs, emitError)))
      return failure();
    if (isLayer())
      return emitError() << "max_docs (packed documents) with the whole "
                            "layer (d_model = "
                         << dModel << ") is not supported; use d_model = 0";
  }
  if (hasWindow() && isLayer())
    return emitError() << "a sliding window with the whole layer (d_model = "
                       << dModel << ") is not supported yet; use d_model = 0";
  // Divisibility the layouts need.
  int64_t n = headGroups(), m = dimSlices();
  // Any sequence length splits over the ring: parts of near-equal size,
  // padded to localSeq() rows (ringrt/Layout.h).
  if (heads % n != 0 || kvHeads % n != 0)
    return emitError()
           << (heads % n != 0 ? "query heads (" : "key/value heads (")
           << (heads % n != 0 ? heads : kvHeads)
           << ") are not divisible by head_groups (" << n
           << "); valid head_groups divide both query heads (" << heads
           << ") and key/value heads (" << kvHeads
           << "): " << divisorsHint(heads, kvHeads);
  // The all-to-all: U divides the query heads of a head group (the local
  // block splits into near-equal shares of any size); key/value heads split over U or, when fewer than U,
  // are replicated (U a multiple of them, so that the query heads of one
  // a2a rank share one key/value head).
  int64_t U = a2a();
  if (U > 1) {
    // Any local block splits over the a2a axis: near-equal shares in
    // buffers of ceil(localSeq/U) rows (ringrt/Layout.h a2aShareRows).
    int64_t hq = heads / n, hkv = kvHeads / n;
    if (hq % U != 0)
      return emitError() << "a2a = " << U << " does not divide the "
                         << hq << " query heads of a head group (heads "
                         << heads << " / head_groups " << n
                         << "); the all-to-all gives each rank whole heads. "
                            "Valid a2a degrees: "
                         << divisorsHint(hq, hq);
    if (hkv % U != 0 && U % hkv != 0) {
      // Valid: divisors of hq that divide hkv or are multiples of it.
      std::string valid;
      llvm::raw_string_ostream os(valid);
      int64_t listed = 0;
      for (int64_t d = 1; d <= hq && d <= kMaxHintTrials && listed < 16; ++d)
        if (hq % d == 0 && (hkv % d == 0 || d % hkv == 0))
          os << (listed++ ? ", " : "") << d;
      return emitError() << "a2a = " << U << " neither divides the " << hkv
                         << " key/value heads of a head group nor is a "
                            "multiple of them, so an a2a rank's query heads "
                            "would need parts of two key/value heads; valid "
                            "a2a degrees: "
                         << valid;
    }
  }
  if (headDim % m != 0)
    return emitError() << "head_dim (" << headDim
                       << ") is not divisible by dim_slices (" << m
                       << "); valid dim_slices divide " << headDim << ": "
                       << divisorsHint(headDim, headDim);
  // Dim slices all-reduce a stage's fp32 scores [batch, local heads, local
  // seq, local seq]: that buffer's byte size must fit in 64 bits too, or the
  // schedule's sizes and remarks would wrap (found by the spec fuzzer).
  if (m > 1 && !checkedProduct({batch, heads / n, localSeq(), localSeq()}, 4))
    return emitError() << "the dim-slice score buffer of a stage (" << batch
                       << "x" << heads / n << "x" << localSeq() << "x" << localSeq()
                       << " fp32) overflows 64-bit byte offsets; use a larger "
                          "ring, more head groups or dim_slices=1";
  return success();
}

//===----------------------------------------------------------------------===//
// The whole layer
//===----------------------------------------------------------------------===//

FailureOr<AttentionPlan>
mlir::ring::deriveLayerPlan(AttentionLayerOp op,
                            SymbolTableCollection &symbols) {
  AttentionPlan plan;
  ArrayRef<int64_t> x = op.getX().getType().getShape();
  plan.batch = x[0];
  plan.seq = x[1];
  plan.dModel = x[2];
  plan.heads = op.getHeads();
  plan.headDim = op.getHeadDim();
  plan.kvHeads = op.getKvHeads();
  plan.elementType = op.getX().getType().getElementType();
  plan.mask = op.getMask();
  plan.balance = op.getEffectiveBalance();
  plan.scale = op.getEffectiveScale();
  plan.bias = !op.getBiases().empty();
  if (auto out = op.getOutput())
    plan.layerOutput = *out;

  // Operands in order, with the split each may have: X splits dim 1 over
  // the ring axis; W_q/W_k/W_v (and bq/bk/bv) their column dim over
  // [head groups(, dim slices)]; W_o its rows the same way; b_o nothing.
  struct Operand {
    StringRef name;
    Value value;
    int64_t dim; // the dimension that may be split; -1: none
  };
  SmallVector<Operand> operands = {{"x", op.getX(), 1},
                                   {"wq", op.getWq(), 1},
                                   {"wk", op.getWk(), 1},
                                   {"wv", op.getWv(), 1},
                                   {"wo", op.getWo(), 0}};
  if (plan.bias) {
    StringRef names[] = {"bq", "bk", "bv", "bo"};
    for (auto [i, b] : llvm::enumerate(op.getBiases()))
      operands.push_back({names[i], b, i < 3 ? 0 : -1});
  }
  SmallVector<shard::ShardingOp> shardings;
  for (const Operand &o : operands) {
    shard::ShardingOp sop;
    if (auto sh = o.value.getDefiningOp<shard::ShardOp>()) {
      sop = sh.getSharding().getDefiningOp<shard::ShardingOp>();
      if (!sop)
        return op.emitOpError()
               << "the sharding of " << o.name
               << " must be defined by a shard.sharding op in the same "
                  "function";
      if (!sop.getStaticHaloSizes().empty() ||
          !sop.getDynamicHaloSizes().empty() ||
          !sop.getStaticShardedDimsOffsets().empty() ||
          !sop.getDynamicShardedDimsOffsets().empty())
        return op.emitOpError()
               << "the sharding of " << o.name
               << " has halo sizes or sharded_dims_offsets; the layer "
                  "shards into equal blocks without halos";
    }
    shardings.push_back(sop);
  }
  unsigned annotated = llvm::count_if(shardings, [](auto s) { return !!s; });
  if (annotated != 0 && annotated != operands.size()) {
    unsigned missing = llvm::find(shardings, nullptr) - shardings.begin();
    return op.emitOpError()
           << operands[missing].name
           << " has no shard.shard annotation but other operands have one; "
              "annotate every operand of the layer on the same grid (b_o "
              "with split_axes = [[]])";
  }
  if (annotated != 0) {
    StringRef gridName = shardings[0].getGrid();
    for (auto [i, s] : llvm::enumerate(shardings))
      if (s.getGrid() != gridName)
        return op.emitOpError()
               << "x is sharded on grid @" << gridName << " but "
               << operands[i].name << " on grid @" << s.getGrid()
               << "; the layer's operands must use one grid";
    shard::GridOp gridOp =
        shard::getGridOrNull(op, shardings[0].getGridAttr(), symbols);
    if (!gridOp)
      return op.emitOpError() << "unknown grid @" << gridName;
    plan.grid = gridName.str();
    plan.gridShape.assign(gridOp.getShape().begin(), gridOp.getShape().end());
    for (auto [axis, size] : llvm::enumerate(plan.gridShape))
      if (ShapedType::isDynamic(size))
        return op.emitOpError() << "grid @" << gridName
                                << " has a dynamic size on axis " << axis
                                << "; ringc needs a static grid";
    int64_t gridRank = static_cast<int64_t>(plan.gridShape.size());
    // The axes each operand splits its one splittable dimension over.
    std::optional<SmallVector<int64_t>> weightAxes;
    StringRef weightAxesFrom;
    for (auto [i, o] : llvm::enumerate(operands)) {
      ArrayRef<shard::GridAxesAttr> split = shardings[i].getSplitAxes().getAxes();
      SmallVector<int64_t> axes;
      for (auto [dim, list] : llvm::enumerate(split)) {
        if (list.empty())
          continue;
        for (int16_t a : list.asArrayRef())
          if (a < 0 || a >= gridRank)
            return op.emitOpError()
                   << o.name << " is split over grid axis " << a
                   << " but grid @" << gridName << " has " << gridRank
                   << " axes";
        if (static_cast<int64_t>(dim) != o.dim)
          return op.emitOpError()
                 << o.name << " splits its dimension " << dim
                 << "; the layer splits only "
                 << (o.dim < 0 ? std::string("nothing of b_o")
                     : o.name == "x" ? std::string("x's sequence (dim 1) over "
                                                   "the ring axis")
                     : o.name == "wo" ? std::string("W_o's rows (dim 0) over "
                                                    "[head_group_axis(, "
                                                    "dim_slice_axis)]")
                                      : o.name + " along dim " +
                                            std::to_string(o.dim) +
                                            " over [head_group_axis(, "
                                            "dim_slice_axis)]");
        axes.assign(list.asArrayRef().begin(), list.asArrayRef().end());
      }
      if (o.name == "x") {
        if (axes.size() > 1)
          return op.emitOpError()
                 << "x's sequence is split over " << axes.size()
                 << " grid axes; it splits over the ring axis alone";
        plan.axisOfRole[0] = axes.empty() ? -1 : axes[0];
        continue;
      }
      if (o.dim < 0)
        continue;
      if (axes.size() > 2)
        return op.emitOpError()
               << o.name << " is split over " << axes.size()
               << " grid axes; weights split over [head_group_axis] or "
                  "[head_group_axis, dim_slice_axis]";
      if (!weightAxes) {
        weightAxes = axes;
        weightAxesFrom = o.name;
      } else if (*weightAxes != axes) {
        auto str = [](ArrayRef<int64_t> a) {
          std::string s = "[";
          for (auto [j, v] : llvm::enumerate(a))
            s += (j ? ", " : "") + std::to_string(v);
          return s + "]";
        };
        return op.emitOpError()
               << o.name << " is split over grid axes " << str(axes)
               << " but " << weightAxesFrom << " over " << str(*weightAxes)
               << "; every weight (and bias) of the layer splits its heads "
                  "the same way";
      }
    }
    if (weightAxes && !weightAxes->empty()) {
      plan.axisOfRole[1] = (*weightAxes)[0];
      if (weightAxes->size() == 2)
        plan.axisOfRole[2] = (*weightAxes)[1];
    }
  }
  if (plan.headDim == 0)
    return op.emitOpError() << "heads must divide wq's columns";
  if (failed(plan.verify([&] { return op.emitOpError(); })))
    return failure();
  return plan;
}
