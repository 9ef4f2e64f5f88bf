//===- VerifyBackward.cpp - prove a backward ring schedule ------*- C++ -*-===//
//
// This file implements the backward half of ring-verify-schedule. On the
// per-rank traces it runs the ranks of every ring in lockstep by transfer
// and follows what every buffer holds: a K/V block (its owner), D, partial
// or reduced scores, or a gradient accumulator — which block's dK/dV (or
// the rank's dQ) it is, how many times each (query unit, key unit) pair has
// been added into it, and how many hops it has travelled. At the end, the
// buffers converted into dq, dk and dv must hold every visible pair exactly
// once, and dk/dv must hold the rank's own block after exactly P − 1 hops
// (a window's halo: after its longer return chain, max(A, B) hops). Shifts
// marked `backward` deliver from the ring successor.
//
//===----------------------------------------------------------------------===//

#include "passes/ScheduleTrace.h"
#include "passes/BlockCases.h"

#include "dialect/RingOps.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseMap.h"

#include <array>
#include <map>
#include <numeric>

using namespace mlir;
using namespace mlir::ring;

namespace {

/// (rank or block owner, unit, unit) -> how often it was added.
using PairCounts = std::map<std::array<int64_t, 3>, int64_t>;

/// What a buffer holds.
struct Content {
  enum Kind { None, Input, KV, Delta, Scores, Grad } kind = None;
  /// KV: the block's owner. Grad: the block whose dK/dV this is (−1: not
  /// yet known, a zeroed accumulator). Scores: the key block's owner.
  int64_t owner = -1;
  /// KV: 1 for K, 2 for V (an op reading V as its K is caught).
  int tensor = 0;
  bool reduced = false;
  /// Grad: this is the rank's dQ.
  bool dq = false;
  PairCounts pairs;
  int64_t hops = 0;
  /// Scores: rows, and whether they are Q·Kᵀ (false) or dO·Vᵀ (true).
  SmallVector<int64_t> qRows, kvRows;
  bool isGrad = false;
};

class BackwardProver {
public:
  BackwardProver(func::FuncOp func, const AttentionPlan &plan,
                 ArrayRef<Rank> ranks, ArrayRef<SmallVector<Event>> traces)
      : func(func), plan(plan), ranks(ranks), traces(traces) {}

  LogicalResult run(ArrayRef<SmallVector<int64_t>> rings,
                    ArrayRef<Value> attn) {
    // `args` are the buffers of the ring backward (the function's
    // arguments unless all-to-alls exchange them).
    args.assign(attn.begin(), attn.end());
    computeUnit();
    // The full ring brings every accumulator home after P − 1 hops; a
    // window's halo (planRingStages truncated the ring) after the longer of
    // its two return chains, one hop per stage each way.
    RingStages stages = planRingStages(plan);
    expectedHops = stages.saved(plan.ring()) > 0
                       ? std::max(stages.forward, stages.backward)
                       : plan.ring() - 1;
    for (const SmallVector<int64_t> &ring : rings)
      if (failed(runRing(ring)))
        return failure();
    return success();
  }

private:
  struct State {
    DenseMap<Value, Content> content;
    DenseMap<Value, int64_t> inRecv, inSend; // buffer -> stage of transfer
    DenseMap<Value, Content> delivered;      // token -> payload
    DenseMap<Value, Value> tokenRecv;
    DenseMap<Value, Content> outputs;        // dq/dk/dv argument -> source
    bool haveDelta = false;
    size_t cursor = 0;
  };

  /// Rows are counted in units that no block boundary splits.
  void computeUnit() {
    int64_t Ll = plan.localSeq();
    unit = Ll;
    if (plan.balance == Balance::zigzag && Ll % 2 == 0)
      unit = std::gcd(unit, Ll / 2);
    for (auto &trace : traces)
      for (const Event &e : trace)
        if (e.kind == Event::GradBlock)
          for (StringRef name : {"q_rows", "kv_rows"}) {
            auto r = e.op->getAttrOfType<DenseI64ArrayAttr>(name);
            unit = std::gcd(unit, std::gcd(r[0], r[0] + r[1]));
          }
    units = Ll / unit;
  }

  /// Whether query unit `qu` of ring rank `qr` sees some (`all`: every) key
  /// of unit `ku` of ring rank `kr`'s block.
  BlockVisibility visible(int64_t qr, int64_t qu, int64_t kr,
                          int64_t ku) const {
    return rowsVisibility(plan, qr, qu * unit, unit, kr, ku * unit, unit);
  }

  InFlightDiagnostic error(const Event &e, const Rank &rank) {
    InFlightDiagnostic d = e.op->emitError() << "on " << rank.str() << " ";
    if (e.stage < 0)
      d << "outside the stages ";
    else
      d << "at stage " << e.stage << " ";
    return d;
  }

  /// Adds `src` into the accumulator `dst` (same block, or dst unknown).
  LogicalResult addInto(const Event &e, const Rank &rank, Content &dst,
                        const Content &src) {
    if (dst.kind != Content::Grad || src.kind != Content::Grad)
      return error(e, rank) << "adds something that is not a gradient "
                               "accumulator";
    if (dst.owner >= 0 && src.owner >= 0 && dst.owner != src.owner)
      return error(e, rank) << "adds the dK/dV accumulator of ring rank "
                            << src.owner << "'s block into that of ring rank "
                            << dst.owner << "'s block";
    if (dst.owner < 0)
      dst.owner = src.owner;
    for (auto &[key, n] : src.pairs)
      dst.pairs[key] += n;
    dst.hops = std::max(dst.hops, src.hops);
    return success();
  }

  LogicalResult gradBlock(const Event &e, const Rank &rank, State &s) {
    auto op = cast<BlockAttentionBackwardOp>(e.op);
    int64_t p = rank.role[0];
    if (e.qOwner != p)
      return error(e, rank) << "says its queries belong to ring rank "
                            << e.qOwner << " but they are the rank's own (ring "
                            << "rank " << p << ")";
    for (auto [buf, want] : {std::pair{op.getKey(), 1},
                             std::pair{op.getValue(), 2}}) {
      Content &c = s.content[buf];
      if (c.kind != Content::KV)
        return error(e, rank) << "reads a K/V buffer that holds no block";
      if (c.tensor != want)
        return error(e, rank) << "reads as its " << (want == 1 ? "keys" : "values")
                              << " a buffer that holds ring rank " << c.owner
                              << "'s " << (want == 1 ? "V" : "K") << " block";
      if (c.owner != e.kvOwner)
        return error(e, rank) << "says its K/V block comes from ring rank "
                              << e.kvOwner << " but the buffer holds ring rank "
                              << c.owner << "'s block";
    }
    if (op.getQuery() != args[0] || op.getGradOutput() != args[5] ||
        op.getLse() != args[4])
      return error(e, rank) << "must read the rank's own q, do and lse";
    Content &delta = s.content[op.getDelta()];
    if (delta.kind != Content::Delta ||
        (plan.dimSlices() > 1 && !delta.reduced))
      return error(e, rank) << "reads D = rowsum(dO∘O) before it is "
                            << (delta.kind == Content::Delta
                                    ? "all-reduced over the dim slices"
                                    : "computed");
    if (op.getScores() || plan.dimSlices() > 1) {
      if (!op.getScores())
        return error(e, rank) << "computes scores from one dim slice of "
                                 "head_dim; they need the slice all-reduce";
      for (auto [buf, isGrad] : {std::pair{op.getScores(), false},
                                 std::pair{op.getScoreGrad(), true}}) {
        Content &c = s.content[buf];
        if (c.kind != Content::Scores || c.isGrad != isGrad)
          return error(e, rank) << "reads " << (isGrad ? "dO·Vᵀ" : "Q·Kᵀ")
                                << " scores that no ring.block_scores computed";
        if (c.qRows != ArrayRef<int64_t>(op.getQRows()) ||
            c.kvRows != ArrayRef<int64_t>(op.getKvRows()))
          return error(e, rank) << "reads scores computed for other rows";
        if (plan.dimSlices() > 1 && !c.reduced)
          return error(e, rank) << "reads partial scores before they are "
                                   "all-reduced over the dim slices";
        if (c.owner != e.kvOwner)
          return error(e, rank) << "pairs scores of ring rank " << c.owner
                                << "'s block with ring rank " << e.kvOwner
                                << "'s";
        c.kind = Content::None; // consumed
      }
    }
    auto mask = op.getMask();
    bool windowed = static_cast<bool>(op.getWindowAttr());
    {
      std::string where = "on " + rank.str() + " at stage " +
                          std::to_string(e.stage) + " ";
      if (failed(checkBlockMaskAttrs(op, plan, where)))
        return failure();
    }
    Content &dq = s.content[op.getGradQuery()];
    if (dq.kind != Content::Grad || (dq.owner >= 0 && !dq.dq))
      return error(e, rank) << "adds dQ into a buffer that is not a zeroed "
                               "dQ accumulator";
    dq.dq = true;
    for (Value buf : {op.getGradKey(), op.getGradValue()}) {
      Content &c = s.content[buf];
      if (c.kind != Content::Grad || c.dq ||
          (c.owner >= 0 && c.owner != e.kvOwner))
        return error(e, rank)
               << "adds ring rank " << e.kvOwner
               << "'s dK/dV into an accumulator "
               << (c.kind != Content::Grad || c.dq
                       ? std::string("that is not a dK/dV accumulator")
                       : "of ring rank " + std::to_string(c.owner) +
                             "'s block");
      c.owner = e.kvOwner;
    }
    dq.owner = p;
    auto q = op.getQRows(), k = op.getKvRows();
    for (int64_t qu = q[0] / unit; qu < (q[0] + q[1]) / unit; ++qu)
      for (int64_t ku = k[0] / unit; ku < (k[0] + k[1]) / unit; ++ku) {
        BlockVisibility vis = visible(p, qu, e.kvOwner, ku);
        if ((mask == MaskKind::none && vis.causalCut) ||
            (!windowed && vis.windowCut))
          return error(e, rank)
                 << "computes query rows [" << qu * unit << ", "
                 << (qu + 1) * unit << ") against rows [" << ku * unit << ", "
                 << (ku + 1) * unit << ") of ring rank " << e.kvOwner
                 << "'s keys without "
                 << (vis.causalCut && mask == MaskKind::none
                         ? "a mask, but the causal mask"
                         : "the window mask, but the sliding window")
                 << " hides some of those pairs";
        dq.pairs[{e.kvOwner, ku, qu}] += 1;
        s.content[op.getGradKey()].pairs[{p, qu, ku}] += 1;
        s.content[op.getGradValue()].pairs[{p, qu, ku}] += 1;
      }
    return success();
  }

  LogicalResult gradOther(const Event &e, const Rank &rank, State &s) {
    if (auto z = dyn_cast<ZeroOp>(e.op)) {
      s.content[z.getBuffer()] = Content{Content::Grad};
      return success();
    }
    if (auto d = dyn_cast<GradDeltaOp>(e.op)) {
      if (d.getOutput() != args[3] || d.getGradOutput() != args[5])
        return error(e, rank) << "computes D from buffers other than the "
                                 "rank's o and do";
      s.content[d.getDelta()] = Content{Content::Delta};
      return success();
    }
    if (auto a = dyn_cast<AccumulateOp>(e.op)) {
      Content src = s.content[a.getSource()];
      return addInto(e, rank, s.content[a.getAccumulator()], src);
    }
    auto c = cast<ConvertOp>(e.op);
    Content src = s.content[c.getSource()];
    if (src.kind != Content::Grad)
      return error(e, rank) << "converts a buffer that holds no gradient";
    for (int i = 6; i < 9; ++i)
      if (c.getDest() == args[i]) {
        if (s.outputs.count(args[i]))
          return error(e, rank) << "writes an output gradient twice";
        s.outputs[args[i]] = src;
        return success();
      }
    s.content[c.getDest()] = src;
    return success();
  }

  /// Runs rank `i` of `ring` up to its next transfer start.
  LogicalResult runSegment(ArrayRef<int64_t> ring, size_t i, State &s) {
    const Rank &rank = ranks[ring[i]];
    ArrayRef<Event> trace = traces[ring[i]];
    for (; s.cursor < trace.size(); ++s.cursor) {
      const Event &e = trace[s.cursor];
      if (e.kind == Event::Start || e.kind == Event::Shift)
        return success();
      if (e.kind == Event::Wait) {
        Value t = e.op->getOperand(0);
        Value recv = s.tokenRecv.lookup(t);
        s.content[recv] = s.delivered[t];
        s.inRecv.erase(recv);
        s.inSend.erase(t.getDefiningOp()->getOperand(0));
        continue;
      }
      for (Value operand : e.op->getOperands()) {
        if (s.inRecv.count(operand))
          return error(e, rank) << "uses a buffer whose transfer (started at "
                                << "stage " << s.inRecv.lookup(operand)
                                << ") has not been waited on";
        if (s.inSend.count(operand) &&
            hasEffect<MemoryEffects::Write>(e.op, operand))
          return error(e, rank) << "writes a buffer that the transfer started "
                                << "at stage " << s.inSend.lookup(operand)
                                << " is still sending";
      }
      switch (e.kind) {
      case Event::AllToAll:
      case Event::SumReplicas:
        // Around the ring backward; ScheduleChecker::checkAllToAll proves
        // what they deliver and where.
        break;
      case Event::Reduce:
        s.content[e.op->getOperand(0)].reduced = true;
        break;
      case Event::Scores: {
        auto sc = cast<BlockScoresOp>(e.op);
        bool isGrad = sc.getQuery() == args[5];
        if (!isGrad && sc.getQuery() != args[0])
          return error(e, rank) << "computes scores of something other than "
                                   "the rank's q or do";
        Content &key = s.content[sc.getKey()];
        if (key.kind != Content::KV)
          return error(e, rank) << "reads a K/V buffer that holds no block";
        // Q·Kᵀ reads K, dO·Vᵀ reads V.
        if (key.tensor != (isGrad ? 2 : 1))
          return error(e, rank) << "computes " << (isGrad ? "dO·Vᵀ" : "Q·Kᵀ")
                                << " from ring rank " << key.owner << "'s "
                                << (isGrad ? "K" : "V") << " block";
        Content c{Content::Scores};
        c.owner = key.owner;
        c.isGrad = isGrad;
        c.qRows.assign(sc.getQRows().begin(), sc.getQRows().end());
        c.kvRows.assign(sc.getKvRows().begin(), sc.getKvRows().end());
        s.content[sc.getScores()] = c;
        break;
      }
      case Event::GradBlock:
        if (failed(gradBlock(e, rank, s)))
          return failure();
        break;
      case Event::GradOther:
        if (failed(gradOther(e, rank, s)))
          return failure();
        break;
      default:
        return e.op->emitError() << "on " << rank.str()
                                 << " is not an op of a backward schedule";
      }
    }
    return success();
  }

  LogicalResult runRing(ArrayRef<int64_t> ring) {
    size_t n = ring.size();
    SmallVector<State> st(n);
    for (size_t i = 0; i < n; ++i) {
      int64_t p = ranks[ring[i]].role[0];
      for (int a : {0, 3, 4, 5})
        st[i].content[args[a]] = Content{Content::Input};
      for (int a : {1, 2}) {
        Content kv{Content::KV};
        kv.owner = p;
        kv.tensor = a;
        st[i].content[args[a]] = kv;
      }
    }
    for (;;) {
      for (size_t i = 0; i < n; ++i)
        if (failed(runSegment(ring, i, st[i])))
          return failure();
      if (st[0].cursor >= traces[ring[0]].size())
        break;
      // Every rank is at the same transfer (checkMatching proved it).
      SmallVector<Content> payload(n);
      for (size_t i = 0; i < n; ++i) {
        const Event &e = traces[ring[i]][st[i].cursor];
        Value send = e.op->getOperand(0), recv = e.op->getOperand(1);
        if (st[i].inRecv.count(send) || st[i].inRecv.count(recv) ||
            st[i].inSend.count(recv))
          return error(e, ranks[ring[i]])
                 << "uses a buffer that another transfer still has in flight";
        payload[i] = st[i].content.lookup(send);
        if (payload[i].kind == Content::Grad)
          ++payload[i].hops;
      }
      for (size_t i = 0; i < n; ++i) {
        const Event &e = traces[ring[i]][st[i].cursor];
        // Forward, from the predecessor; backward (a halo's shifts to
        // p − 1), from the successor.
        Content incoming = payload[e.op->hasAttr("backward") ? (i + 1) % n
                                                            : (i + n - 1) % n];
        Value recv = e.op->getOperand(1);
        if (e.kind == Event::Shift) {
          st[i].content[recv] = incoming;
        } else {
          Value t = e.op->getResult(0);
          st[i].delivered[t] = incoming;
          st[i].tokenRecv[t] = recv;
          st[i].inRecv[recv] = e.stage;
          st[i].inSend[e.op->getOperand(0)] = e.stage;
        }
        ++st[i].cursor;
      }
    }
    for (size_t i = 0; i < n; ++i)
      if (failed(checkOutputs(ranks[ring[i]], st[i])))
        return failure();
    return success();
  }

  /// The outputs hold every visible pair exactly once; dK/dV are the rank's
  /// own block's, home after P − 1 hops.
  LogicalResult checkOutputs(const Rank &rank, State &s) {
    int64_t p = rank.role[0], P = plan.ring();
    StringRef names[] = {"dq", "dk", "dv"};
    for (int i = 0; i < 3; ++i) {
      auto it = s.outputs.find(args[6 + i]);
      if (it == s.outputs.end())
        return func.emitError() << "on " << rank.str() << " " << names[i]
                                << " is never written";
      const Content &c = it->second;
      if (i > 0 && c.owner != p)
        return func.emitError()
               << "on " << rank.str() << " " << names[i]
               << " holds the gradient of ring rank " << c.owner
               << "'s block, not the rank's own";
      if (i > 0 && c.hops != expectedHops)
        return func.emitError()
               << "on " << rank.str() << " the " << names[i]
               << " accumulator comes home after " << c.hops << " hops; the "
               << (expectedHops == P - 1 ? "backward ring" : "window's halo")
               << " needs exactly " << expectedHops;
      for (int64_t other = 0; other < P; ++other)
        for (int64_t a = 0; a < units; ++a)
          for (int64_t b = 0; b < units; ++b) {
            // dq: (key owner, key unit, query unit); dk/dv: (query rank,
            // query unit, key unit).
            std::array<int64_t, 3> key = {other, a, b};
            bool vis = i == 0 ? visible(p, b, other, a).any
                              : visible(other, a, p, b).any;
            auto found = c.pairs.find(key);
            int64_t count = found == c.pairs.end() ? 0 : found->second;
            if (count <= 1 && (count == 1 || !vis))
              continue; // a masked block may include hidden pairs once
            int64_t qr = i == 0 ? p : other, kr = i == 0 ? other : p;
            int64_t qu = i == 0 ? b : a, ku = i == 0 ? a : b;
            if (count > 1)
              return func.emitError()
                     << "on " << rank.str() << " " << names[i]
                     << " adds the pair of query rows [" << qu * unit << ", "
                     << (qu + 1) * unit << ") of ring rank " << qr
                     << " and key rows [" << ku * unit << ", "
                     << (ku + 1) * unit << ") of ring rank " << kr << " "
                     << count << " times";
            return func.emitError()
                     << "on " << rank.str() << " " << names[i]
                     << " misses the pair of query rows [" << qu * unit
                     << ", " << (qu + 1) * unit << ") of ring rank " << qr
                     << " and key rows [" << ku * unit << ", "
                     << (ku + 1) * unit << ") of ring rank " << kr
                     << ", which the mask leaves visible";
          }
    }
    return success();
  }

  func::FuncOp func;
  const AttentionPlan &plan;
  ArrayRef<Rank> ranks;
  ArrayRef<SmallVector<Event>> traces;
  SmallVector<Value> args;
  int64_t unit = 1, units = 1, expectedHops = 0;
};

} // namespace

LogicalResult mlir::ring::verifyBackwardTraces(
    func::FuncOp func, const AttentionPlan &plan, ArrayRef<Rank> ranks,
    ArrayRef<SmallVector<Event>> traces,
    ArrayRef<SmallVector<int64_t>> rings, ArrayRef<Value> attn) {
  return BackwardProver(func, plan, ranks, traces).run(rings, attn);
}
