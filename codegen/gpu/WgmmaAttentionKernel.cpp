//===- WgmmaAttentionKernel.cpp - sm_90a block attention --------*- C++ -*-===//
//
// This file implements the generator of the FlashAttention-3 style block-
// attention kernel for sm_90a (Kernels.h: WgmmaAttentionConfig):
//
//   * warp specialization: warpgroup 0 is the producer. After `setmaxnreg`
//     gives its registers away (24 a thread), one thread loads the Q tile
//     once and streams K/V tiles through a `stages`-deep shared-memory ring
//     with TMA (`cp.async.bulk.tensor`, tensor maps passed by value as
//     `__grid_constant__` parameters, 128-byte swizzle, out-of-bounds rows
//     and columns zero-filled). Each load completes on an mbarrier (expect_tx
//     with the box bytes); a stage is refilled once both consumer
//     warpgroups have arrived on its "empty" mbarrier.
//   * warpgroups 1 and 2 (240 registers a thread after `setmaxnreg`) own 64
//     query rows each: S = Q·Kᵀ with `wgmma.mma_async m64n<blockN>k16`, Q
//     and K from swizzled shared-memory descriptors; the online softmax in
//     fp32 registers on log2(e)-scaled scores with ex2; O += P·V with
//     `wgmma.mma_async m64n<d>k16`, P converted to bf16/f16 in registers as
//     the A operand (the accumulator layout of S is the A-fragment layout,
//     so no shuffles are needed) and V from an MN-major ("transposed")
//     descriptor.
//   * masks: causal KV tiles past the CTA's last query are never loaded;
//     within a visited tile, scores are masked from global token positions
//     exactly like the mma.sync kernel (layout formulas of RingOps.td, the
//     owners are kernel arguments), and keys past the block's end (ragged
//     tails; TMA fills rows past the tensor with zeros) are masked. A tile
//     that a thread's rows see entirely skips the mask arithmetic.
//   * packed documents (max_docs, cu_seqlens the last parameter): each
//     consumer row's keys are cut to its document (Documents.cpp), and the
//     K/V tiles that no row of the CTA can see are skipped at run time:
//     every thread computes the same tile range before the warpgroups
//     part, so the producer loads, and the consumers wait for and release,
//     exactly the same tiles in the same stages.
//   * output: the normalised partial O and its LSE in fp32, written from
//     registers, or (ring.block_attention_accumulate, the fused ring merge)
//     merged in registers into the running fp32 (O, LSE) of the rows; the
//     epilogue is the mma.sync kernel's (MmaFragments.h).
//
// Shared memory (offsets from the 1024-byte aligned base): the Q tile, the K
// stages, the V stages, then the mbarriers. Every tile is a sequence of
// 64-column panels of rows x 128 bytes; the 128-byte swizzle permutes the
// eight 16-byte chunks of row r by r mod 8, on absolute address bits, which
// is why tiles are 1024-byte aligned.
//
//===----------------------------------------------------------------------===//

#include "codegen/gpu/Kernels.h"
#include "codegen/gpu/MlirEmitter.h"
#include "codegen/gpu/MmaFragments.h"
#include "codegen/gpu/TargetInfo.h"
#include "codegen/gpu/WgmmaFragments.h"

#include <cmath>
#include <optional>

using namespace mlir;
using namespace mlir::ring;
using namespace mlir::ring::gpu;

std::optional<AttentionKernelKind>
mlir::ring::gpu::selectAttentionKernel(StringRef option,
                                       const TargetInfo &target,
                                       std::string &error) {
  bool hopper = target.smVersion() == 90 && target.chip().ends_with("a");
  if (option == "mma")
    return AttentionKernelKind::mma;
  if (option == "wgmma") {
    if (!hopper) {
      error = "--gpu-kernel=wgmma needs sm_90a (wgmma, TMA and setmaxnreg "
              "are sm_90a features); target " +
              target.chip().str() + " runs --gpu-kernel=mma";
      return std::nullopt;
    }
    return AttentionKernelKind::wgmma;
  }
  if (option == "auto" || option.empty())
    return hopper ? AttentionKernelKind::wgmma : AttentionKernelKind::mma;
  error = "unknown GPU kernel '" + option.str() +
          "' (expected auto, mma or wgmma)";
  return std::nullopt;
}

WgmmaAttentionConfig
mlir::ring::gpu::defaultWgmmaAttentionConfig(int64_t headDim) {
  WgmmaAttentionConfig c;
  c.headDim = headDim;
  c.blockN = headDim <= 128 ? 128 : headDim <= 192 ? 96 : 64;
  c.stages = 2;
  return c;
}

std::string WgmmaAttentionConfig::kernelName() const {
  return "ringc_attn_wgmma_" + dtype + "_d" + std::to_string(headDim) + "_" +
         stringifyMaskKind(mask).str() + "_" + stringifyBalance(layout).str() +
         window.suffix() + "_n" + std::to_string(blockN) + "_s" + std::to_string(stages) +
         (pingPong ? "" : "_nopp") + padding.suffix() +
         documentsSuffix(maxDocs) +
         (epilogue == AttentionEpilogue::Accumulate        ? "_acc"
          : epilogue == AttentionEpilogue::AccumulateFirst ? "_acc_first"
                                                           : "");
}

/// Byte offsets of the shared-memory regions (from the aligned base).
namespace {
struct SharedLayout {
  int64_t q, k, v, bars, end;
  explicit SharedLayout(const WgmmaAttentionConfig &c) {
    q = 0;
    k = q + c.qTileBytes();
    v = k + c.stages * c.kvTileBytes();
    bars = v + c.stages * c.kvTileBytes();
    // qFull, then kFull[s], vFull[s], empty[s] per stage; 8 bytes each.
    end = bars + 8 * (1 + 3 * c.stages);
  }
  int64_t qFull() const { return bars; }
  int64_t kFull(int64_t s) const { return bars + 8 * (1 + 3 * s); }
  int64_t vFull(int64_t s) const { return kFull(s) + 8; }
  int64_t empty(int64_t s) const { return kFull(s) + 16; }
};
} // namespace

int64_t WgmmaAttentionConfig::sharedBytes() const {
  return 1024 + SharedLayout(*this).end;
}

std::string WgmmaAttentionConfig::validate(const TargetInfo &target) const {
  if (target.smVersion() != 90 || !target.chip().ends_with("a"))
    return "the wgmma kernel needs sm_90a, not " + target.chip().str() +
           " (use --gpu-kernel=mma)";
  if (dtype != "bf16" && dtype != "f16")
    return "the GPU kernels take bf16 or f16 inputs (wgmma m64nNk16); "
           "element type '" +
           dtype + "' is not supported (use --target=cpu for f32)";
  // D % 8 == 0 with zero-filled k16 steps past D reads a descriptor with
  // a non-zero base offset in the last panel (the emulator refuses it):
  // until that is fixed, multiples of 16 (issue 11).
  if (headDim <= 0 || headDim % 16 != 0 || headDim > 256)
    return "local head_dim " + std::to_string(headDim) +
           " is not supported by the wgmma kernel: it must be a multiple of "
           "16 up to 256 (k16 steps over 64-column swizzled panels; wgmma n "
           "<= 256); --gpu-kernel=mma takes any head_dim";
  if (blockN < 16 || blockN > 256 || blockN % 16 != 0)
    return "the KV tile (block-n) must be a multiple of 16 in 16..256, got " +
           std::to_string(blockN);
  if (stages < 1 || stages > 4)
    return "stages must be in 1..4, got " + std::to_string(stages);
  if (sharedBytes() > target.maxSharedBytes())
    return "the tiles need " + std::to_string(sharedBytes()) +
           " bytes of shared memory, more than " + target.chip().str() +
           " offers (" + std::to_string(target.maxSharedBytes()) +
           "); use a smaller block-n or fewer stages";
  // Consumer registers: O (d/2) + S (blockN/2) + P (blockN/4) + ~40 of
  // addressing, softmax state and masks, within setmaxnreg's 240.
  int64_t regs = headDim / 2 + blockN / 2 + blockN / 4 + 40;
  if (regs > kConsumerRegs)
    return "head_dim " + std::to_string(headDim) + " with block-n " +
           std::to_string(blockN) + " needs about " + std::to_string(regs) +
           " registers per consumer thread (at most " +
           std::to_string(kConsumerRegs) + "); use a smaller block-n";
  return "";
}

namespace {

/// Writes one wgmma block-attention kernel.
class WgmmaWriter {
public:
  explicit WgmmaWriter(const WgmmaAttentionConfig &c)
      : c(c), L(c), D(c.headDim), BN(c.blockN), S(c.stages),
        P(c.panels()), halfTy(c.dtype == "f16" ? "f16" : "bf16"),
        docs(c.maxDocs > 0) {}

  std::string run();

private:
  /// The position of the layout (with padded parts: of the part's
  /// formula, growing with i; see the mma.sync kernel).
  std::string pos(const std::string &i, const std::string &owner,
                  const std::string &len) {
    return partPosition(e, c.layout, i, owner, len, "%ring", c.padding);
  }
  /// The position the masks compare (padding rows: the sentinels of
  /// Visibility.h, maskPosition).
  std::string maskPos(const std::string &i, const std::string &owner,
                      const std::string &len, bool isKey) {
    return maskPosition(e, c.layout, i, owner, len, "%ring", c.padding, isKey);
  }
  /// The shared-memory pointer at byte offset `off` (i32) of the aligned
  /// base.
  std::string sptr(const std::string &off) { return e.gep(smem, off, 3); }
  std::string bar(int64_t off) { return sptr(e.i32(off)); }
  /// A stage-indexed mbarrier: base + 24 * stage.
  std::string stageBar(int64_t off0, const std::string &stage) {
    return sptr(e.add(e.i32(off0), e.mul(stage, e.i32(24))));
  }
  /// The 32-bit shared-window address of a shared pointer.
  std::string addr32(const std::string &p) {
    return e.let("llvm.ptrtoint " + p + " : !llvm.ptr<3> to i32");
  }
  /// Spins until the phase of mbarrier `b` with parity `parity` completed.
  /// Written as an scf.while around one `mbarrier.try_wait.parity` in
  /// inline PTX rather than upstream nvvm.mbarrier.try_wait.parity, whose
  /// PTX is a loop with fixed labels (LAB_WAIT, DONE) repeated in every
  /// instance and a predicate named `p` (see sGemm); the loop in the IR is
  /// plain to every tool that reads the PTX.
  void waitParity(const std::string &b, const std::string &parity) {
    std::string a = addr32(b);
    e.open("scf.while : () -> () {");
    std::string ok = e.let(
        "llvm.inline_asm has_side_effects asm_dialect = att \"{\\0A.reg "
        ".pred %wait;\\0Ambarrier.try_wait.parity.shared.b64 %wait, [$1], "
        "$2;\\0Aselp.b32 $0, 1, 0, %wait;\\0A}\", \"=r,r,r\" " +
        a + ", " + parity + " : (i32, i32) -> i32");
    e.line("scf.condition(" + e.cmp("eq", ok, e.i32(0)) + ")");
    e.reopen("} do {");
    e.line("scf.yield");
    e.close();
  }
  /// Issues the TMA loads of one tile: `panels` boxes of {64, rows, 1} at
  /// element coordinates {64 p, row, plane}, completing on `b`.
  void tmaTile(const std::string &map, const std::string &dstOff,
               int64_t rows, const std::string &row, const std::string &plane,
               const std::string &b) {
    // Inline PTX with 32-bit shared addresses instead of upstream
    // nvvm.cp.async.bulk.tensor.shared.cluster.global: its shared::cluster
    // destination must be an addrspace(7) pointer, and the cast from the
    // CTA's window lowers to cvta.shared + cvta.to.shared::cluster through
    // generic addresses (the .shared::cta form needs PTX 8.6). A CTA's own
    // shared address is a valid shared::cluster address.
    std::string bar32 = addr32(b);
    for (int64_t p = 0; p < P; ++p) {
      std::string dst = addr32(sptr(e.add(dstOff, e.i32(p * rows * 128))));
      e.line("nvvm.inline_ptx \"cp.async.bulk.tensor.3d.shared::cluster."
             "global.tile.mbarrier::complete_tx::bytes [$0], [$1, {$2, $3, "
             "$4}], [$5];\" ro(" +
             dst + ", " + map + ", " + e.i32(p * 64) + ", " + row + ", " +
             plane + ", " + bar32 +
             " : i32, !llvm.ptr, i32, i32, i32, i32)");
    }
  }
  /// The wgmma primitives (WgmmaFragments.h): descriptors, S = Q·Kᵀ from
  /// two K-major descriptors (n = blockN) and O += P·V with P in registers
  /// and V from an MN-major descriptor (n = head dim).
  std::string descriptor(const std::string &off, int64_t lbo, int64_t sbo) {
    return w->descriptor(off, lbo, sbo);
  }
  std::vector<std::string> sGemm(const std::vector<std::string> &qd,
                                 const std::vector<std::string> &kd) {
    return w->ssGemm(BN, qd, kd);
  }
  std::vector<std::string> pvGemm(const std::vector<std::string> &acc,
                                  const std::vector<std::string> &a,
                                  const std::vector<std::string> &descs) {
    return w->rsGemm(acc, a, descs);
  }

  /// Ping-pong turns (no-ops without ping-pong): wait for this consumer's
  /// turn; after the GEMM, if `cond` (i1; "" = always), hand the turn to
  /// the other one. The ids are written as constants in the two branches of
  /// a warp-uniform scf.if on the consumer; LLVM folds them into one
  /// `bar.sync %id` again, so ptxas reserves all 16 named barriers, which
  /// costs nothing here (384 threads x 168 registers fill the register file:
  /// one CTA per SM).
  void namedBarrier(const std::string &op, bool mine) {
    e.open("scf.if " + isFirst + " {");
    e.line(op + " id = " + e.i32(mine ? 1 : 2) + " number_of_threads = " +
           e.i32(256));
    e.reopen("} else {");
    e.line(op + " id = " + e.i32(mine ? 2 : 1) + " number_of_threads = " +
           e.i32(256));
    e.close();
  }
  void turnBegin() {
    if (c.pingPong)
      namedBarrier("nvvm.barrier", /*mine=*/true);
  }
  void turnEnd(const std::string &cond) {
    if (!c.pingPong)
      return;
    if (!cond.empty())
      e.open("scf.if " + cond + " {");
    namedBarrier("nvvm.barrier.arrive", /*mine=*/false);
    if (!cond.empty())
      e.close();
  }

  const WgmmaAttentionConfig &c;
  const SharedLayout L;
  const int64_t D, BN, S, P;
  const std::string halfTy;
  const bool docs;
  MlirEmitter e;
  /// cug: cu_seqlens as a global pointer (packed documents).
  std::string smem, smemAddr, isFirst, cug;
  std::optional<MmaFragments> f;
  std::optional<WgmmaFragments> w;
};

} // namespace

std::string WgmmaWriter::run() {
  const bool causal = c.mask == MaskKind::causal;
  const int64_t BM = WgmmaAttentionConfig::kBlockM;
  const int64_t nS = BN / 8;        // score n8 blocks per thread row pair
  const int64_t nO = D / 8;         // output n8 blocks
  // k16 steps of S = Q Kᵀ: a head dim that is not a multiple of 16 ends in
  // columns that TMA zero-filled (the panel is 64 wide, the tensor D).
  const int64_t kSteps = (D + 15) / 16;
  const int64_t pvSteps = BN / 16;  // k16 steps of O += P V

  e.line("%tidx = gpu.thread_id x");
  e.line("%tid = arith.index_cast %tidx : index to i32");
  e.line("%bxx = gpu.block_id x");
  e.line("%bx = arith.index_cast %bxx : index to i32");
  e.line("%hx = gpu.block_id y");
  e.line("%h = arith.index_cast %hx : index to i32");
  e.line("%bbx = gpu.block_id z");
  e.line("%b = arith.index_cast %bbx : index to i32");
  std::string lane = e.let("arith.andi %tid, " + e.i32(31) + " : i32");
  std::string wg = e.let("arith.shrui %tid, " + e.i32(7) + " : i32");
  std::string g = e.let("arith.shrui " + lane + ", " + e.i32(2) + " : i32");
  std::string t4 = e.let("arith.andi " + lane + ", " + e.i32(3) + " : i32");

  // The dynamic shared memory, aligned up to 1024 bytes (the launch
  // reserves 1024 bytes of slack; the 128-byte swizzle works on absolute
  // address bits).
  std::string raw = e.let("llvm.mlir.addressof @ringc_smem : !llvm.ptr<3>");
  smemAddr = WgmmaFragments::alignedSharedBase(e, raw, smem);
  f.emplace(e, halfTy, smem, "%tid", WgmmaAttentionConfig::kThreads);
  w.emplace(e, halfTy, smemAddr);
  std::string pog = e.let("llvm.addrspacecast %po : !llvm.ptr to !llvm.ptr<1>");
  std::string plg = e.let("llvm.addrspacecast %pl : !llvm.ptr to !llvm.ptr<1>");

  // Rows, heads and the KV tiles to visit (as in the mma.sync kernel: under
  // a causal mask, the tiles whose first key is visible to the CTA's last
  // query; positions grow with the local index in every layout).
  std::string hk = e.divu("%h", e.divu("%heads", "%kv_heads"));
  std::string rowQ0 = e.add("%q0", e.mul("%bx", e.i32(BM)));
  std::string qEnd = e.add("%q0", "%qn");
  std::string lastQ = e.sub(qEnd, e.i32(1));
  std::string kEnd = e.add("%k0", "%kn");
  std::string bh = e.add(e.mul("%b", "%heads"), "%h");
  std::string bhk = e.add(e.mul("%b", "%kv_heads"), hk);
  std::string nt = e.divu(e.add("%kn", e.i32(BN - 1)), e.i32(BN));
  // Packed documents: the CTA's rows see keys from the document of its
  // first row to that of its last (positions grow with the row), so the
  // KV tiles wholly outside are skipped: the loops visit tiles jLo ..
  // jLo + nt − 1. Every thread computes the same range before the
  // warpgroups part, so the producer loads exactly the tiles the consumers
  // consume, in the same stages and phases.
  std::string jLo = e.i32(0), docEnd;
  if (docs) {
    cug = documentsPointer(e);
    std::string lastRow = e.minu(e.add(rowQ0, e.i32(BM - 1)), lastQ);
    DocumentBounds firstDoc = documentBounds(
        e, cug, c.maxDocs, pos(rowQ0, "%q_owner", "%q_len"));
    DocumentBounds lastDoc = documentBounds(
        e, cug, c.maxDocs, pos(lastRow, "%q_owner", "%q_len"));
    std::string lastK = e.sub(kEnd, e.i32(1));
    TileRange range = documentTileRange(
        e, nt, firstDoc.first, lastDoc.last,
        [&](const std::string &t) {
          return pos(e.add("%k0", e.mul(t, e.i32(BN))), "%kv_owner",
                     "%kv_len");
        },
        [&](const std::string &t) {
          return pos(e.minu(e.add(e.add("%k0", e.mul(t, e.i32(BN))),
                                  e.i32(BN - 1)),
                            lastK),
                     "%kv_owner", "%kv_len");
        });
    jLo = range.begin;
    docEnd = range.end;
  }
  if (causal) {
    std::string lastRow = e.minu(e.add(rowQ0, e.i32(BM - 1)), lastQ);
    std::string maxPos = pos(lastRow, "%q_owner", "%q_len");
    std::string j = e.newName(), acc = e.newName(), cnt = e.newName();
    e.open(cnt + " = scf.for " + j + " = " + e.i32(0) + " to " + nt +
           " step " + e.i32(1) + " iter_args(" + acc + " = " + e.i32(0) +
           ") -> (i32) : i32 {");
    std::string kr = e.add("%k0", e.mul(j, e.i32(BN)));
    std::string vis = e.cmp("sle", pos(kr, "%kv_owner", "%kv_len"), maxPos);
    std::string inc = e.let("arith.extui " + vis + " : i1 to i32");
    e.line("scf.yield " + e.add(acc, inc) + " : i32");
    e.close();
    nt = cnt;
  }
  if (docs) {
    std::string end = causal ? e.minu(docEnd, nt) : docEnd;
    nt = e.select(e.cmp("sgt", end, jLo), e.sub(end, jLo), e.i32(0), "i32");
  }

  // mbarriers: initialised by thread 0, made visible to the async proxy
  // (TMA completes transactions on them), then one CTA barrier before the
  // warpgroups part.
  e.open("scf.if " + e.cmp("eq", "%tid", e.i32(0)) + " {");
  e.line("nvvm.mbarrier.init " + bar(L.qFull()) + ", " + e.i32(1) +
         " : !llvm.ptr<3>, i32");
  for (int64_t s = 0; s < S; ++s) {
    e.line("nvvm.mbarrier.init " + bar(L.kFull(s)) + ", " + e.i32(1) +
           " : !llvm.ptr<3>, i32");
    e.line("nvvm.mbarrier.init " + bar(L.vFull(s)) + ", " + e.i32(1) +
           " : !llvm.ptr<3>, i32");
    // Every consumer thread arrives once it is done with the stage.
    e.line("nvvm.mbarrier.init " + bar(L.empty(s)) + ", " + e.i32(256) +
           " : !llvm.ptr<3>, i32");
  }
  e.line("nvvm.fence.mbarrier.init");
  e.line("nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = "
         "#nvvm.shared_space<cta>}");
  e.close();
  e.line("gpu.barrier");

  std::string isProducer = e.cmp("eq", wg, e.i32(0));
  e.open("scf.if " + isProducer + " {");
  {
    // ---- Producer warpgroup -------------------------------------------
    e.line("nvvm.setmaxregister decrease " +
           std::to_string(WgmmaAttentionConfig::kProducerRegs));
    e.open("scf.if " + e.cmp("eq", "%tid", e.i32(0)) + " {");
    std::string qb = bar(L.qFull());
    e.line("nvvm.mbarrier.arrive.expect_tx " + qb + ", " +
           e.i32(c.qTileBytes()) + " : !llvm.ptr<3>, i32");
    tmaTile("%tm_q", e.i32(L.q), BM, rowQ0, bh, qb);
    std::string j = e.newName();
    e.open("scf.for " + j + " = " + e.i32(0) + " to " + nt + " step " +
           e.i32(1) + " : i32 {");
    std::string st = e.remu(j, e.i32(S));
    std::string round = e.divu(j, e.i32(S));
    // Stage reuse: wait until both consumers released round - 1.
    e.open("scf.if " + e.cmp("uge", j, e.i32(S)) + " {");
    std::string par = e.let("arith.andi " + e.sub(round, e.i32(1)) + ", " +
                            e.i32(1) + " : i32");
    waitParity(stageBar(L.empty(0), st), par);
    e.close();
    std::string row = e.add("%k0", e.mul(e.add(jLo, j), e.i32(BN)));
    std::string kb = stageBar(L.kFull(0), st);
    e.line("nvvm.mbarrier.arrive.expect_tx " + kb + ", " +
           e.i32(c.kvTileBytes()) + " : !llvm.ptr<3>, i32");
    tmaTile("%tm_k", e.add(e.i32(L.k), e.mul(st, e.i32(c.kvTileBytes()))), BN,
            row, bhk, kb);
    std::string vb = stageBar(L.vFull(0), st);
    e.line("nvvm.mbarrier.arrive.expect_tx " + vb + ", " +
           e.i32(c.kvTileBytes()) + " : !llvm.ptr<3>, i32");
    tmaTile("%tm_v", e.add(e.i32(L.v), e.mul(st, e.i32(c.kvTileBytes()))), BN,
            row, bhk, vb);
    e.close();
    e.close();
  }
  e.reopen("} else {");
  {
    // ---- Consumer warpgroups ------------------------------------------
    e.line("nvvm.setmaxregister increase " +
           std::to_string(WgmmaAttentionConfig::kConsumerRegs));
    std::string cw = e.sub(wg, e.i32(1));
    std::string wq = e.let("arith.andi " +
                           e.let("arith.shrui %tid, " + e.i32(5) + " : i32") +
                           ", " + e.i32(3) + " : i32");
    std::string warpRow =
        e.add(rowQ0, e.add(e.mul(cw, e.i32(64)), e.mul(wq, e.i32(16))));
    std::string rows[2] = {e.add(warpRow, g), e.add(e.add(warpRow, g), e.i32(8))};
    std::string qPos[2];
    // Positions for the causal mask, the sliding window and padded parts
    // (whose KernelWindow always tests a side, Kernels.h).
    const bool positional = causal || c.window.any() || docs;
    if (positional)
      for (int r = 0; r < 2; ++r)
        qPos[r] = maskPos(rows[r], "%q_owner", "%q_len", /*isKey=*/false);
    // Packed documents: the keys each row sees, as one range (its document
    // cut by the causal mask and the window, rowKeyRange; a padding row's
    // sentinel position gets an empty one, Kernels.h).
    DocumentBounds qKeys[2];
    if (docs)
      for (int r = 0; r < 2; ++r)
        qKeys[r] =
            rowKeyRange(e, documentBounds(e, cug, c.maxDocs, qPos[r]), qPos[r],
                        causal, c.window);

    // Descriptors. Q and K are K-major (head dim contiguous): 8-row groups
    // 1024 bytes apart (SBO); a k16 step moves 32 bytes within a 128-byte
    // panel row, a panel moves rows * 128 bytes; LBO is unused for swizzled
    // K-major operands (16). V is MN-major for P·V (N = head dim
    // contiguous): LBO is the stride between 64-column panels, SBO between
    // 8-key groups.
    std::string qDesc = descriptor(e.add(e.i32(L.q), e.mul(cw, e.i32(64 * 128))),
                                   16, 1024);
    std::string kDesc0 = descriptor(e.i32(L.k), 16, 1024);
    std::string vDesc0 = descriptor(e.i32(L.v), BN * 128, 1024);
    auto descAdd = [&](const std::string &d, const std::string &bytes64) {
      return w->descAdd(d, bytes64);
    };
    waitParity(bar(L.qFull()), e.i32(0));
    // Ping-pong: the consumers take turns at the tensor cores, each GEMM
    // phase behind a named barrier (id 1 + consumer) of both warpgroups
    // (256 threads) that the other consumer arrives at after its own GEMM;
    // so one consumer's softmax overlaps the other's GEMM. Consumer 0 goes
    // first: consumer 1 arrives once up front.
    isFirst = e.cmp("eq", cw, e.i32(0));
    if (c.pingPong) {
      e.open("scf.if " +
             e.let("arith.andi " + e.cmp("eq", cw, e.i32(1)) + ", " +
                   e.cmp("sgt", nt, e.i32(0)) + " : i1") +
             " {");
      e.line("nvvm.barrier.arrive id = " + e.i32(1) +
             " number_of_threads = " + e.i32(256));
      e.close();
    }

    // The KV loop. Carried: O (nO x 4), m (2 rows), l (2 rows, partial sums
    // of this thread's columns).
    std::vector<std::string> names;
    std::string header, types;
    auto carry = [&](const std::string &init) {
      std::string n = e.newName();
      header += (names.empty() ? "" : ", ") + n + " = " + init;
      types += names.empty() ? "f32" : ", f32";
      names.push_back(n);
    };
    for (int64_t i = 0; i < nO * 4; ++i)
      carry(e.f32(0.0));
    carry(e.negInf());
    carry(e.negInf());
    carry(e.f32(0.0));
    carry(e.f32(0.0));
    std::string loop = e.newName(), j = e.newName();
    e.open(loop + ":" + std::to_string(names.size()) + " = scf.for " + j +
           " = " + e.i32(0) + " to " + nt + " step " + e.i32(1) +
           " iter_args(" + header + ") -> (" + types + ") : i32 {");
    {
      std::string st = e.remu(j, e.i32(S));
      std::string par = e.let("arith.andi " + e.divu(j, e.i32(S)) + ", " +
                              e.i32(1) + " : i32");
      std::string stageOff =
          e.mul(e.ext64(st), e.i64(c.kvTileBytes()), "i64");
      std::string kDesc = descAdd(kDesc0, stageOff);
      std::string vDesc = descAdd(vDesc0, stageOff);

      // S = Q Kᵀ.
      waitParity(stageBar(L.kFull(0), st), par);
      std::vector<std::string> qds, kds;
      std::vector<int64_t> qSteps = WgmmaFragments::kMajorStepBytes(D, BM);
      std::vector<int64_t> kvSteps = WgmmaFragments::kMajorStepBytes(D, BN);
      for (int64_t kk = 0; kk < kSteps; ++kk) {
        qds.push_back(descAdd(qDesc, e.i64(qSteps[kk])));
        kds.push_back(descAdd(kDesc, e.i64(kvSteps[kk])));
      }
      turnBegin();
      std::vector<std::string> sv = sGemm(qds, kds);
      turnEnd("");
      std::vector<std::array<std::string, 4>> Sf(nS);
      for (int64_t n = 0; n < nS; ++n)
        for (int i = 0; i < 4; ++i)
          Sf[n][i] = sv[n * 4 + i];

      // Scale to log2 units and mask (ragged tail; causal, window and
      // padding from positions),
      // unless every key of the tile is visible to both of this thread's
      // rows.
      std::string tile0 = e.add("%k0", e.mul(e.add(jLo, j), e.i32(BN)));
      std::string tileLast = e.add(tile0, e.i32(BN - 1));
      // With padded parts every tile takes the masked path (a padding row
      // may sit anywhere in it).
      std::string full = c.padding ? e.i1(false)
                                   : e.cmp("slt", tileLast, kEnd);
      if (causal && !c.padding)
        full = e.let("arith.andi " + full + ", " +
                     e.cmp("sle", pos(tileLast, "%kv_owner", "%kv_len"),
                           qPos[0]) +
                     " : i1");
      // Positions grow with the local row: the window admits the whole
      // tile for both rows iff it admits the tile's last key for the
      // earlier row and its first key for the later row.
      if (c.window.any() && !c.padding) {
        KernelWindow left{c.window.maxDiff, std::nullopt};
        KernelWindow right{std::nullopt, c.window.minDiff};
        full = andI1(e, full,
                     windowAdmits(e, left, qPos[1],
                                  pos(tile0, "%kv_owner", "%kv_len")));
        full = andI1(e, full,
                     windowAdmits(e, right, qPos[0],
                                  pos(tileLast, "%kv_owner", "%kv_len")));
      }
      // Documents: the tile's first and last keys lie in both rows' key
      // ranges (so do the keys between them).
      if (docs && !c.padding) {
        std::string p0 = pos(tile0, "%kv_owner", "%kv_len");
        std::string p1 = pos(tileLast, "%kv_owner", "%kv_len");
        for (int r = 0; r < 2; ++r)
          full = andI1(e, andI1(e, full, documentAdmits(e, qKeys[r], p0)),
                       documentAdmits(e, qKeys[r], p1));
      }
      std::string fTypes;
      for (int64_t i = 0; i < BN / 2; ++i)
        fTypes += i ? ", f32" : "f32";
      std::string masked = e.newName();
      e.open(masked + ":" + std::to_string(BN / 2) + " = scf.if " + full +
             " -> (" + fTypes + ") {");
      {
        std::string y;
        for (int64_t n = 0; n < nS; ++n)
          for (int i = 0; i < 4; ++i)
            y += (y.empty() ? "" : ", ") + e.fmul(Sf[n][i], "%scale_log2");
        e.line("scf.yield " + y + " : " + fTypes);
      }
      e.reopen("} else {");
      {
        std::string key0 = e.add(tile0, e.mul(t4, e.i32(2)));
        std::vector<std::string> out(BN / 2);
        for (int64_t n = 0; n < nS; ++n)
          for (int col = 0; col < 2; ++col) {
            std::string key = e.add(key0, e.i32(n * 8 + col));
            std::string ok = e.cmp("slt", key, kEnd);
            std::string kp =
                positional ? maskPos(key, "%kv_owner", "%kv_len", /*isKey=*/true)
                           : "";
            for (int r = 0; r < 2; ++r) {
              std::string vis = ok;
              if (docs) {
                // Document, causal mask and window in one range.
                vis = andI1(e, vis, documentAdmits(e, qKeys[r], kp));
              } else {
                vis = maskVisible(e, c.mask, c.window, ok, qPos[r], kp);
              }
              out[n * 4 + 2 * r + col] =
                  e.select(vis, e.fmul(Sf[n][2 * r + col], "%scale_log2"),
                           e.negInf(), "f32");
            }
          }
        std::string y;
        for (auto &o : out)
          y += (y.empty() ? "" : ", ") + o;
        e.line("scf.yield " + y + " : " + fTypes);
      }
      e.close();
      for (int64_t n = 0; n < nS; ++n)
        for (int i = 0; i < 4; ++i)
          Sf[n][i] = masked + "#" + std::to_string(n * 4 + i);

      OnlineSoftmaxStep sm = emitOnlineSoftmaxStep(e, *f, Sf, names, nO * 4);
      const auto &mNew = sm.mNew, &alpha = sm.alpha, &lNew = sm.lNew;
      std::vector<std::string> O(nO * 4);
      for (int64_t i = 0; i < nO * 4; ++i)
        O[i] = e.fmul(names[i], alpha[(i % 4) / 2]);

      // P in registers: the S accumulator layout is the A-fragment layout
      // of m64k16 (WgmmaFragments::packA).
      std::vector<std::string> aRegs = WgmmaFragments::packA(*f, Sf);
      std::vector<std::string> vDescs;
      for (int64_t kk = 0; kk < pvSteps; ++kk)
        vDescs.push_back(descAdd(vDesc, e.i64(kk * 16 * 128)));
      waitParity(stageBar(L.vFull(0), st), par);
      turnBegin();
      O = pvGemm(O, aRegs, vDescs);
      // The second consumer's last GEMM hands the turn to nobody.
      std::string lastPv = e.let(
          "arith.andi " + e.cmp("eq", cw, e.i32(1)) + ", " +
          e.cmp("eq", e.add(j, e.i32(1)), nt) + " : i1");
      turnEnd(e.let("arith.xori " + lastPv + ", " + e.i1(true) + " : i1"));
      // Release the stage (K was consumed by the S GEMM, waited above).
      e.line("nvvm.mbarrier.arrive " + stageBar(L.empty(0), st) +
             " : !llvm.ptr<3>");

      std::string yield;
      for (auto &o : O)
        yield += o + ", ";
      yield += mNew[0] + ", " + mNew[1] + ", " + lNew[0] + ", " + lNew[1];
      e.line("scf.yield " + yield + " : " + types);
    }
    e.close();

    // Epilogue (shared with the mma.sync kernel): the partial, or the
    // fused merge into the running (O, LSE) of the rows.
    auto res = [&](int64_t i) { return loop + "#" + std::to_string(i); };
    std::string rowBase = e.mul(e.ext64(bh), e.ext64("%p_len"), "i64");
    AttentionRows out{{rows[0], rows[1]}, qEnd, lastQ, rowBase, pog, plg, t4};
    emitAttentionEpilogue(e, *f, c.epilogue, D, res, out);
  }
  e.close();
  e.line("gpu.return");

  return "  gpu.func @" + c.kernelName() +
         "(%tm_q: !llvm.ptr, %tm_k: !llvm.ptr, %tm_v: !llvm.ptr, "
         "%po: !llvm.ptr, %pl: !llvm.ptr, %heads: i32, %kv_heads: i32, "
         "%q_len: i32, %kv_len: i32, %p_len: i32, %q0: i32, %qn: i32, "
         "%k0: i32, %kn: i32, %q_owner: i32, %kv_owner: i32, %ring: i32, "
         "%scale_log2: f32" +
         (docs ? ", %cu_seqlens: !llvm.ptr" : "") +
         ") kernel attributes {known_block_size = "
         "array<i32: " +
         std::to_string(WgmmaAttentionConfig::kThreads) +
         ", 1, 1>, nvvm.minctasm = 1 : i32, nvvm.maxnreg = " +
         std::to_string(WgmmaAttentionConfig::kEntryRegs) + " : i32, " +
         kGridConstantArgsAttr.str() + " = array<i32: 0, 1, 2>} {\n" +
         e.str() + "  }\n";
}

std::string mlir::ring::gpu::writeWgmmaAttentionKernel(
    const WgmmaAttentionConfig &config) {
  return WgmmaWriter(config).run();
}
