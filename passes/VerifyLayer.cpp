//===- VerifyLayer.cpp - ring-verify-schedule for whole layers --*- C++ -*-===//
//
// This file implements the part of ring-verify-schedule that proves the
// projections and the Y reduction of a whole-layer per-rank function
// (ScheduleTrace.h): which buffers the attention works on, that the
// projections come before the ring and the output projection after it,
// and that the reduction of Y (all-reduce or reduce-scatter) matches over
// the head-group × dim-slice ranks of every ring coordinate, a
// reduce-scatter giving every row to exactly one of them.
//
//===----------------------------------------------------------------------===//

#include "dialect/RingOps.h"
#include "passes/ScheduleTrace.h"

#include <map>

using namespace mlir;
using namespace mlir::ring;

namespace {

/// The function argument named `name` (the per-rank ABI order).
Value argument(func::FuncOp func, const AttentionPlan &plan, StringRef name) {
  for (auto [i, b] : llvm::enumerate(perRankBuffers(plan, false)))
    if (b.name == name)
      return func.getArgument(i);
  return {};
}

int64_t bytesOf(Value v) {
  auto t = cast<MemRefType>(v.getType());
  return t.getNumElements() * (t.getElementTypeBitWidth() / 8);
}

} // namespace

FailureOr<AttentionBuffers>
mlir::ring::findAttentionBuffers(func::FuncOp func, const AttentionPlan &plan) {
  Block &body = func.getBody().front();
  if (!plan.isLayer()) {
    if (body.getNumArguments() < 5)
      return func.emitError("ring-verify-schedule expects the per-rank ABI "
                            "(q, k, v, o, lse)");
    return AttentionBuffers{body.getArgument(0), body.getArgument(1),
                            body.getArgument(2), body.getArgument(3),
                            body.getArgument(4)};
  }
  AttentionBuffers buf;
  buf.lse = argument(func, plan, "lse");
  Value x = argument(func, plan, "x");
  std::pair<StringRef, Value *> targets[] = {
      {"wq", &buf.q}, {"wk", &buf.k}, {"wv", &buf.v}};
  for (auto &[weight, slot] : targets) {
    Value w = argument(func, plan, weight);
    for (auto p : body.getOps<ProjectOp>())
      if (p.getWeight() == w && p.getInput() == x)
        *slot = p.getOutput();
    if (!*slot)
      return func.emitError()
             << "ring-verify-schedule: no ring.project at the top level of @"
             << func.getSymName() << " projects x with " << weight
             << "; a layer projects Q, K and V before the ring";
  }
  for (auto op : body.getOps<OutProjectOp>())
    buf.o = op.getInput();
  if (!buf.o)
    return func.emitError()
           << "ring-verify-schedule: no ring.out_project at the top level of @"
           << func.getSymName()
           << "; a layer projects O into Y after the ring";
  return buf;
}

LogicalResult mlir::ring::verifyLayerTraces(func::FuncOp func,
                                            const AttentionPlan &plan,
                                            const AttentionBuffers &buffers,
                                            ArrayRef<Rank> ranks,
                                            ArrayRef<SmallVector<Event>> traces) {
  Value x = argument(func, plan, "x"), y = argument(func, plan, "y");
  Value wo = argument(func, plan, "wo");
  auto biasArg = [&](StringRef name) {
    return plan.bias ? argument(func, plan, name) : Value();
  };
  struct Target {
    StringRef what, weight, bias;
    Value buffer;
  } targets[] = {{"Q", "wq", "bq", buffers.q},
                 {"K", "wk", "bk", buffers.k},
                 {"V", "wv", "bv", buffers.v}};
  // Ring coordinate -> the output all-reduces of each rank with it.
  std::map<int64_t, SmallVector<std::pair<size_t, SmallVector<const Event *>>>>
      groups;
  for (auto [ri, trace] : llvm::enumerate(traces)) {
    const Rank &rank = ranks[ri];
    auto fail = [&](const Event &e, const Twine &why) {
      return e.op->emitError() << "on " << rank.str() << " " << why;
    };
    int projected[3] = {0, 0, 0};
    bool finalized = false;
    const Event *outProject = nullptr;
    SmallVector<const Event *> reduces;
    for (const Event &e : trace) {
      if (e.kind == Event::Finalize) {
        finalized = true;
        continue;
      }
      if (e.kind == Event::Project) {
        auto p = cast<ProjectOp>(e.op);
        bool known = false;
        for (auto [t, target] : llvm::enumerate(targets)) {
          if (p.getOutput() != target.buffer)
            continue;
          known = true;
          if (p.getInput() != x ||
              p.getWeight() != argument(func, plan, target.weight) ||
              p.getBias() != biasArg(target.bias))
            return fail(e, "projects " + target.what +
                               " from other buffers than x, " +
                               target.weight +
                               (plan.bias ? (", " + target.bias).str()
                                          : std::string()) +
                               "; the ring would attend to the wrong "
                               "projection");
          if (++projected[t] > 1)
            return fail(e, "projects " + target.what + " a second time");
        }
        if (!known)
          return fail(e, "projects into a buffer the attention never reads");
        continue;
      }
      if (e.kind == Event::Block || e.kind == Event::Scores) {
        for (auto [t, target] : llvm::enumerate(targets))
          if (!projected[t] &&
              llvm::is_contained(e.op->getOperands(), target.buffer))
            return fail(e, "at stage " + Twine(e.stage) + " reads " +
                               target.what + " before it is projected");
        continue;
      }
      if (e.kind == Event::OutProject) {
        auto p = cast<OutProjectOp>(e.op);
        if (outProject)
          return fail(e, "projects O a second time");
        if (!finalized)
          return fail(e, "projects O before the ring's result is finalized "
                         "into it");
        if (p.getInput() != buffers.o || p.getWeight() != wo)
          return fail(e, "projects another buffer than O, or with another "
                         "weight than wo");
        outProject = &e;
        continue;
      }
      if (e.kind == Event::OutputReduce) {
        auto scatter = dyn_cast<OutputReduceScatterOp>(e.op);
        Value partial = e.op->getOperand(0);
        Value bias = scatter ? scatter.getBias()
                             : cast<OutputAllReduceOp>(e.op).getBias();
        Value out = scatter ? scatter.getOutput()
                            : cast<OutputAllReduceOp>(e.op).getOutput();
        StringRef kind = scatter ? "reduce-scatters" : "all-reduces";
        if (!outProject ||
            partial != cast<OutProjectOp>(outProject->op).getPartial())
          return fail(e, kind + " a buffer that ring.out_project did not "
                                "write before it");
        if (out != y || bias != biasArg("bo"))
          return fail(e, Twine("writes Y elsewhere than the y argument") +
                             (plan.bias ? ", or without bo" : "") +
                             "; the layer's result would be lost");
        if (static_cast<bool>(scatter) != plan.scattersOutput())
          return fail(e, kind + " Y but the plan's layer_output is " +
                             stringifyLayerOutput(plan.layerOutput) +
                             "; the y buffer and the artifact's token map "
                             "follow the plan");
        reduces.push_back(&e);
        continue;
      }
    }
    for (auto [t, target] : llvm::enumerate(targets))
      if (!projected[t])
        return func.emitError() << "on " << rank.str() << " "
                                << target.what << " is never projected";
    if (!outProject)
      return func.emitError() << "on " << rank.str()
                              << " O is never projected into Y";
    if (reduces.size() != 1)
      return (reduces.empty() ? func.emitError()
                              : reduces[1]->op->emitError())
             << "on " << rank.str() << " the partial Y is "
             << (plan.scattersOutput() ? "reduce-scattered " : "all-reduced ")
             << reduces.size()
             << " times; it must be exactly once over the head-group x "
                "dim-slice ranks";
    groups[rank.role[0]].push_back({ri, reduces});
  }
  // The reduction is collective over the ranks of a ring coordinate.
  for (auto &[ring, members] : groups) {
    auto &[ref, refReduces] = members.front();
    for (auto &[ri, reduces] : members) {
      int64_t mine = bytesOf(reduces[0]->op->getOperand(0)),
              theirs = bytesOf(refReduces[0]->op->getOperand(0));
      if (mine != theirs)
        return reduces[0]->op->emitError()
               << "on " << ranks[ri].str() << " reduces " << mine
               << " bytes of Y, but " << ranks[ref].str() << " " << theirs
               << "; the head-group x dim-slice reduction would corrupt Y";
    }
    if (!plan.scattersOutput())
      continue;
    // The reduce-scatter: rank (g, s) owns share j = s·n + g, local rows
    // [offset_j, offset_j + shares[j]) of its shares list. Each local row
    // of this ring coordinate must be owned by exactly one rank of it.
    int64_t rows = plan.localSeq(), k = plan.outputGroupSize();
    SmallVector<int64_t> owner(rows, -1);
    SmallVector<int64_t> want = plan.outputShares();
    for (auto &[ri, reduces] : members) {
      auto op = cast<OutputReduceScatterOp>(reduces[0]->op);
      const Rank &rank = ranks[ri];
      ArrayRef<int64_t> shares = op.getShares();
      int64_t j = plan.outputShareIndex(rank.role[1], rank.role[2]);
      if (static_cast<int64_t>(shares.size()) != k)
        return op.emitError()
               << "on " << rank.str() << " the reduce-scatter lists "
               << shares.size() << " shares but " << k
               << " ranks (head groups x dim slices) share ring coordinate "
               << ring << "; it needs one share per rank";
      for (int64_t r = op.getShareOffset(j),
                   end = r + shares[j];
           r < end; ++r) {
        if (r >= rows)
          return op.emitError() << "on " << rank.str() << " share " << j
                                << " reaches local row " << r << " of "
                                << rows;
        if (owner[r] >= 0)
          return op.emitError()
                 << "on " << rank.str() << " local row " << r
                 << " of ring coordinate " << ring
                 << " is owned twice: by this rank and by "
                 << ranks[owner[r]].str();
        owner[r] = static_cast<int64_t>(ri);
      }
      if (shares != ArrayRef<int64_t>(want)) {
        std::string w;
        llvm::raw_string_ostream os(w);
        os << "[";
        llvm::interleaveComma(want, os);
        os << "]";
        return op.emitError()
               << "on " << rank.str()
               << " the reduce-scatter's shares differ from the plan's "
               << w
               << " (ceil/floor of " << rows << " rows over " << k
               << " ranks, share j = dim slice * head_groups + head group), "
                  "which the artifact's header and manifest give";
      }
    }
    for (int64_t r = 0; r < rows; ++r)
      if (owner[r] < 0)
        return func.emitError()
               << "local row " << r << " of ring coordinate " << ring
               << " is owned by no rank after the reduce-scatter; its Y "
                  "would be lost";
  }
  return success();
}
