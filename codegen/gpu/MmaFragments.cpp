//===- MmaFragments.cpp - warp-level MMA building blocks --------*- C++ -*-===//
//
// This file implements the fragment operations shared by the mma.sync
// kernels: ring-layout positions, cp.async row copies, ldmatrix, mma.sync,
// packing and shuffles (MmaFragments.h).
//
//===----------------------------------------------------------------------===//

#include "codegen/gpu/MmaFragments.h"
#include "codegen/gpu/Kernels.h"
#include "dialect/Visibility.h"

#include <cassert>
#include <cmath>

using namespace mlir;
using namespace mlir::ring;
using namespace mlir::ring::gpu;

std::string mlir::ring::gpu::globalPosition(MlirEmitter &e, Balance layout,
                                            const std::string &i,
                                            const std::string &owner,
                                            const std::string &len,
                                            const std::string &ring) {
  switch (layout) {
  case Balance::none:
    return e.add(e.mul(owner, len), i);
  case Balance::striped:
    return e.add(e.mul(i, ring), owner);
  case Balance::zigzag: {
    std::string chunk = e.let("arith.shrui " + len + ", " + e.i32(1) + " : i32");
    std::string lo = e.add(e.mul(owner, chunk), i);
    std::string other = e.sub(e.sub(e.mul(ring, e.i32(2)), e.i32(1)), owner);
    std::string hi = e.add(e.mul(other, chunk), e.sub(i, chunk));
    return e.select(e.cmp("ult", i, chunk), lo, hi, "i32");
  }
  }
  return i;
}

KernelWindow KernelWindow::of(bool causal, WindowAttr w, int64_t seq,
                              bool padded) {
  KernelWindow k;
  int64_t left = w ? w.getLeft() : -1, right = w ? w.getRight() : -1;
  if (!w && !padded)
    return k;
  auto [lo, hi] = clampedDiffBounds(causal, left, right, seq);
  if (left >= 0)
    k.maxDiff = hi;
  // Without a causal mask the lower side is the test that rejects padding
  // rows (Visibility.h), so a padded variant always has it.
  if (!causal && (right >= 0 || padded))
    k.minDiff = lo;
  return k;
}

std::string KernelWindow::suffix() const {
  std::string s;
  if (maxDiff)
    s += "_wl" + std::to_string(*maxDiff);
  if (minDiff)
    s += "_wr" + std::to_string(-*minDiff);
  return s;
}

std::string mlir::ring::gpu::andI1(MlirEmitter &e, const std::string &a,
                                   const std::string &b) {
  if (a.empty())
    return b;
  if (b.empty())
    return a;
  return e.let("arith.andi " + a + ", " + b + " : i1");
}

std::string mlir::ring::gpu::windowAdmits(MlirEmitter &e,
                                          const KernelWindow &w,
                                          const std::string &qp,
                                          const std::string &kp) {
  if (!w.any())
    return "";
  std::string d = e.sub(qp, kp);
  std::string ok;
  if (w.maxDiff)
    ok = e.cmp("sle", d, e.i32(*w.maxDiff));
  if (w.minDiff)
    ok = andI1(e, ok, e.cmp("sge", d, e.i32(*w.minDiff)));
  return ok;
}

SeqPadding SeqPadding::of(std::optional<uint64_t> seqLen, int64_t ringSize,
                          int64_t localSeq) {
  SeqPadding p;
  if (seqLen) {
    p.seqLen = static_cast<int64_t>(*seqLen);
    p.ringSize = ringSize;
    p.span = localSeq * ringSize;
  }
  return p;
}

std::string SeqPadding::suffix() const {
  if (!seqLen)
    return "";
  return "_L" + std::to_string(seqLen) + "p" + std::to_string(ringSize);
}

std::string mlir::ring::gpu::paddedPosition(MlirEmitter &e, Balance layout,
                                            const std::string &i,
                                            const std::string &owner,
                                            const std::string &len,
                                            const SeqPadding &pad,
                                            std::string *valid) {
  const int64_t L = pad.seqLen, P = pad.ringSize;
  // Part c of `parts` holds L/parts tokens, one more if c < L % parts, from
  // c·(L/parts) + min(c, L % parts) (ringrt/Layout.h).
  auto part = [&](int64_t parts, const std::string &c,
                  const std::string &off) {
    std::string start =
        e.add(e.mul(c, e.i32(L / parts)), e.minu(c, e.i32(L % parts)));
    std::string count = e.add(
        e.i32(L / parts),
        e.let("arith.extui " + e.cmp("ult", c, e.i32(L % parts)) +
              " : i1 to i32"));
    *valid = e.cmp("ult", off, count);
    return e.add(start, off);
  };
  switch (layout) {
  case Balance::none:
    return part(P, owner, i);
  case Balance::zigzag: {
    std::string chunk = e.let("arith.shrui " + len + ", " + e.i32(1) + " : i32");
    std::string first = e.cmp("ult", i, chunk);
    std::string c = e.select(first, owner, e.sub(e.i32(2 * P - 1), owner), "i32");
    std::string off = e.select(first, i, e.sub(i, chunk), "i32");
    return part(2 * P, c, off);
  }
  case Balance::striped: {
    std::string p = e.add(e.mul(i, e.i32(P)), owner);
    *valid = e.cmp("ult", p, e.i32(L));
    return p;
  }
  }
  return i;
}

std::string mlir::ring::gpu::partPosition(MlirEmitter &e, Balance layout,
                                          const std::string &i,
                                          const std::string &owner,
                                          const std::string &len,
                                          const std::string &ring,
                                          const SeqPadding &pad) {
  if (!pad)
    return globalPosition(e, layout, i, owner, len, ring);
  std::string valid;
  return paddedPosition(e, layout, i, owner, len, pad, &valid);
}

std::string mlir::ring::gpu::maskPosition(MlirEmitter &e, Balance layout,
                                          const std::string &i,
                                          const std::string &owner,
                                          const std::string &len,
                                          const std::string &ring,
                                          const SeqPadding &pad, bool isKey) {
  if (!pad)
    return globalPosition(e, layout, i, owner, len, ring);
  std::string valid;
  std::string pos = paddedPosition(e, layout, i, owner, len, pad, &valid);
  return e.select(valid, pos,
                  e.i32(isKey ? paddingKeyPosition(pad.span)
                              : paddingQueryPosition(pad.span)),
                  "i32");
}

void mlir::ring::gpu::emitBlockCoordinates(MlirEmitter &e, std::string &lane,
                                           std::string &warp) {
  e.line("%tidx = gpu.thread_id x");
  e.line("%tid = arith.index_cast %tidx : index to i32");
  e.line("%bxx = gpu.block_id x");
  e.line("%bx = arith.index_cast %bxx : index to i32");
  e.line("%hx = gpu.block_id y");
  e.line("%h = arith.index_cast %hx : index to i32");
  e.line("%bbx = gpu.block_id z");
  e.line("%b = arith.index_cast %bbx : index to i32");
  lane = e.let("arith.andi %tid, " + e.i32(31) + " : i32");
  warp = e.let("arith.shrui %tid, " + e.i32(5) + " : i32");
}

std::string mlir::ring::gpu::emitCount(
    MlirEmitter &e, const std::string &n,
    const std::function<std::string(const std::string &)> &pred) {
  std::string t = e.newName(), acc = e.newName(), cnt = e.newName();
  e.open(cnt + " = scf.for " + t + " = " + e.i32(0) + " to " + n + " step " +
         e.i32(1) + " iter_args(" + acc + " = " + e.i32(0) +
         ") -> (i32) : i32 {");
  std::string inc = e.let("arith.extui " + pred(t) + " : i1 to i32");
  e.line("scf.yield " + e.add(acc, inc) + " : i32");
  e.close();
  return cnt;
}

std::string mlir::ring::gpu::emitPrefixCount(
    MlirEmitter &e, const std::string &n,
    const std::function<std::string(const std::string &)> &pred) {
  // Invariant: pred holds below lo and fails from hi on; ends at lo == hi.
  std::string res = e.newName(), lo = e.newName(), hi = e.newName();
  e.open(res + ":2 = scf.while (" + lo + " = " + e.i32(0) + ", " + hi +
         " = " + n + ") : (i32, i32) -> (i32, i32) {");
  e.line("scf.condition(" + e.cmp("ult", lo, hi) + ") " + lo + ", " + hi +
         " : i32, i32");
  std::string lo2 = e.newName(), hi2 = e.newName();
  e.reopen("} do {");
  e.line("^bb0(" + lo2 + ": i32, " + hi2 + ": i32):");
  std::string mid =
      e.let("arith.shrui " + e.add(lo2, hi2) + ", " + e.i32(1) + " : i32");
  std::string holds = pred(mid);
  e.line("scf.yield " + e.select(holds, e.add(mid, e.i32(1)), lo2, "i32") +
         ", " + e.select(holds, hi2, mid, "i32") + " : i32, i32");
  e.close();
  return res + "#0";
}

void MmaFragments::copyRows(int64_t rows, int64_t rowElems, int64_t rowBytes,
                            const std::string &gptr, const std::string &base,
                            const std::string &r0, const std::string &last,
                            const std::string &soff, int64_t smemElems) {
  copyChunks(rows, rowElems, smemElems, gptr, base, r0, last,
             [&](const std::string &r, const std::string &col,
                 int64_t pieceBytes) {
               return e.add(e.add(soff, e.mul(r, e.i32(rowBytes))),
                            e.mul(col, e.i32(pieceBytes)));
             });
}

void MmaFragments::copyRowsSwizzled(int64_t rows, int64_t rowElems,
                                    const std::string &gptr,
                                    const std::string &base,
                                    const std::string &r0,
                                    const std::string &last,
                                    const std::string &soff) {
  // Chunk c of row r: panel c / 8 (rows · 128 bytes each), row r · 128,
  // 16-byte chunk (c mod 8) xor (r mod 8): the 128-byte swizzle on absolute
  // address bits [4, 7) ^ [7, 10) of a 1024-byte aligned tile. The rows are
  // multiples of 8 elements (16-byte pieces).
  assert(rowElems % 8 == 0 && "swizzled rows of 16-byte chunks");
  copyChunks(rows, rowElems, 0, gptr, base, r0, last,
             [&](const std::string &r, const std::string &col, int64_t) {
               return swizzledChunkOffset(soff, r, col, rows);
             });
}

std::string MmaFragments::swizzledChunkOffset(const std::string &soff,
                                              const std::string &r,
                                              const std::string &col,
                                              int64_t rows) {
  std::string panel =
      e.let("arith.shrui " + col + ", " + e.i32(3) + " : i32");
  std::string chunk = e.let("arith.andi " + col + ", " + e.i32(7) + " : i32");
  std::string r8 = e.let("arith.andi " + r + ", " + e.i32(7) + " : i32");
  chunk = e.let("arith.xori " + chunk + ", " + r8 + " : i32");
  return e.add(e.add(soff, e.add(e.mul(panel, e.i32(rows * 128)),
                                 e.mul(r, e.i32(128)))),
               e.mul(chunk, e.i32(16)));
}

void MmaFragments::copyChunks(
    int64_t rows, int64_t rowElems, int64_t smemElems, const std::string &gptr,
    const std::string &base, const std::string &r0, const std::string &last,
    const std::function<std::string(const std::string &, const std::string &,
                                    int64_t)> &dstOffset) {
  if (smemElems < rowElems)
    smemElems = rowElems;
  if (rowElems % 2 != 0) {
    copyOddRows(rows, rowElems, smemElems, gptr, base, r0, last, dstOffset);
    return;
  }
  // The widest cp.async piece (16, 8 or 4 bytes) that every global row
  // start keeps aligned: rows of rowElems 16-bit elements.
  int64_t piece = rowElems % 8 == 0 ? 8 : rowElems % 4 == 0 ? 4 : 2;
  int64_t pieceBytes = 2 * piece;
  int64_t perRow = smemElems / piece; // pieces per shared row
  int64_t valid = rowElems / piece;   // of which hold data
  forEachPiece(rows, perRow, r0, last, [&](const std::string &r,
                                            const std::string &col,
                                            const std::string &grow) {
    // Pieces past the row's data (head_dim padded to the MMA's k16 in
    // shared memory) copy 0 source bytes: cp.async fills them with zeros.
    std::string srcCol = valid < perRow ? e.minu(col, e.i32(valid - 1)) : col;
    std::string elem = e.add(
        e.add(base, e.mul(e.ext64(grow), e.i64(rowElems), "i64"), "i64"),
        e.ext64(e.mul(srcCol, e.i32(piece))), "i64");
    std::string src = e.gep(gptr, e.mul(elem, e.i64(2), "i64"), 1, "i64");
    std::string dst = e.gep(smem, dstOffset(r, col, pieceBytes), 3);
    std::string cache = pieceBytes == 16 ? "cg" : "ca";
    if (valid < perRow) {
      std::string size = e.select(e.cmp("ult", col, e.i32(valid)),
                                  e.i32(pieceBytes), e.i32(0), "i32");
      e.line("nvvm.cp.async.shared.global " + dst + ", " + src + ", " +
             std::to_string(pieceBytes) + ", cache = " + cache + ", " + size +
             " : !llvm.ptr<3>, !llvm.ptr<1>, i32");
    } else {
      e.line("nvvm.cp.async.shared.global " + dst + ", " + src + ", " +
             std::to_string(pieceBytes) + ", cache = " + cache +
             " : !llvm.ptr<3>, !llvm.ptr<1>");
    }
  });
}

void MmaFragments::forEachPiece(
    int64_t rows, int64_t perRow, const std::string &r0,
    const std::string &last,
    const std::function<void(const std::string &, const std::string &,
                             const std::string &)> &body) {
  int64_t total = rows * perRow;
  int64_t iters = (total + threads - 1) / threads;
  for (int64_t it = 0; it < iters; ++it) {
    std::string idx = e.add(tid, e.i32(it * threads));
    bool guarded = (it + 1) * threads > total;
    if (guarded)
      e.open("scf.if " + e.cmp("ult", idx, e.i32(total)) + " {");
    std::string r = e.divu(idx, e.i32(perRow));
    std::string col = e.remu(idx, e.i32(perRow));
    body(r, col, e.minu(e.add(r0, r), last));
    if (guarded)
      e.close();
  }
}

void MmaFragments::copyOddRows(
    int64_t rows, int64_t rowElems, int64_t smemElems, const std::string &gptr,
    const std::string &base, const std::string &r0, const std::string &last,
    const std::function<std::string(const std::string &, const std::string &,
                                    int64_t)> &dstOffset) {
  // Rows of an odd number of 2-byte elements: every other global row starts
  // 2 bytes past a 4-byte boundary, which no cp.async piece (4, 8 or 16
  // bytes, aligned on both sides) can copy, and a shared row must start
  // 16-byte aligned for ldmatrix, so no re-based window aligns both ends.
  // Each thread therefore fills 16-byte chunks of shared rows through
  // registers: eight 2-byte global loads at constant offsets from one
  // address (the chunk's first element, clamped so that the eight stay in
  // the row: the chunk holding the row's end loads the row's last eight
  // and shifts them down) and one 16-byte st.shared. Zeros past the row
  // come from selects, not branches: the warp stays converged up to the
  // barrier that follows (the emulator schedules divergent lanes by
  // lowest PC and faults on a diverged bar.sync). The loads of all its
  // chunks are independent, so ptxas can issue them together and a tile
  // pays the global latency about once. The store is synchronous: it
  // completes at the point where the cp.async would be issued, so the
  // callers' commit / wait / barrier sequence orders it at least as
  // strictly as the copy it replaces (the empty cp.async groups they
  // commit are legal and complete at once).
  assert(smemElems % 8 == 0 && "odd rows padded to whole 16-byte chunks");
  const std::string vecTy = "vector<4xi32>";
  const int64_t perRow = smemElems / 8; // 16-byte chunks per shared row
  const int64_t full = rowElems / 8;    // chunks wholly inside the row
  const int64_t tail = rowElems % 8;    // elements of chunk `full` (odd)
  const int64_t nLoad = full ? 8 : rowElems; // loads per chunk
  const int64_t shift = nLoad - tail; // tail element i is load i + shift
  forEachPiece(rows, perRow, r0, last, [&](const std::string &r,
                                            const std::string &col,
                                            const std::string &grow) {
    std::string rowStart =
        e.add(base, e.mul(e.ext64(grow), e.i64(rowElems), "i64"), "i64");
    std::string firstCol =
        full ? e.minu(e.mul(col, e.i32(8)), e.i32(rowElems - 8)) : e.i32(0);
    std::string p0 = e.gep(
        gptr,
        e.mul(e.add(rowStart, e.ext64(firstCol), "i64"), e.i64(2), "i64"), 1,
        "i64");
    std::vector<std::string> loaded(nLoad);
    for (int64_t i = 0; i < nLoad; ++i)
      loaded[i] = loadHalfBits(i ? e.gep(p0, e.i64(2 * i), 1, "i64") : p0);
    std::string inside = full ? e.cmp("ult", col, e.i32(full)) : "";
    std::string atTail = e.cmp("eq", col, e.i32(full));
    // Element i of the chunk: load i inside the row, load i + shift in the
    // chunk that holds the row's end, else 0.
    auto element = [&](int64_t i) {
      std::string v = i < tail
                          ? e.select(atTail, loaded[i + shift], e.i32(0), "i32")
                          : e.i32(0);
      return full ? e.select(inside, loaded[i], v, "i32") : v;
    };
    std::string chunk = packChunk(element);
    std::string dst = e.gep(smem, dstOffset(r, col, 16), 3);
    e.line("llvm.store " + chunk + ", " + dst +
           " {alignment = 16 : i64} : " + vecTy + ", !llvm.ptr<3>");
  });
}

std::string MmaFragments::loadHalfBits(const std::string &p) {
  return e.let("arith.extui " +
               e.let("llvm.load " + p +
                     " {alignment = 2 : i64} : !llvm.ptr<1> -> i16") +
               " : i16 to i32");
}

std::string MmaFragments::loadHalfBitsIf(const std::string &p,
                                         int64_t offset,
                                         const std::string &valid) {
  // A select after an unconditional load would read past the matrix, and
  // an scf.if branches: the emulator runs diverged lanes by lowest PC and
  // faults when they reach the next bar.sync apart.
  std::string addr = e.let("llvm.ptrtoint " + p + " : !llvm.ptr<1> to i64");
  std::string h = e.let(
      "llvm.inline_asm asm_dialect = att \"{\\0A.reg .pred %ldp;\\0A"
      "setp.ne.b32 %ldp, $2, 0;\\0Amov.b16 $0, 0;\\0A@%ldp ld.global.u16 "
      "$0, [$1+" +
      std::to_string(offset) + "];\\0A}\", \"=h,l,r\" " + addr + ", " +
      e.let("arith.extui " + valid + " : i1 to i32") +
      " : (i64, i32) -> i16");
  return e.let("arith.extui " + h + " : i16 to i32");
}

std::string MmaFragments::packChunk(
    const std::function<std::string(int64_t)> &element) {
  const std::string vecTy = "vector<4xi32>";
  std::string chunk = e.let("llvm.mlir.poison : " + vecTy);
  for (int w = 0; w < 4; ++w) {
    std::string word = e.let(
        "arith.ori " + element(2 * w) + ", " +
        e.let("arith.shli " + element(2 * w + 1) + ", " + e.i32(16) +
              " : i32") +
        " : i32");
    chunk = e.let("llvm.insertelement " + word + ", " + chunk + "[" +
                  e.i32(w) + " : i32] : " + vecTy);
  }
  return chunk;
}

std::string MmaFragments::pack(const std::string &lo, const std::string &hi) {
  std::string v = e.let("llvm.mlir.poison : vector<2xf32>");
  v = e.let("llvm.insertelement " + lo + ", " + v + "[" + e.i32(0) +
            " : i32] : vector<2xf32>");
  v = e.let("llvm.insertelement " + hi + ", " + v + "[" + e.i32(1) +
            " : i32] : vector<2xf32>");
  std::string h = e.let("arith.truncf " + v + " : vector<2xf32> to vector<2x" +
                        halfTy + ">");
  return e.let("llvm.bitcast " + h + " : vector<2x" + halfTy + "> to i32");
}

std::array<std::string, 4> MmaFragments::ldmatrix(const std::string &off,
                                                  bool trans) {
  std::string p = e.gep(smem, off, 3);
  std::string s = e.let(
      "nvvm.ldmatrix " + p + " {num = 4 : i32, layout = #nvvm.mma_layout<" +
      (trans ? "col" : "row") +
      ">, shape = #nvvm.ld_st_matrix_shape<m = 8, n = 8>, eltType = "
      "#nvvm.ld_st_matrix_elt_type<b16>} : (!llvm.ptr<3>) -> "
      "!llvm.struct<(i32, i32, i32, i32)>");
  std::array<std::string, 4> r;
  for (int i = 0; i < 4; ++i)
    r[i] = e.let("llvm.extractvalue " + s + "[" + std::to_string(i) +
                 "] : !llvm.struct<(i32, i32, i32, i32)>");
  return r;
}

std::array<std::string, 4>
MmaFragments::mma(const std::array<std::string, 4> &a, const std::string &b0,
                  const std::string &b1,
                  const std::array<std::string, 4> &acc) {
  // The NVVM verifier wants f16 operands as vector<2xf16> and bf16 ones as
  // i32 (the PTX registers are .b32 either way).
  bool f16 = halfTy == "f16";
  auto opnd = [&](const std::string &x) {
    return f16 ? e.let("llvm.bitcast " + x + " : i32 to vector<2xf16>") : x;
  };
  std::string A[4] = {opnd(a[0]), opnd(a[1]), opnd(a[2]), opnd(a[3])};
  std::string B0 = opnd(b0), B1 = opnd(b1);
  std::string opTy = f16 ? "vector<2xf16>" : "i32";
  std::string s = e.let(
      "nvvm.mma.sync A[" + A[0] + ", " + A[1] + ", " + A[2] + ", " + A[3] +
      "] B[" + B0 + ", " + B1 + "] C[" + acc[0] + ", " + acc[1] + ", " +
      acc[2] + ", " + acc[3] +
      "] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, "
      "shape = #nvvm.shape<m = 16, n = 8, k = 16>, multiplicandAPtxType = "
      "#nvvm.mma_type<" +
      halfTy + ">, multiplicandBPtxType = #nvvm.mma_type<" + halfTy +
      ">} : (" + opTy + ", " + opTy +
      ", f32) -> !llvm.struct<(f32, f32, f32, f32)>");
  std::array<std::string, 4> r;
  for (int i = 0; i < 4; ++i)
    r[i] = e.let("llvm.extractvalue " + s + "[" + std::to_string(i) +
                 "] : !llvm.struct<(f32, f32, f32, f32)>");
  return r;
}

std::string MmaFragments::shflXor(const std::string &v, int mask) {
  return e.let("nvvm.shfl.sync bfly " + e.i32(-1) + ", " + v + ", " +
               e.i32(mask) + ", " + e.i32(31) + " : f32 -> f32");
}

std::string MmaFragments::aLaneOffset(const std::string &lane,
                                      const std::string &row0,
                                      int64_t rowBytes) {
  // Row row0 + lane%16, column block 8 * (lane/16).
  std::string l15 = e.let("arith.andi " + lane + ", " + e.i32(15) + " : i32");
  std::string l4 = e.let("arith.shrui " + lane + ", " + e.i32(4) + " : i32");
  return e.add(e.mul(e.add(row0, l15), e.i32(rowBytes)),
               e.mul(l4, e.i32(16)));
}

std::string MmaFragments::bLaneOffset(const std::string &lane,
                                      int64_t rowBytes) {
  // Key 8*(lane/16) + lane%8, column block 8 * ((lane/8)%2).
  std::string l7 = e.let("arith.andi " + lane + ", " + e.i32(7) + " : i32");
  std::string l4 = e.let("arith.shrui " + lane + ", " + e.i32(4) + " : i32");
  std::string l3b = e.let(
      "arith.andi " + e.let("arith.shrui " + lane + ", " + e.i32(3) + " : i32") +
      ", " + e.i32(1) + " : i32");
  return e.add(e.mul(e.add(e.mul(l4, e.i32(8)), l7), e.i32(rowBytes)),
               e.mul(l3b, e.i32(16)));
}

std::string MmaFragments::bTransLaneOffset(const std::string &lane,
                                           int64_t rowBytes) {
  // Key 8*((lane/8)%2) + lane%8, column block 8*(lane/16).
  std::string l7 = e.let("arith.andi " + lane + ", " + e.i32(7) + " : i32");
  std::string l4 = e.let("arith.shrui " + lane + ", " + e.i32(4) + " : i32");
  std::string l3b = e.let(
      "arith.andi " + e.let("arith.shrui " + lane + ", " + e.i32(3) + " : i32") +
      ", " + e.i32(1) + " : i32");
  return e.add(e.mul(e.add(e.mul(l3b, e.i32(8)), l7), e.i32(rowBytes)),
               e.mul(l4, e.i32(16)));
}

void mlir::ring::gpu::emitAttentionEpilogue(
    MlirEmitter &e, MmaFragments &frag, AttentionEpilogue kind, int64_t D,
    const std::function<std::string(int64_t)> &res, const AttentionRows &a,
    int64_t regDim) {
  // Epilogue: O / l and LSE = (m + log2 l) * ln 2, in fp32; written as the
  // partial (row i − q0), or merged into the accumulator (row i).
  const bool toAcc = kind != AttentionEpilogue::Partial;
  const bool merge = kind == AttentionEpilogue::Accumulate;
  // O fragments cover regDim columns (D padded to the MMA's tiles); only
  // the D columns of the output are written, never its padding.
  const int64_t nO = (regDim > 0 ? regDim : D) / 8;
  const int64_t nWrite = (D + 7) / 8;
  const std::string *rows = a.rows;
  const std::string &qEnd = a.qEnd, &lastQ = a.lastQ, &plRow0 = a.rowBase,
                    &pog = a.outO, &plg = a.outLse, &t4 = a.t4;
  MmaFragments *f = &frag;
  for (int r = 0; r < 2; ++r) {
    std::string l = res(nO * 4 + 2 + r);
    l = e.fadd(l, f->shflXor(l, 1));
    l = e.fadd(l, f->shflXor(l, 2));
    std::string m = res(nO * 4 + r);
    std::string has = e.fcmp("ogt", l, e.f32(0.0));
    std::string inv = e.select(has, e.fdiv(e.f32(1.0), l), e.f32(0.0), "f32");
    std::string lse = e.select(
        has, e.fmul(e.fadd(m, e.log2(l)), e.f32(M_LN2)), e.negInf(), "f32");
    std::string la;
    if (merge) {
      // The running LSE of the row, read by all four lanes of the row (at
      // the last valid row for lanes past the tail, so that every lane
      // reaches the shuffles, which must not diverge). The shuffles order
      // those reads before lane t4 = 0 writes the merged LSE.
      std::string clamped = e.minu(rows[r], lastQ);
      std::string at = e.add(plRow0, e.ext64(clamped), "i64");
      la = e.let("llvm.load " +
                 e.gep(plg, e.mul(at, e.i64(4), "i64"), 1, "i64") +
                 " : !llvm.ptr<1> -> f32");
      la = e.fmax(la, f->shflXor(la, 1));
      la = e.fmax(la, f->shflXor(la, 2));
    }
    e.open("scf.if " + e.cmp("slt", rows[r], qEnd) + " {");
    std::string prow = e.ext64(toAcc ? rows[r] : e.sub(rows[r], "%q0"));
    std::string rowElem = e.add(plRow0, prow, "i64");
    std::string oRow = e.mul(rowElem, e.i64(D), "i64");
    std::string lp = e.gep(plg, e.mul(rowElem, e.i64(4), "i64"), 1, "i64");
    // O = O_block · scale (+ O_acc · wa when merging).
    std::string scale = inv, wa, lseOut = lse;
    if (merge) {
      MergeWeights w = openMergeRow(e, la, lse);
      scale = e.fmul(w.wb, inv);
      wa = w.wa;
      lseOut = w.lse;
    }
    for (int64_t n = 0; n < nWrite; ++n) {
      std::string col0 = e.add(e.mul(t4, e.i32(2)), e.i32(n * 8));
      // A tile straddling D: the lanes of columns past it write nothing.
      bool partial = (n + 1) * 8 > D;
      if (partial)
        e.open("scf.if " + e.cmp("ult", col0, e.i32(D)) + " {");
      storeF32Pair(e, pog, oRow, col0, D, partial, merge,
                   [&](int col, const std::function<std::string()> &old) {
                     std::string x = e.fmul(res(n * 4 + 2 * r + col), scale);
                     if (merge)
                       x = e.fadd(x, e.fmul(old(), wa));
                     return x;
                   });
      if (partial)
        e.close();
    }
    e.open("scf.if " + e.cmp("eq", t4, e.i32(0)) + " {");
    e.line("llvm.store " + lseOut + ", " + lp + " : f32, !llvm.ptr<1>");
    e.close();
    if (merge)
      e.close();
    e.close();
  }
}

void mlir::ring::gpu::storeF32Pair(
    MlirEmitter &e, const std::string &out, const std::string &rowElem,
    const std::string &col0, int64_t D, bool straddles, bool readOld,
    const std::function<std::string(int, const std::function<std::string()> &)>
        &value) {
  std::string d = e.ext64(col0);
  std::string off = e.mul(e.add(rowElem, d, "i64"), e.i64(4), "i64");
  std::string p = e.gep(out, off, 1, "i64");
  if (D % 2 != 0) {
    // Rows of odd length: every other row starts 4 bytes past an 8-byte
    // boundary, so each column is its own f32 access, and where the pair
    // straddles D the lane whose second column is D writes one.
    for (int col = 0; col < 2; ++col) {
      bool guard = straddles && col == 1;
      if (guard)
        e.open("scf.if " + e.cmp("ult", e.add(col0, e.i32(1)), e.i32(D)) +
               " {");
      std::string pc =
          col ? e.gep(out, e.add(off, e.i64(4), "i64"), 1, "i64") : p;
      std::string x = value(col, [&] {
        return e.let("llvm.load " + pc + " : !llvm.ptr<1> -> f32");
      });
      e.line("llvm.store " + x + ", " + pc + " : f32, !llvm.ptr<1>");
      if (guard)
        e.close();
    }
    return;
  }
  std::string old;
  if (readOld)
    old = e.let("llvm.load " + p +
                " {alignment = 8 : i64} : !llvm.ptr<1> -> vector<2xf32>");
  std::string v = e.let("llvm.mlir.poison : vector<2xf32>");
  for (int col = 0; col < 2; ++col) {
    std::string x = value(col, [&] {
      return e.let("llvm.extractelement " + old + "[" + e.i32(col) +
                   " : i32] : vector<2xf32>");
    });
    v = e.let("llvm.insertelement " + x + ", " + v + "[" + e.i32(col) +
              " : i32] : vector<2xf32>");
  }
  e.line("llvm.store " + v + ", " + p +
         " {alignment = 8 : i64} : vector<2xf32>, !llvm.ptr<1>");
}

OnlineSoftmaxStep mlir::ring::gpu::emitOnlineSoftmaxStep(
    MlirEmitter &e, MmaFragments &frag,
    std::vector<std::array<std::string, 4>> &S,
    const std::vector<std::string> &state, size_t mOffset) {
  OnlineSoftmaxStep st;
  for (int r = 0; r < 2; ++r) {
    std::string mx = e.negInf();
    for (auto &tile : S)
      mx = e.fmax(e.fmax(mx, tile[2 * r]), tile[2 * r + 1]);
    mx = e.fmax(mx, frag.shflXor(mx, 1));
    mx = e.fmax(mx, frag.shflXor(mx, 2));
    const std::string &mOld = state[mOffset + r];
    st.mNew[r] = e.fmax(mOld, mx);
    // A row with nothing visible yet keeps m = -inf; subtract 0 instead so
    // that exp2 sees -inf - 0 = -inf, never -inf - -inf = NaN.
    std::string mUse = e.select(e.fcmp("oeq", st.mNew[r], e.negInf()),
                                e.f32(0.0), st.mNew[r], "f32");
    st.alpha[r] = e.exp2(e.fsub(mOld, mUse));
    std::string sum = e.f32(0.0);
    for (auto &tile : S)
      for (int col = 0; col < 2; ++col) {
        std::string &s = tile[2 * r + col];
        s = e.exp2(e.fsub(s, mUse));
        sum = e.fadd(sum, s);
      }
    st.lNew[r] = e.fadd(e.fmul(state[mOffset + 2 + r], st.alpha[r]), sum);
  }
  return st;
}
