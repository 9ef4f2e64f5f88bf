//===- VerifySchedule.cpp - prove a ring schedule correct -------*- C++ -*-===//
//
// This file implements the ring-verify-schedule pass. It executes every
// per-rank function symbolically for every grid coordinate: index
// arithmetic, shard.process_multi_index and scf.if are evaluated, which
// yields one trace of block computations, merges and transfers per rank.
// On those traces it proves that transfers match between ring neighbours,
// follows which rank's K/V block every buffer holds, checks that no buffer
// in flight is touched, and counts every (query block, key block) pair that
// the mask leaves visible: each must be computed exactly once per rank.
// Backward schedules (functions with `ring.backward`) are proved by
// VerifyBackward.cpp on the same traces.
//
//===----------------------------------------------------------------------===//

#include "dialect/AttentionPlan.h"
#include "passes/Passes.h"
#include "passes/ScheduleTrace.h"
// Header-only maps shared with ringrt: the all-to-all blocks it executes.
#include "runtime/include/ringrt/Layout.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "llvm/ADT/DenseMap.h"

#include <array>
#include <map>
#include <limits>
#include <numeric>
#include <optional>

namespace mlir::ring {
#define GEN_PASS_DEF_RINGVERIFYSCHEDULEPASS
#include "passes/Passes.h.inc"
} // namespace mlir::ring

using namespace mlir;
using namespace mlir::ring;

namespace {

int64_t bytesOf(Value v) {
  auto t = cast<MemRefType>(v.getType());
  // Bytes per element first: the op verifiers bound elements·bytes, not
  // elements·bits.
  return t.getNumElements() * (t.getElementTypeBitWidth() / 8);
}

/// Traces one rank through a function.
class Tracer {
public:
  Tracer(const Rank &rank) : rank(rank) {}

  LogicalResult trace(Block &block, int64_t stage,
                      SmallVectorImpl<Event> &out) {
    for (Operation &op : block) {
      if (auto s = dyn_cast<StageOp>(op)) {
        if (failed(trace(s.getBody().front(), s.getIndex(), out)))
          return failure();
        continue;
      }
      if (auto ifOp = dyn_cast<scf::IfOp>(op)) {
        FailureOr<int64_t> c = eval(ifOp.getCondition());
        if (failed(c))
          return failure();
        Region &r = *c ? ifOp.getThenRegion() : ifOp.getElseRegion();
        if (!r.empty() && failed(trace(r.front(), stage, out)))
          return failure();
        continue;
      }
      Event e{Event::Fill, &op, stage};
      if (auto b = dyn_cast<BlockAttentionOp>(op)) {
        e.kind = Event::Block;
        if (failed(owners(b.getQOwner(), b.getKvOwner(), e)))
          return failure();
      } else if (auto b = dyn_cast<BlockAttentionAccumulateOp>(op)) {
        e.kind = Event::Block;
        if (failed(owners(b.getQOwner(), b.getKvOwner(), e)))
          return failure();
      } else if (auto b = dyn_cast<BlockSoftmaxVOp>(op)) {
        e.kind = Event::Block;
        if (failed(owners(b.getQOwner(), b.getKvOwner(), e)))
          return failure();
      } else if (auto b = dyn_cast<BlockAttentionBackwardOp>(op)) {
        e.kind = Event::GradBlock;
        if (failed(owners(b.getQOwner(), b.getKvOwner(), e)))
          return failure();
      } else if (isa<ZeroOp, GradDeltaOp, AccumulateOp, ConvertOp>(op)) {
        e.kind = Event::GradOther;
      } else if (isa<BlockScoresOp>(op)) {
        e.kind = Event::Scores;
      } else if (isa<MergeOp>(op)) {
        e.kind = Event::Merge;
      } else if (isa<FillPartialOp>(op)) {
        e.kind = Event::Fill;
      } else if (isa<FinalizeOp>(op)) {
        e.kind = Event::Finalize;
      } else if (isa<ShiftStartOp>(op)) {
        e.kind = Event::Start;
      } else if (isa<ShiftWaitOp>(op)) {
        e.kind = Event::Wait;
      } else if (isa<ShiftOp>(op)) {
        e.kind = Event::Shift;
      } else if (isa<AllReduceOp>(op)) {
        e.kind = Event::Reduce;
      } else if (isa<AllToAllOp>(op)) {
        e.kind = Event::AllToAll;
      } else if (auto sr = dyn_cast<SumReplicasOp>(op)) {
        e.kind = Event::SumReplicas;
        if (sr.getRows()) {
          FailureOr<int64_t> rows = eval(sr.getRows());
          if (failed(rows))
            return failure();
          e.rows = *rows;
        }
      } else if (isa<ProjectOp>(op)) {
        e.kind = Event::Project;
      } else if (isa<OutProjectOp>(op)) {
        e.kind = Event::OutProject;
      } else if (isa<OutputAllReduceOp, OutputReduceScatterOp>(op)) {
        e.kind = Event::OutputReduce;
      } else if (isa<LocalAttentionOp, LocalAttentionBackwardOp>(op)) {
        return op.emitOpError()
               << "is not scheduled; run ring-schedule before "
                  "ring-verify-schedule";
      } else {
        // Allocations, index arithmetic, terminators. Ring ops inside
        // another region (a loop, say) would escape the trace: refuse them.
        if (op.getNumRegions() != 0) {
          Operation *hidden = nullptr;
          op.walk([&](Operation *nested) {
            if (!hidden && isa<RingDialect>(nested->getDialect()))
              hidden = nested;
          });
          if (hidden)
            return hidden->emitOpError()
                   << "is nested in '" << op.getName()
                   << "', which ring-verify-schedule cannot follow (it "
                      "follows ring.stage and scf.if)";
        }
        continue;
      }
      out.push_back(e);
    }
    return success();
  }

private:
  LogicalResult owners(Value q, Value kv, Event &e) {
    FailureOr<int64_t> qo = eval(q), ko = eval(kv);
    if (failed(qo) || failed(ko))
      return failure();
    e.qOwner = *qo;
    e.kvOwner = *ko;
    return success();
  }

  /// Evaluates an index or i1 value on this rank.
  FailureOr<int64_t> eval(Value v) {
    auto it = env.find(v);
    if (it != env.end())
      return it->second;
    Operation *def = v.getDefiningOp();
    auto fail = [&]() -> FailureOr<int64_t> {
      if (def)
        def->emitOpError() << "cannot be evaluated by ring-verify-schedule "
                              "(it evaluates constants, index arithmetic, "
                              "comparisons, and/or, select and "
                              "shard.process_multi_index)";
      else
        mlir::emitError(v.getLoc())
            << "ring-verify-schedule cannot evaluate a block argument";
      return failure();
    };
    if (!def)
      return fail();
    auto operand = [&](unsigned i) { return eval(def->getOperand(i)); };
    FailureOr<int64_t> result = failure();
    if (auto c = dyn_cast<arith::ConstantOp>(def)) {
      if (auto i = dyn_cast<IntegerAttr>(c.getValue()))
        result = i.getValue().getSExtValue() & (i.getType().isInteger(1) ? 1 : -1);
      else
        return fail();
    } else if (auto pmi = dyn_cast<shard::ProcessMultiIndexOp>(def)) {
      unsigned idx = cast<OpResult>(v).getResultNumber();
      ArrayRef<int16_t> axes = pmi.getAxes();
      if (!axes.empty() && idx >= axes.size())
        return fail();
      int64_t axis = axes.empty() ? idx : axes[idx];
      if (axis < 0 || axis >= static_cast<int64_t>(rank.axisCoords.size()))
        return fail();
      result = rank.axisCoords[axis];
    } else if (isa<arith::IndexCastOp, arith::IndexCastUIOp>(def)) {
      result = operand(0);
    } else if (auto sel = dyn_cast<arith::SelectOp>(def)) {
      FailureOr<int64_t> c = operand(0);
      if (failed(c))
        return failure();
      result = operand(*c ? 1 : 2);
    } else if (def->getNumOperands() == 2 &&
               isa<arith::AddIOp, arith::SubIOp, arith::MulIOp,
                   arith::RemUIOp, arith::RemSIOp, arith::DivUIOp,
                   arith::DivSIOp, arith::CmpIOp, arith::AndIOp,
                   arith::OrIOp>(def)) {
      FailureOr<int64_t> a = operand(0), b = operand(1);
      if (failed(a) || failed(b))
        return failure();
      // Index arithmetic wraps (two's complement), as the hardware does;
      // division by zero and INT64_MIN / -1 are refused.
      uint64_t ua = static_cast<uint64_t>(*a), ub = static_cast<uint64_t>(*b);
      if (isa<arith::RemUIOp, arith::RemSIOp, arith::DivUIOp,
              arith::DivSIOp>(def) &&
          (*b == 0 || (isa<arith::RemSIOp, arith::DivSIOp>(def) &&
                       *b == -1 && *a == std::numeric_limits<int64_t>::min())))
        return fail();
      if (isa<arith::AddIOp>(def))
        result = static_cast<int64_t>(ua + ub);
      else if (isa<arith::SubIOp>(def))
        result = static_cast<int64_t>(ua - ub);
      else if (isa<arith::MulIOp>(def))
        result = static_cast<int64_t>(ua * ub);
      else if (isa<arith::RemSIOp>(def))
        result = *a % *b;
      else if (isa<arith::RemUIOp>(def))
        result = static_cast<int64_t>(ua % ub);
      else if (isa<arith::DivSIOp>(def))
        result = *a / *b;
      else if (isa<arith::DivUIOp>(def))
        result = static_cast<int64_t>(ua / ub);
      else if (isa<arith::AndIOp>(def))
        result = *a & *b;
      else if (isa<arith::OrIOp>(def))
        result = *a | *b;
      else
        result = evalCmp(cast<arith::CmpIOp>(def).getPredicate(), *a, *b);
    } else {
      return fail();
    }
    if (succeeded(result))
      env[v] = *result;
    return result;
  }

  static int64_t evalCmp(arith::CmpIPredicate p, int64_t a, int64_t b) {
    using P = arith::CmpIPredicate;
    switch (p) {
    case P::eq:
      return a == b;
    case P::ne:
      return a != b;
    case P::slt:
      return a < b;
    case P::sle:
      return a <= b;
    case P::sgt:
      return a > b;
    case P::sge:
      return a >= b;
    case P::ult:
      return static_cast<uint64_t>(a) < static_cast<uint64_t>(b);
    case P::ule:
      return static_cast<uint64_t>(a) <= static_cast<uint64_t>(b);
    case P::ugt:
      return static_cast<uint64_t>(a) > static_cast<uint64_t>(b);
    case P::uge:
      return static_cast<uint64_t>(a) >= static_cast<uint64_t>(b);
    }
    llvm_unreachable("unknown predicate");
  }

  const Rank &rank;
  DenseMap<Value, int64_t> env;
};

/// Follows the fp32 accumulators of one rank's trace row by row: a merge
/// (ring.merge, or ring.block_attention_accumulate without `first`) reads
/// rows that a ring.fill_partial or a `first` block initialised; a `first`
/// block never overwrites rows that hold merged blocks; the finalized
/// accumulator has every row initialised; and every accumulator that
/// blocks were merged into is finalized afterwards (else their results are
/// lost).
class AccumulatorChecker {
public:
  explicit AccumulatorChecker(const Rank &rank) : rank(rank) {}

  /// Local rows per accumulator that the checker follows: the state is kept
  /// per row, so a huge local sequence is a diagnostic, not an
  /// out-of-memory abort.
  static constexpr int64_t kMaxTrackedRows = int64_t(1) << 24;
  /// Row visits (fills, merges and finalizes, over all ranks) that the
  /// checker follows before it gives up with a diagnostic: about a second of
  /// work (found as a fuzzer time-out).
  static constexpr int64_t kRowBudget = int64_t(1) << 28;

  /// Refuses, before any row is followed, a schedule whose accumulators or
  /// row visits exceed the bounds above, with the first event past them.
  /// Checking up front keeps a refused schedule cheap to refuse.
  static LogicalResult checkBounds(ArrayRef<Rank> ranks,
                                   ArrayRef<SmallVector<Event>> traces) {
    int64_t visits = 0;
    for (auto [rank, trace] : llvm::zip(ranks, traces))
      for (const Event &e : trace) {
        Value lse;
        int64_t start = 0, count = -1; // -1: every row
        if (auto fill = dyn_cast<FillPartialOp>(e.op)) {
          lse = fill.getLse();
        } else if (auto fin = dyn_cast<FinalizeOp>(e.op)) {
          lse = fin.getAccLse();
        } else if (auto merge = dyn_cast<MergeOp>(e.op)) {
          lse = merge.getAccLse();
          start = merge.getRows()[0], count = merge.getRows()[1];
        } else if (auto acc = dyn_cast<BlockAttentionAccumulateOp>(e.op)) {
          lse = acc.getAccLse();
          start = acc.getQRows()[0], count = acc.getQRows()[1];
        } else {
          continue;
        }
        int64_t n = rowsOf(lse);
        auto fail = [&]() {
          return e.op->emitError()
                 << "on " << rank.str() << " at stage " << e.stage << " ";
        };
        if (n > kMaxTrackedRows)
          return fail() << "accumulates " << n
                        << " local rows; ring-verify-schedule follows at most "
                        << kMaxTrackedRows << " rows per rank (use a larger "
                                              "ring)";
        // Verified ops keep start and count within [0, n].
        int64_t rows = count < 0 ? n
                                 : std::max<int64_t>(
                                       0, std::min(start + count, n) - start);
        visits += rows;
        if (visits > kRowBudget)
          return fail() << "exceeds the " << kRowBudget
                        << " accumulator-row updates that ring-verify-schedule "
                           "follows over all ranks (ranks x stages x local "
                           "rows); use fewer tokens per rank or a smaller ring";
      }
    return success();
  }

  LogicalResult check(const Event &e) {
    if (auto fill = dyn_cast<FillPartialOp>(e.op)) {
      Acc *acc = lookup(e, fill.getOutput(), fill.getLse());
      if (!acc)
        return failure();
      for (auto [i, row] : llvm::enumerate(acc->rows))
        if (row == Row::Merged && acc->lastMerge)
          return error(e) << "resets accumulator row " << i
                          << ", which already holds merged blocks (last at "
                             "stage "
                          << acc->lastStage << ")";
      std::fill(acc->rows.begin(), acc->rows.end(), Row::Empty);
      return success();
    }
    if (auto merge = dyn_cast<MergeOp>(e.op))
      return merged(e, merge.getAccOutput(), merge.getAccLse(),
                    merge.getRows(), /*first=*/false);
    if (auto acc = dyn_cast<BlockAttentionAccumulateOp>(e.op))
      return merged(e, acc.getAccOutput(), acc.getAccLse(), acc.getQRows(),
                    acc.getFirst());
    if (auto fin = dyn_cast<FinalizeOp>(e.op)) {
      Acc *acc = lookup(e, fin.getAccOutput(), fin.getAccLse());
      if (!acc)
        return failure();
      for (auto [i, row] : llvm::enumerate(acc->rows))
        if (row == Row::Uninit)
          return error(e) << "finalizes accumulator row " << i
                          << ", which nothing initialised (no "
                             "ring.fill_partial and no `first` block wrote "
                             "it)";
      acc->lastMerge = nullptr;
    }
    return success();
  }

  /// Every accumulator that holds merged blocks was finalized after them.
  LogicalResult checkAllFinalized() {
    for (auto &[buffer, acc] : accs)
      if (acc.lastMerge)
        return acc.lastMerge->op->emitError()
               << "on " << rank.str() << " at stage " << acc.lastMerge->stage
               << " merges into a buffer that is never finalized afterwards; "
                  "the merged result is lost";
    return success();
  }

private:
  static int64_t rowsOf(Value lse) {
    return cast<MemRefType>(lse.getType()).getDimSize(2);
  }

  enum class Row : uint8_t { Uninit, Empty, Merged };
  struct Acc {
    Value lse;
    SmallVector<Row> rows;
    /// The last merge not yet finalized, and the stage of the last merge.
    const Event *lastMerge = nullptr;
    int64_t lastStage = -1;
  };

  InFlightDiagnostic error(const Event &e) {
    return e.op->emitError() << "on " << rank.str() << " at stage " << e.stage
                             << " ";
  }

  /// The state of accumulator (o, lse); fails when `o` was paired with
  /// another LSE buffer before.
  Acc *lookup(const Event &e, Value o, Value lse) {
    auto [it, inserted] = accs.try_emplace(o);
    Acc &acc = it->second;
    if (inserted) {
      acc.lse = lse;
      // checkBounds has bounded the rows (and the work over them).
      acc.rows.assign(rowsOf(lse), Row::Uninit);
    } else if (acc.lse != lse) {
      (void)(error(e) << "pairs an accumulator with another LSE buffer than "
                         "its earlier uses");
      return nullptr;
    }
    return &acc;
  }

  LogicalResult merged(const Event &e, Value o, Value lse,
                       ArrayRef<int64_t> rows, bool first) {
    Acc *acc = lookup(e, o, lse);
    if (!acc)
      return failure();
    int64_t end = std::min<int64_t>(rows[0] + rows[1], acc->rows.size());
    for (int64_t i = rows[0]; i < end; ++i) {
      if (first && acc->rows[i] == Row::Merged && acc->lastMerge)
        return error(e) << "is marked `first` but accumulator row " << i
                        << " already holds merged blocks (last at stage "
                        << acc->lastStage << "); writing it would drop them";
      if (!first && acc->rows[i] == Row::Uninit)
        return error(e) << "merges into accumulator row " << i
                        << ", which nothing initialised (no "
                           "ring.fill_partial and no `first` block wrote it)";
      acc->rows[i] = Row::Merged;
    }
    acc->lastMerge = &e;
    acc->lastStage = e.stage;
    return success();
  }

  const Rank &rank;
  DenseMap<Value, Acc> accs;
};

/// The checks over the traces of one function.
class ScheduleChecker {
public:
  ScheduleChecker(func::FuncOp func, const AttentionPlan &plan)
      : func(func), plan(plan), backward(func->hasAttr("ring.backward")) {}

  /// Emits, per stage, the score elements (per batch and head) that each
  /// ring rank of head group 0 and dim slice 0 computes.
  void emitWork() {
    std::map<int64_t, SmallVector<int64_t>> work; // stage -> per ring rank
    for (auto [ri, trace] : llvm::enumerate(traces)) {
      const Rank &rank = ranks[ri];
      if (rank.role[1] != 0 || rank.role[2] != 0 || rank.role[3] != 0)
        continue;
      for (const Event &e : trace) {
        if (e.kind != Event::Block)
          continue;
        auto &row = work[e.stage];
        row.resize(plan.ring(), 0);
        auto q = e.op->getAttrOfType<DenseI64ArrayAttr>("q_rows");
        auto k = e.op->getAttrOfType<DenseI64ArrayAttr>("kv_rows");
        row[rank.role[0]] += q[1] * k[1];
      }
    }
    for (auto &[stage, row] : work) {
      row.resize(plan.ring(), 0);
      std::string s;
      llvm::raw_string_ostream os(s);
      llvm::interleave(row, os, " ");
      func.emitRemark() << "stage " << stage
                        << " score elements per ring rank: " << s;
    }
  }

  LogicalResult run() {
    // Every grid coordinate, row-major over the grid shape.
    int64_t n = plan.numRanks();
    SmallVector<int64_t> shape = plan.gridShape;
    if (shape.empty())
      shape.push_back(1);
    for (int64_t r = 0; r < n; ++r) {
      Rank rank;
      rank.axisCoords.resize(shape.size());
      int64_t rest = r;
      for (int64_t a = shape.size() - 1; a >= 0; --a) {
        rank.axisCoords[a] = rest % shape[a];
        rest /= shape[a];
      }
      for (int role = 0; role < kNumGridRoles; ++role)
        if (plan.axisOfRole[role] >= 0)
          rank.role[role] = rank.axisCoords[plan.axisOfRole[role]];
      rank.hasA2A = plan.a2aAxis >= 0;
      if (rank.hasA2A)
        rank.role[kNumGridRoles] = rank.axisCoords[plan.a2aAxis];
      ranks.push_back(rank);
      traces.emplace_back();
      Tracer tracer(ranks.back());
      if (failed(tracer.trace(func.getBody().front(), -1, traces.back())))
        return failure();
    }
    if (backward) {
      SmallVector<SmallVector<int64_t>> rings;
      for (auto &[key, members] : groupsAlong(static_cast<int>(GridRole::Ring)))
        rings.push_back(members);
      return success(succeeded(findAttentionBuffers()) &&
                     succeeded(checkMatching()) &&
                     succeeded(checkAllToAll()) &&
                     succeeded(verifyBackwardTraces(func, plan, ranks, traces,
                                                    rings, attn)));
    }
    if (failed(findAttentionBuffers()))
      return failure();
    if (failed(checkMatching()) || failed(checkAllToAll()) ||
        failed(checkDataFlow()) || failed(checkCoverage()))
      return failure();
    return success(!plan.isLayer() ||
                   succeeded(verifyLayerTraces(func, plan, layerBuffers, ranks,
                                               traces)));
  }

private:
  /// Transfers (shifts) or all-reduces of a trace, in order.
  static SmallVector<const Event *> comms(ArrayRef<Event> trace, bool reduce) {
    SmallVector<const Event *> out;
    for (const Event &e : trace)
      if (reduce ? e.kind == Event::Reduce
                 : (e.kind == Event::Start || e.kind == Event::Shift))
        out.push_back(&e);
    return out;
  }

  /// Whether a transfer goes to ring rank p−1 (`backward`).
  static bool isBackward(const Event &e) {
    return e.op->hasAttr("backward");
  }

  static int64_t commBytes(const Event &e) {
    return bytesOf(e.op->getOperand(0));
  }

  /// Ranks grouped by the coordinates other than `role` (a GridRole, A2A
  /// included), ordered by `role`.
  std::map<std::array<int64_t, kNumGridRoles>, SmallVector<int64_t>>
  groupsAlong(int role) const {
    std::map<std::array<int64_t, kNumGridRoles>, SmallVector<int64_t>> groups;
    for (auto [i, r] : llvm::enumerate(ranks)) {
      std::array<int64_t, kNumGridRoles> key;
      for (int k = 0, o = 0; o <= kNumGridRoles; ++o)
        if (o != role)
          key[k++] = r.role[o];
      groups[key].push_back(i);
    }
    for (auto &[key, members] : groups)
      llvm::sort(members, [&](int64_t a, int64_t b) {
        return ranks[a].role[role] < ranks[b].role[role];
      });
    return groups;
  }

  LogicalResult checkMatching() {
    for (bool reduce : {false, true}) {
      int role = reduce ? static_cast<int>(GridRole::DimSlice)
                        : static_cast<int>(GridRole::Ring);
      StringRef what = reduce ? "all-reduce" : "transfer";
      for (auto &[key, members] : groupsAlong(role)) {
        auto ref = comms(traces[members[0]], reduce);
        for (int64_t m : members) {
          auto mine = comms(traces[m], reduce);
          for (size_t i = 0; i < std::max(ref.size(), mine.size()); ++i) {
            if (i >= mine.size() || i >= ref.size()) {
              Operation *at = i < mine.size() ? mine[i]->op : ref[i]->op;
              return at->emitError()
                     << ranks[m].str() << " issues " << mine.size() << " "
                     << what << "s but " << ranks[members[0]].str()
                     << " issues " << ref.size()
                     << "; the unmatched one would never complete";
            }
            if (!reduce && isBackward(*mine[i]) != isBackward(*ref[i]))
              return mine[i]->op->emitError()
                     << ranks[m].str() << " shifts transfer #" << i
                     << " at stage " << mine[i]->stage
                     << (isBackward(*mine[i]) ? " backward" : " forward")
                     << " but " << ranks[members[0]].str() << " shifts it "
                     << (isBackward(*ref[i]) ? "backward" : "forward")
                     << "; the ring would deadlock";
            if (mine[i]->stage != ref[i]->stage ||
                commBytes(*mine[i]) != commBytes(*ref[i]))
              return mine[i]->op->emitError()
                     << ranks[m].str() << " issues " << what << " #" << i
                     << " at stage " << mine[i]->stage << " with "
                     << commBytes(*mine[i]) << " bytes, but "
                     << ranks[members[0]].str() << " issues it at stage "
                     << ref[i]->stage << " with " << commBytes(*ref[i])
                     << " bytes; the ring would deadlock or corrupt data";
          }
        }
      }
    }
    // Every started transfer is waited on exactly once.
    for (auto [i, trace] : llvm::enumerate(traces)) {
      DenseMap<Value, const Event *> open;
      for (const Event &e : trace) {
        if (e.kind == Event::Start)
          open[e.op->getResult(0)] = &e;
        if (e.kind == Event::Wait) {
          Value t = e.op->getOperand(0);
          if (!open.erase(t))
            return e.op->emitError()
                   << "on " << ranks[i].str()
                   << " waits for a transfer that is not in flight";
        }
      }
      if (!open.empty())
        return open.begin()->second->op->emitError()
               << "on " << ranks[i].str() << " the transfer started at stage "
               << open.begin()->second->stage << " is never waited on";
    }
    return success();
  }

  /// What a score buffer of the dim-slice path holds.
  struct ScoresState {
    ArrayRef<int64_t> qRows, kvRows;
    int64_t keyOwner;
    bool reduced = false;
  };

  /// The dim-slice path: block_scores fills a score buffer, an all-reduce
  /// over the slices sums it, and one block_softmax_v with the same rows,
  /// on the V of the same block, consumes it.
  LogicalResult checkScores(const Event &e, const Rank &rank,
                            DenseMap<Value, ScoresState> &scores,
                            const DenseMap<Value, int64_t> &content) {
    if (auto sc = dyn_cast<BlockScoresOp>(e.op)) {
      scores[sc.getScores()] = {sc.getQRows(), sc.getKvRows(),
                                content.lookup(sc.getKey())};
      return success();
    }
    auto sv = dyn_cast<BlockSoftmaxVOp>(e.op);
    if (!sv)
      return success();
    auto it = scores.find(sv.getScores());
    auto fail = [&](StringRef why) {
      return e.op->emitError() << "on " << rank.str() << " at stage "
                               << e.stage << " " << why;
    };
    if (it == scores.end())
      return fail("reads scores that no ring.block_scores computed");
    if (it->second.qRows != sv.getQRows() ||
        it->second.kvRows != sv.getKvRows())
      return fail("reads scores computed for other rows");
    if (plan.dimSlices() > 1 && !it->second.reduced)
      return fail("reads partial scores before they are all-reduced over "
                  "the dim slices");
    if (it->second.keyOwner != content.lookup(sv.getValue()))
      return fail("pairs scores of one K/V block with the V of another");
    scores.erase(it);
    return success();
  }

  /// Follows K/V blocks through the buffers of every ring, in lockstep by
  /// transfer, and checks owners and in-flight buffers.
  LogicalResult checkDataFlow() {
    // A layer's own K/V block is in the buffers its projections write.
    Block &body = func.getBody().front();
    Value argK = plan.isLayer() ? attn[1] : body.getArgument(1);
    Value argV = plan.isLayer() ? attn[2] : body.getArgument(2);
    for (auto &[key, members] : groupsAlong(static_cast<int>(GridRole::Ring))) {
      size_t n = members.size();
      struct State {
        DenseMap<Value, int64_t> content;   // buffer -> owner of its block
        // buffer -> which tensor its block is (1: K, 2: V; 0: unknown), so
        // that an op reading V as its K (or the reverse) is caught.
        DenseMap<Value, int> tensor;
        DenseMap<Value, int> deliveredTensor; // token -> payload's tensor
        DenseMap<Value, int64_t> inRecv;    // buffer -> stage of transfer
        DenseMap<Value, int64_t> inSend;
        DenseMap<Value, int64_t> delivered; // token -> payload owner
        DenseMap<Value, Value> tokenRecv;
        DenseMap<Value, ScoresState> scores; // score buffer -> producer
        size_t cursor = 0;
      };
      SmallVector<State> st(n);
      // Without an all-to-all the rank's own block is in the arguments from
      // the start; with one, it arrives in attn[1], attn[2] by ring.all_to_all
      // (checkAllToAll proved what they hold).
      if (attn[1] == argK && attn[2] == argV)
        for (size_t i = 0; i < n; ++i) {
          st[i].content[argK] = ranks[members[i]].role[0];
          st[i].content[argV] = ranks[members[i]].role[0];
          st[i].tensor[argK] = 1;
          st[i].tensor[argV] = 2;
        }
      // Runs rank i up to (not including) its next transfer start.
      auto runSegment = [&](size_t i) -> LogicalResult {
        State &s = st[i];
        const Rank &rank = ranks[members[i]];
        auto &trace = traces[members[i]];
        for (; s.cursor < trace.size(); ++s.cursor) {
          const Event &e = trace[s.cursor];
          if (e.kind == Event::Start || e.kind == Event::Shift)
            return success();
          if (e.kind == Event::Wait) {
            Value t = e.op->getOperand(0);
            Value recv = s.tokenRecv.lookup(t);
            s.content[recv] = s.delivered.lookup(t);
            s.tensor[recv] = s.deliveredTensor.lookup(t);
            s.inRecv.erase(recv);
            Operation *start = t.getDefiningOp();
            s.inSend.erase(start->getOperand(0));
            continue;
          }
          // No op touches a buffer that is being received into.
          for (Value operand : e.op->getOperands())
            if (s.inRecv.count(operand))
              return e.op->emitError()
                     << "on " << rank.str() << " at stage " << e.stage
                     << " uses a buffer whose transfer (started at stage "
                     << s.inRecv.lookup(operand)
                     << ") has not been waited on";
          if (e.kind == Event::AllToAll) {
            Value recv = cast<AllToAllOp>(e.op).getRecv();
            if (recv == attn[1] || recv == attn[2]) {
              s.content[recv] = rank.role[0];
              s.tensor[recv] = recv == attn[1] ? 1 : 2;
            }
            continue;
          }
          if (e.kind == Event::Reduce) {
            auto it = s.scores.find(e.op->getOperand(0));
            if (it != s.scores.end())
              it->second.reduced = true;
            continue;
          }
          if (e.kind != Event::Block && e.kind != Event::Scores)
            continue;
          if (failed(checkScores(e, rank, s.scores, s.content)))
            return failure();
          if (e.kind == Event::Block && e.qOwner != rank.role[0])
            return e.op->emitError()
                   << "on " << rank.str() << " at stage " << e.stage
                   << " says its queries belong to ring rank " << e.qOwner
                   << " but they are the rank's own (ring rank "
                   << rank.role[0] << ")";
          // The K/V operands (1: key, 2: value): key and value, or the
          // value of softmax_v, or the key of block_scores.
          SmallVector<std::pair<Value, int>> kv;
          if (auto b = dyn_cast<BlockAttentionOp>(e.op))
            kv = {{b.getKey(), 1}, {b.getValue(), 2}};
          else if (auto b = dyn_cast<BlockAttentionAccumulateOp>(e.op))
            kv = {{b.getKey(), 1}, {b.getValue(), 2}};
          else if (auto b = dyn_cast<BlockSoftmaxVOp>(e.op))
            kv = {{b.getValue(), 2}};
          else
            kv = {{cast<BlockScoresOp>(e.op).getKey(), 1}};
          for (auto [buf, want] : kv) {
            auto it = s.content.find(buf);
            if (it == s.content.end() || it->second < 0)
              return e.op->emitError()
                     << "on " << rank.str() << " at stage " << e.stage
                     << " reads a K/V buffer that holds no block yet";
            if (e.kind == Event::Block && it->second != e.kvOwner)
              return e.op->emitError()
                     << "on " << rank.str() << " at stage " << e.stage
                     << " says its K/V block comes from ring rank "
                     << e.kvOwner << " but the buffer holds ring rank "
                     << it->second << "'s block";
            if (int held = s.tensor.lookup(buf); held != want)
              return e.op->emitError()
                     << "on " << rank.str() << " at stage " << e.stage
                     << " reads as its " << (want == 1 ? "keys" : "values")
                     << " a buffer that holds ring rank " << it->second
                     << "'s "
                     << (held == 1 ? "K" : held == 2 ? "V" : "unknown")
                     << " block";
            if (e.kind == Event::Block)
              blockOwner[e.op][members[i]] = it->second;
          }
        }
        return success();
      };
      for (;;) {
        for (size_t i = 0; i < n; ++i)
          if (failed(runSegment(i)))
            return failure();
        if (st[0].cursor >= traces[members[0]].size())
          break;
        // All ranks are at the same transfer (checkMatching proved it).
        SmallVector<int64_t> payload(n);
        SmallVector<int> payloadTensor(n);
        for (size_t i = 0; i < n; ++i) {
          const Event &e = traces[members[i]][st[i].cursor];
          Value send = e.op->getOperand(0), recv = e.op->getOperand(1);
          if (st[i].inRecv.count(send) || st[i].inRecv.count(recv) ||
              st[i].inSend.count(recv))
            return e.op->emitError()
                   << "on " << ranks[members[i]].str() << " at stage "
                   << e.stage
                   << " uses a buffer that another transfer still has in "
                      "flight";
          auto it = st[i].content.find(send);
          payload[i] = it == st[i].content.end() ? -1 : it->second;
          payloadTensor[i] = st[i].tensor.lookup(send);
        }
        for (size_t i = 0; i < n; ++i) {
          const Event &e = traces[members[i]][st[i].cursor];
          // Forward, the successor receives our block and we receive the
          // predecessor's; backward the reverse.
          size_t from = isBackward(e) ? (i + 1) % n : (i + n - 1) % n;
          int64_t incoming = payload[from];
          Value recv = e.op->getOperand(1);
          if (e.kind == Event::Shift) {
            st[i].content[recv] = incoming;
            st[i].tensor[recv] = payloadTensor[from];
          } else {
            Value t = e.op->getResult(0);
            st[i].delivered[t] = incoming;
            st[i].deliveredTensor[t] = payloadTensor[from];
            st[i].tokenRecv[t] = recv;
            st[i].inRecv[recv] = e.stage;
            st[i].inSend[e.op->getOperand(0)] = e.stage;
          }
          ++st[i].cursor;
        }
      }
    }
    return success();
  }

  LogicalResult checkCoverage() {
    int64_t P = plan.ring(), Ll = plan.localSeq();
    // Rows are counted in units that no block boundary splits.
    int64_t unit = Ll;
    if (plan.balance == Balance::zigzag && Ll % 2 == 0)
      unit = std::gcd(unit, Ll / 2);
    for (auto &trace : traces)
      for (const Event &e : trace)
        if (e.kind == Event::Block)
          for (StringRef name : {"q_rows", "kv_rows"}) {
            auto r = e.op->getAttrOfType<DenseI64ArrayAttr>(name);
            unit = std::gcd(unit, std::gcd(r[0], r[0] + r[1]));
          }
    int64_t U = Ll / unit;
    // The check enumerates (query unit, key unit) pairs per rank: bound it
    // so that a schedule cut into tiny blocks fails fast instead of hanging.
    constexpr int64_t kMaxPairs = int64_t(1) << 22;
    if (U > kMaxPairs / U / P)
      return func.emitError()
             << "the blocks of this schedule cut the local sequence of " << Ll
             << " rows into " << U << " units of " << unit
             << " rows; ring-verify-schedule checks at most " << kMaxPairs
             << " (query unit, key unit) pairs per rank, not " << U << "x"
             << U << "x" << P;

    if (failed(AccumulatorChecker::checkBounds(ranks, traces)))
      return failure();
    for (auto [ri, trace] : llvm::enumerate(traces)) {
      const Rank &rank = ranks[ri];
      int64_t p = rank.role[0];
      // (q unit, global k unit) -> the first event that computed it.
      std::map<std::pair<int64_t, int64_t>, const Event *> done;
      DenseMap<Value, const Event *> unmerged;
      bool finalized = false;
      AccumulatorChecker accs(rank);
      for (const Event &e : trace) {
        if (failed(accs.check(e)))
          return failure();
        if (e.kind == Event::Merge) {
          auto merge = cast<MergeOp>(e.op);
          const Event *b = unmerged.lookup(merge.getPartialOutput());
          if (!b)
            return e.op->emitError()
                   << "on " << rank.str() << " at stage " << e.stage
                   << " merges a partial result that no block computed";
          if (merge.getRows() !=
              b->op->getAttrOfType<DenseI64ArrayAttr>("q_rows").asArrayRef())
            return e.op->emitError()
                   << "on " << rank.str() << " at stage " << e.stage
                   << " merges rows that differ from the q_rows of the block "
                      "that computed the partial";
          unmerged.erase(merge.getPartialOutput());
          continue;
        }
        if (e.kind == Event::Finalize) {
          auto fin = cast<FinalizeOp>(e.op);
          if (fin.getOutput() != attn[3] || fin.getLse() != attn[4])
            return e.op->emitError()
                   << "on " << rank.str()
                   << " finalizes into buffers other than the "
                   << (plan.isLayer()
                           ? "O that ring.out_project reads and the "
                             "function's lse argument"
                       : attn[3] == func.getBody().front().getArgument(3)
                           ? "function's o and lse arguments"
                           : "o and lse that the all-to-all returns")
                   << "; the result would be lost";
          if (!unmerged.empty())
            return unmerged.begin()->second->op->emitError()
                   << "on " << rank.str()
                   << " this partial result is never merged";
          finalized = true;
          continue;
        }
        if (e.kind != Event::Block)
          continue;
        Value query = e.op->getOperand(0);
        if (isa<BlockAttentionOp, BlockAttentionAccumulateOp>(e.op) &&
            query != attn[0])
          return e.op->emitError()
                 << "on " << rank.str() << " at stage " << e.stage
                 << " reads queries from a buffer other than the "
                 << (plan.isLayer() ? "Q that ring.project writes"
                     : attn[0] == func.getBody().front().getArgument(0)
                         ? "function's q argument"
                         : "head-sharded q of the all-to-all");
        // The fused form merges its own result (AccumulatorChecker).
        if (!isa<BlockAttentionAccumulateOp>(e.op)) {
          Value partial =
              e.op->getOperand(isa<BlockAttentionOp>(e.op) ? 3 : 2);
          if (unmerged.count(partial))
            return e.op->emitError()
                   << "on " << rank.str() << " at stage " << e.stage
                   << " overwrites the partial result of stage "
                   << unmerged.lookup(partial)->stage
                   << " before it is merged";
          unmerged[partial] = &e;
        }
        auto q = e.op->getAttrOfType<DenseI64ArrayAttr>("q_rows");
        auto k = e.op->getAttrOfType<DenseI64ArrayAttr>("kv_rows");
        auto mask = e.op->getAttrOfType<MaskKindAttr>("mask").getValue();
        bool windowed = e.op->hasAttr("window");
        std::string where = "on " + rank.str() + " at stage " +
                            std::to_string(e.stage) + " ";
        if (failed(checkBlockMaskAttrs(e.op, plan, where)))
          return failure();
        int64_t owner = blockOwner[e.op].lookup(ri);
        for (int64_t qu = q[0] / unit; qu < (q[0] + q[1]) / unit; ++qu)
          for (int64_t ku = k[0] / unit; ku < (k[0] + k[1]) / unit; ++ku) {
            BlockVisibility vis = rowsVisibility(plan, p, qu * unit, unit,
                                                 owner, ku * unit, unit);
            if ((mask == MaskKind::none && vis.causalCut) ||
                (!windowed && vis.windowCut))
              return e.op->emitError()
                     << where << "computes query rows [" << qu * unit << ", "
                     << (qu + 1) * unit << ") against rows [" << ku * unit
                     << ", " << (ku + 1) * unit << ") of ring rank " << owner
                     << "'s keys without "
                     << (vis.causalCut && mask == MaskKind::none
                             ? "a mask, but the causal mask"
                             : "the window mask, but the sliding window")
                     << " hides some of those pairs";
            auto key = std::make_pair(qu, owner * U + ku);
            auto [it, inserted] = done.insert({key, &e});
            if (!inserted)
              return e.op->emitError()
                     << "on " << rank.str() << " at stage " << e.stage
                     << " computes query rows [" << qu * unit << ", "
                     << (qu + 1) * unit << ") against rows [" << ku * unit
                     << ", " << (ku + 1) * unit << ") of ring rank " << owner
                     << "'s keys a second time (first at stage "
                     << it->second->stage << ")";
          }
      }
      if (!finalized)
        return func.emitError() << "on " << rank.str()
                                << " the result is never finalized";
      if (failed(accs.checkAllFinalized()))
        return failure();
      // Every visible pair was computed.
      for (int64_t qu = 0; qu < U; ++qu)
        for (int64_t owner = 0; owner < P; ++owner)
          for (int64_t ku = 0; ku < U; ++ku) {
            bool any = rowsVisibility(plan, p, qu * unit, unit, owner,
                                      ku * unit, unit)
                           .any;
            if (any && !done.count({qu, owner * U + ku}))
              return func.emitError()
                     << "on " << rank.str() << " query rows [" << qu * unit
                     << ", " << (qu + 1) * unit << ") never see rows ["
                     << ku * unit << ", " << (ku + 1) * unit
                     << ") of ring rank " << owner
                     << "'s keys, which the mask"
                     << (plan.hasWindow() ? " and the window leave"
                                          : " leaves")
                     << " visible";
          }
    }
    return success();
  }

  /// The buffers the attention reads and writes: (q, k, v, o, lse), or for
  /// a backward function (q, k, v, o, lse, do, dq, dk, dv). They are the
  /// function's arguments, or with an a2a axis the head-sharded buffers
  /// that ring.all_to_all fills from them and returns into them (through a
  /// ring.sum_replicas for replicated key/value heads' dK/dV).
  Value attn[9];

  /// The arguments an attention reads (its inputs), and all of them.
  int numInputs() const { return backward ? 6 : 3; }
  int numBuffers() const { return backward ? 9 : 5; }
  static StringRef bufferName(int i) {
    static const char *names[] = {"q",  "k",  "v",  "o", "lse",
                                  "do", "dq", "dk", "dv"};
    return names[i];
  }

  LogicalResult findAttentionBuffers() {
    Block &body = func.getBody().front();
    if (plan.isLayer() && !backward) {
      FailureOr<AttentionBuffers> found =
          mlir::ring::findAttentionBuffers(func, plan);
      if (failed(found))
        return failure();
      layerBuffers = *found;
      Value bufs[] = {found->q, found->k, found->v, found->o, found->lse};
      for (int i = 0; i < 5; ++i)
        attn[i] = bufs[i];
      return success();
    }
    // (Packed documents add cu_seqlens after the buffers.)
    int expected = numBuffers() + (plan.hasDocuments() ? 1 : 0);
    if (static_cast<int>(body.getNumArguments()) != expected &&
        (backward || body.getNumArguments() < 5))
      return func.emitError(backward
                                ? "ring-verify-schedule expects the backward "
                                  "per-rank ABI (q, k, v, o, lse, do, dq, dk, "
                                  "dv)"
                                : "ring-verify-schedule expects the per-rank "
                                  "ABI (q, k, v, o, lse)");
    for (int i = 0; i < numBuffers(); ++i)
      attn[i] = body.getArgument(i);
    SmallVector<AllToAllOp> a2as;
    func.walk([&](AllToAllOp op) { a2as.push_back(op); });
    SmallVector<SumReplicasOp> sums;
    func.walk([&](SumReplicasOp op) { sums.push_back(op); });
    if (plan.a2a() == 1 && a2as.empty() && sums.empty())
      return success();
    if (plan.a2a() == 1)
      return (a2as.empty() ? sums.front().getOperation()
                           : a2as.front().getOperation())
                 ->emitError()
             << "exchanges over an a2a axis, but the plan has none";
    for (int i = 0; i < numBuffers(); ++i) {
      bool in = i < numInputs();
      Value arg = body.getArgument(i);
      // Replicated key/value heads: dk and dv come from a ring.sum_replicas
      // over the all-to-all's U heads.
      if (backward && i >= 7 && plan.replicatesKvHeads()) {
        SmallVector<SumReplicasOp> mine;
        for (SumReplicasOp op : sums)
          if (op.getDest() == arg)
            mine.push_back(op);
        if (mine.size() != 1)
          return func.emitError()
                 << "with a2a = " << plan.a2a()
                 << " the key/value heads are replicated, so the "
                 << bufferName(i)
                 << " argument must be written by exactly one "
                    "ring.sum_replicas (the sum of the replicas' "
                    "gradients), not "
                 << mine.size();
        arg = mine[0].getSource();
      }
      SmallVector<AllToAllOp> mine;
      for (AllToAllOp op : a2as)
        if ((in ? op.getSend() : op.getRecv()) == arg &&
            op.getMode() ==
                (in ? A2AMode::seq_to_heads : A2AMode::heads_to_seq))
          mine.push_back(op);
      if (mine.size() != 1)
        return func.emitError()
               << "with a2a = " << plan.a2a() << " the "
               << (arg == body.getArgument(i)
                       ? std::string(bufferName(i)) + " argument"
                       : "source of the " + std::string(bufferName(i)) +
                             " argument's ring.sum_replicas")
               << " must be " << (in ? "sent" : "received") << " by exactly one "
               << (in ? "seq_to_heads" : "heads_to_seq")
               << " ring.all_to_all, not " << mine.size();
      attn[i] = in ? mine[0].getRecv() : mine[0].getSend();
      for (int j = 0; j < i; ++j)
        if (attn[j] == attn[i])
          return func.emitError()
                 << "with a2a = " << plan.a2a() << " the " << bufferName(i)
                 << " and " << bufferName(j)
                 << " arguments go through the same head-sharded buffer; "
                    "each needs its own";
    }
    return success();
  }

  /// The tokens of a cell: a rank's whole share (`plan.abiSeq()`) when U
  /// divides the ring's local block, else one token (the shares differ).
  int64_t cellRows() const {
    return plan.hasA2APadding() ? 1 : plan.abiSeq();
  }

  /// A cell of an all-to-all buffer: batch, global head, and the unit of
  /// cellRows() tokens starting at ring-local row `row` of ring rank
  /// `owner`. -1 everywhere: nothing (also an a2a padding row).
  struct Cell {
    /// Which tensor, as an index into bufferName: 0, 1, 2 (q, k, v) in a
    /// forward function, whose o and lse rows are q's; any of the nine in
    /// a backward one.
    int64_t tensor = -1;
    int64_t batch = -1, head = -1, owner = -1, row = -1;
    /// dK/dV cells: the query heads whose contributions the cell sums
    /// (sorted; a head twice is a contribution counted twice).
    SmallVector<int64_t, 4> from;
    bool operator==(const Cell &o) const {
      return tensor == o.tensor && batch == o.batch && head == o.head &&
             owner == o.owner && row == o.row && from == o.from;
    }
    bool sameRows(const Cell &o) const {
      return tensor == o.tensor && batch == o.batch && head == o.head &&
             owner == o.owner && row == o.row;
    }
    std::string str() const {
      if (head < 0)
        return "nothing";
      std::string out = std::string(bufferName(tensor)) + " head " +
                        std::to_string(head) + " rows [" +
                        std::to_string(row) + ", +" +
                        std::to_string(unitRows) + ") of ring rank " +
                        std::to_string(owner) + " (batch " +
                        std::to_string(batch) + ")";
      if (!from.empty()) {
        out += " summed over query heads {";
        for (auto [i, h] : llvm::enumerate(from))
          out += (i ? ", " : "") + std::to_string(h);
        out += "}";
      }
      return out;
    }
    int64_t unitRows = 0;
  };

  /// The cells buffer `which` (an index into bufferName) should hold on
  /// `rank`, as the argument (`abi`) or as the attention's buffer.
  SmallVector<Cell> expectedCells(const Rank &rank, int which, bool abi) const {
    int64_t Ls = cellRows(), U = plan.a2a();
    int64_t hqGroup = plan.heads / plan.headGroups();
    int64_t hkvGroup = plan.kvHeads / plan.headGroups();
    int64_t r = plan.heads / plan.kvHeads;
    int64_t g = rank.role[1], u = rank.role[3], p = rank.role[0];
    bool kv = which == 1 || which == 2 || which == 7 || which == 8;
    bool summed = which == 7 || which == 8;
    int64_t heads = abi ? (kv ? hkvGroup : hqGroup)
                        : (kv ? plan.localKvHeads() : plan.localHeads());
    int64_t units = (abi ? plan.abiSeq() : plan.localSeq()) / Ls;
    (void)U;
    // The attention's query heads on this rank.
    int64_t firstLocalQ = hqGroup * g + plan.localHeads() * u;
    SmallVector<Cell> cells;
    for (int64_t b = 0; b < plan.batch; ++b)
      for (int64_t h = 0; h < heads; ++h)
        for (int64_t c = 0; c < units; ++c) {
          int64_t head;
          if (abi) {
            head = (kv ? hkvGroup : hqGroup) * g + h;
          } else {
            // Query head of the attention's local head; a key/value head is
            // the one its first query head uses (GQA: h / (Hq / Hkv)).
            int64_t qLocal =
                kv ? h * (plan.localHeads() / plan.localKvHeads()) : h;
            head = firstLocalQ + qLocal;
            if (kv)
              head /= r;
          }
          // The caller's buffer holds the rank's share, then a2a padding.
          if (abi && c * Ls >= plan.a2aShareRows(u)) {
            cells.push_back(Cell());
            continue;
          }
          Cell cell{backward || kv ? which : 0, b, head, p,
                    abi ? plan.a2aShareStart(u) + c * Ls : c * Ls};
          cell.unitRows = Ls;
          // dK/dV sum over the query heads of their key/value head: all r
          // of them for the caller, the rank's own for the attention.
          if (summed)
            for (int64_t q = head * r; q < (head + 1) * r; ++q)
              if (abi || (q >= firstLocalQ && q < firstLocalQ + plan.localHeads()))
                cell.from.push_back(q);
          cells.push_back(cell);
        }
    return cells;
  }

  /// The operands of `op` that read the attention's inputs, with the input
  /// (an index into bufferName) each must hold. The roles come from the
  /// op, not from the buffer, so that an op reading V as its K is caught.
  SmallVector<std::pair<Value, int>> inputRoles(Operation *op) const {
    if (auto b = dyn_cast<BlockAttentionOp>(op))
      return {{b.getQuery(), 0}, {b.getKey(), 1}, {b.getValue(), 2}};
    if (auto b = dyn_cast<BlockAttentionAccumulateOp>(op))
      return {{b.getQuery(), 0}, {b.getKey(), 1}, {b.getValue(), 2}};
    if (auto b = dyn_cast<BlockSoftmaxVOp>(op))
      return {{b.getValue(), 2}};
    if (auto b = dyn_cast<BlockScoresOp>(op)) {
      // Backward: dO·Vᵀ when the queries are dO (VerifyBackward's rule).
      if (backward && b.getQuery() == attn[5])
        return {{b.getQuery(), 5}, {b.getKey(), 2}};
      return {{b.getQuery(), 0}, {b.getKey(), 1}};
    }
    if (auto b = dyn_cast<BlockAttentionBackwardOp>(op))
      return {{b.getQuery(), 0},
              {b.getKey(), 1},
              {b.getValue(), 2},
              {b.getGradOutput(), 5},
              {b.getLse(), 4}};
    if (auto d = dyn_cast<GradDeltaOp>(op))
      return {{d.getOutput(), 3}, {d.getGradOutput(), 5}};
    return {};
  }

  /// Checks that every operand of `e` that reads an attention input holds
  /// exactly the cells of its role. Until the first block (`computed`),
  /// every input must have arrived by all-to-all; later blocks may read
  /// K/V blocks that ring shifts brought (checkDataFlow and VerifyBackward
  /// follow those).
  LogicalResult checkInputCells(const Event &e, const Rank &rank,
                                DenseMap<Value, SmallVector<Cell>> &content,
                                bool &computed) const {
    static const char *roleNames[] = {"queries", "keys", "values", "o",
                                      "lse",     "do"};
    bool block = e.kind == Event::Block || e.kind == Event::Scores ||
                 e.kind == Event::GradBlock;
    for (auto [buf, w] : inputRoles(e.op)) {
      auto it = content.find(buf);
      if (it == content.end()) {
        if (!computed || w == 0 || w >= 3)
          return e.op->emitError()
                 << "on " << rank.str() << " at stage " << e.stage
                 << " runs before the " << roleNames[w]
                 << " arrive by all-to-all";
        continue;
      }
      SmallVector<Cell> want = expectedCells(rank, w, /*abi=*/false);
      for (size_t c = 0; c < want.size(); ++c)
        if (c >= it->second.size() || !(it->second[c] == want[c]))
          return e.op->emitError()
                 << "on " << rank.str() << " reads as its " << roleNames[w]
                 << " cell " << c << " "
                 << (c < it->second.size() ? it->second[c].str()
                                           : std::string("nothing"))
                 << ", but the plan needs " << want[c].str();
    }
    if (block)
      computed = true;
    return success();
  }

  /// ring.sum_replicas on cells: destination head h sums source heads
  /// [h·R, (h+1)·R), which must be replicas of the same rows; their query
  /// heads are gathered (checked against the plan at the end). With
  /// `rows` (the event's), only the cells of the first `rows` rows are
  /// written; the rest of the destination keeps what it held. A summed
  /// cell that no all-to-all delivered (an a2a padding row) is an error:
  /// the op would write the padding of the caller's buffer.
  LogicalResult sumReplicaCells(const Event &e, const Rank &rank,
                                DenseMap<Value, SmallVector<Cell>> &content) {
    auto op = cast<SumReplicasOp>(e.op);
    auto st = cast<MemRefType>(op.getSource().getType());
    auto dt = cast<MemRefType>(op.getDest().getType());
    int64_t unit = cellRows();
    auto it = content.find(op.getSource());
    int64_t B = st.getDimSize(0), Hs = st.getDimSize(1),
            Hd = dt.getDimSize(1), S = st.getDimSize(2) / unit;
    if (it == content.end() || st.getDimSize(2) % unit != 0 ||
        static_cast<int64_t>(it->second.size()) != B * Hs * S)
      return op.emitError() << "on " << rank.str()
                            << " sums replicas that no all-to-all delivered";
    int64_t written = S;
    if (e.rows >= 0) {
      if (e.rows > st.getDimSize(2) || e.rows % unit != 0)
        return op.emitError()
               << "on " << rank.str() << " sums " << e.rows
               << " rows of buffers of " << st.getDimSize(2)
               << " rows; valid: a multiple of " << unit << " up to "
               << st.getDimSize(2);
      written = e.rows / unit;
    }
    int64_t R = Hs / Hd;
    SmallVector<Cell> out(B * Hd * S, Cell());
    auto old = content.find(op.getDest());
    if (old != content.end() && old->second.size() == out.size())
      out = old->second;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < Hd; ++h)
        for (int64_t c = 0; c < written; ++c) {
          Cell sum = it->second[(b * Hs + h * R) * S + c];
          for (int64_t r = 0; r < R; ++r) {
            const Cell &x = it->second[(b * Hs + h * R + r) * S + c];
            if (x.head < 0)
              return op.emitError()
                     << "on " << rank.str() << " sums row "
                     << c * unit << " of source head " << h * R + r
                     << " (batch " << b
                     << "), which no all-to-all delivered (an a2a padding "
                        "row), into the caller's buffer; valid: rows "
                     << "= the rank's share of "
                     << plan.a2aShareRows(rank.role[3]) << " rows";
            if (r == 0)
              continue;
            if (!x.sameRows(sum))
              return op.emitError()
                     << "on " << rank.str() << " adds " << x.str()
                     << " onto " << sum.str()
                     << "; only replicas of one key/value head's rows may "
                        "be summed";
            sum.from.append(x.from.begin(), x.from.end());
          }
          llvm::sort(sum.from);
          out[(b * Hd + h) * S + c] = sum;
        }
    content[op.getDest()] = std::move(out);
    return success();
  }

  /// Proves the all-to-alls of an a2a plan: every rank of an a2a group
  /// issues the same ones in the same order; executed on cells, they give
  /// the attention exactly the heads and tokens of its plan before the
  /// first block, and give back every output cell exactly once after the
  /// finalize.
  LogicalResult checkAllToAll() {
    if (plan.a2a() == 1)
      return success();
    const int a2aRole = kNumGridRoles;
    int64_t unit = cellRows();
    // Cells are followed one by one: bound them, so that a huge batch or
    // head count is a diagnostic rather than an out-of-memory abort.
    constexpr int64_t kMaxCells = int64_t(1) << 22;
    std::optional<int64_t> cells = checkedProduct(
        {plan.batch, std::max(plan.heads, plan.kvHeads) / plan.headGroups(),
         plan.numRanks(), plan.abiSeq() / unit});
    if (!cells || *cells > kMaxCells)
      return func.emitError()
             << "the all-to-all check follows batch x heads per group x ranks "
                "x cells per share (tokens when a2a does not divide the "
                "ring's local block) = "
             << (cells ? std::to_string(*cells) : std::string("> 2^63"))
             << " cells; ring-verify-schedule follows at most " << kMaxCells;
    for (auto &[key, members] : groupsAlong(a2aRole)) {
      size_t n = members.size();
      auto a2aEvents = [&](size_t i) {
        SmallVector<const Event *> out;
        for (const Event &e : traces[members[i]])
          if (e.kind == Event::AllToAll)
            out.push_back(&e);
        return out;
      };
      // Matching: same count, ids, modes and byte sizes in the same order.
      auto ref = a2aEvents(0);
      for (size_t i = 1; i < n; ++i) {
        auto mine = a2aEvents(i);
        if (mine.size() != ref.size())
          return (mine.size() > ref.size() ? mine[ref.size()] : ref[mine.size()])
                     ->op->emitError()
                 << ranks[members[i]].str() << " issues " << mine.size()
                 << " all-to-alls but " << ranks[members[0]].str()
                 << " issues " << ref.size()
                 << "; the unmatched one would never complete";
        for (size_t k = 0; k < ref.size(); ++k) {
          auto a = cast<AllToAllOp>(mine[k]->op), b = cast<AllToAllOp>(ref[k]->op);
          if (a.getId() != b.getId() || a.getMode() != b.getMode() ||
              bytesOf(a.getSend()) != bytesOf(b.getSend()) ||
              bytesOf(a.getRecv()) != bytesOf(b.getRecv()))
            return a.emitError()
                   << ranks[members[i]].str() << " issues all-to-all #" << k
                   << " (id " << a.getId() << ") but "
                   << ranks[members[0]].str() << " issues id " << b.getId()
                   << " with another mode or size there; the exchange would "
                      "deadlock or mix tensors";
        }
      }
      // Execution on cells, in lockstep by all-to-all.
      SmallVector<DenseMap<Value, SmallVector<Cell>>> content(n);
      Block &body = func.getBody().front();
      for (size_t i = 0; i < n; ++i)
        for (int w = 0; w < numInputs(); ++w)
          content[i][body.getArgument(w)] =
              expectedCells(ranks[members[i]], w, /*abi=*/true);
      SmallVector<size_t> cursor(n, 0);
      SmallVector<bool> computed(n, false);
      for (;;) {
        // Run every rank to its next all-to-all.
        for (size_t i = 0; i < n; ++i) {
          auto &trace = traces[members[i]];
          const Rank &rank = ranks[members[i]];
          for (; cursor[i] < trace.size(); ++cursor[i]) {
            const Event &e = trace[cursor[i]];
            if (e.kind == Event::AllToAll)
              break;
            if (failed(checkInputCells(e, rank, content[i], computed[i])))
              return failure();
            if (e.kind == Event::Finalize) {
              // The result rows are those of the attention's queries.
              auto fin = cast<FinalizeOp>(e.op);
              auto q = content[i].find(attn[0]);
              if (q != content[i].end()) {
                content[i][fin.getOutput()] = q->second;
                content[i][fin.getLse()] = q->second;
              }
            }
            if (auto cv = dyn_cast<ConvertOp>(e.op)) {
              // The ring backward's gradients (VerifyBackward proves they
              // hold every visible pair of the attention's heads and rows).
              for (int w = 6; backward && w < 9; ++w)
                if (cv.getDest() == attn[w])
                  content[i][attn[w]] = expectedCells(rank, w, /*abi=*/false);
            }
            if (e.kind == Event::SumReplicas &&
                failed(sumReplicaCells(e, rank, content[i])))
              return failure();
          }
        }
        if (cursor[0] >= traces[members[0]].size())
          break;
        // One all-to-all on every rank of the group.
        auto op0 = cast<AllToAllOp>(traces[members[0]][cursor[0]].op);
        auto sT = cast<MemRefType>(op0.getSend().getType());
        auto rT = cast<MemRefType>(op0.getRecv().getType());
        int64_t U = static_cast<int64_t>(n);
        if (sT.getDimSize(2) % unit != 0 || rT.getDimSize(2) % unit != 0 ||
            op0.getA2ADegree() != U)
          return op0.emitError()
                 << "exchanges " << sT << " for " << rT << " over an a2a "
                 << "axis of " << U << " ranks; the shapes must be an "
                    "all-to-all of that degree in units of "
                 << unit << " tokens";
        ringrt::layout::A2AShape shape;
        shape.batch = sT.getDimSize(0);
        shape.srcHeads = sT.getDimSize(1);
        shape.srcSeq = sT.getDimSize(2) / unit;
        shape.dstHeads = rT.getDimSize(1);
        shape.dstSeq = rT.getDimSize(2) / unit;
        shape.rowBytes = 1;
        auto mode = static_cast<ringrt::layout::A2AMode>(op0.getMode());
        SmallVector<SmallVector<Cell>> received(n);
        for (size_t m = 0; m < n; ++m) {
          auto op = cast<AllToAllOp>(traces[members[m]][cursor[m]].op);
          SmallVector<Cell> &out = received[m];
          out.assign(shape.batch * shape.dstHeads * shape.dstSeq, Cell());
          SmallVector<int> writes(out.size(), 0);
          for (size_t j = 0; j < n; ++j) {
            auto src = cast<AllToAllOp>(traces[members[j]][cursor[j]].op);
            auto it = content[j].find(src.getSend());
            auto from = ringrt::layout::a2aSendBlock(mode, shape, U, m, j);
            auto to = ringrt::layout::a2aRecvBlock(mode, shape, U, j, m);
            SmallVector<int64_t> fromIdx, toIdx;
            for (int64_t r = 0; r < from.runs(); ++r)
              for (int64_t x = 0; x < from.rowBytes; ++x)
                fromIdx.push_back(from.runOffset(r) + x);
            for (int64_t r = 0; r < to.runs(); ++r)
              for (int64_t x = 0; x < to.rowBytes; ++x)
                toIdx.push_back(to.runOffset(r) + x);
            for (size_t c = 0; c < toIdx.size() && c < fromIdx.size(); ++c) {
              if (++writes[toIdx[c]] > 1)
                return op->emitError()
                       << "on " << ranks[members[m]].str()
                       << " receives cell " << toIdx[c] << " twice";
              out[toIdx[c]] = it == content[j].end()
                                  ? Cell()
                                  : it->second[fromIdx[c]];
            }
          }
          // Only the a2a padding rows of a caller's buffer stay unwritten
          // (heads to sequence into a share shorter than the buffer).
          int64_t share = mode == ringrt::layout::A2AMode::HeadsToSeq
                              ? ringrt::layout::a2aShareRows(
                                    shape.srcSeq, U, ranks[members[m]].role[3])
                              : shape.dstSeq;
          for (auto [c, w] : llvm::enumerate(writes))
            if (w == 0 && static_cast<int64_t>(c) % shape.dstSeq < share)
              return op->emitError() << "on " << ranks[members[m]].str()
                                     << " leaves cell " << c
                                     << " of its receive buffer unwritten";
        }
        for (size_t m = 0; m < n; ++m) {
          auto op = cast<AllToAllOp>(traces[members[m]][cursor[m]].op);
          content[m][op.getRecv()] = std::move(received[m]);
          ++cursor[m];
        }
      }
      // What the caller gets: every output cell exactly the rank's own rows.
      for (size_t i = 0; i < n; ++i)
        for (int w = numInputs(); w < numBuffers(); ++w) {
          SmallVector<Cell> want =
              expectedCells(ranks[members[i]], w, /*abi=*/true);
          auto it = content[i].find(body.getArgument(w));
          for (size_t c = 0; c < want.size(); ++c)
            if (it == content[i].end() || !(it->second[c] == want[c]))
              return func.emitError()
                     << "on " << ranks[members[i]].str() << " the "
                     << bufferName(w) << " argument's cell " << c
                     << " receives "
                     << (it == content[i].end() ? std::string("nothing")
                                                : it->second[c].str())
                     << " but must hold the rank's own " << want[c].str()
                     << (backward ? " (the gradient of the ring backward, "
                                    "returned by all-to-all)"
                                  : " (the finalized result, returned by "
                                    "all-to-all)");
        }
    }
    return success();
  }

  func::FuncOp func;
  const AttentionPlan &plan;
  /// A backward function (`ring.backward`).
  bool backward;
  SmallVector<Rank> ranks;
  SmallVector<SmallVector<Event>> traces;
  /// A layer's attention buffers (findAttentionBuffers of ScheduleTrace.h).
  AttentionBuffers layerBuffers;
  /// Block op -> (rank index -> ring rank whose K/V it read).
  DenseMap<Operation *, DenseMap<int64_t, int64_t>> blockOwner;
};

struct RingVerifySchedulePass
    : public mlir::ring::impl::RingVerifySchedulePassBase<
          RingVerifySchedulePass> {
  using Base::Base;

  void runOnOperation() override {
    bool ok = true;
    getOperation().walk([&](func::FuncOp func) {
      auto planAttr = func->getAttrOfType<PlanAttr>("ring.plan");
      if (!planAttr)
        return;
      if (func.isExternal()) {
        func.emitError() << "@" << func.getSymName()
                         << " has a ring.plan but no body to check";
        ok = false;
        return;
      }
      AttentionPlan plan = AttentionPlan::fromAttr(planAttr);
      ScheduleChecker checker(func, plan);
      if (failed(checker.run()))
        ok = false;
      else if (emitWork)
        checker.emitWork();
    });
    if (!ok)
      signalPassFailure();
  }
};
} // namespace
