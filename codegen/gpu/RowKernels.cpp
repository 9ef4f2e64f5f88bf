//===- RowKernels.cpp - fp32 fill, merge and finalize kernels ---*- C++ -*-===//
//
// This file implements the generators of the small SIMT kernels of the ring
// schedule on GPU: ring.fill_partial, ring.merge (the fp32 online-softmax
// merge of a partial result into the accumulator) and ring.finalize (the
// only rounding of the result). One thread per row of D floats; the fp32
// accumulator never round-trips through bf16 between stages.
//
//===----------------------------------------------------------------------===//

#include "codegen/gpu/Kernels.h"
#include "codegen/gpu/MlirEmitter.h"

#include <cmath>

using namespace mlir;
using namespace mlir::ring::gpu;

namespace {
/// Opens a row kernel: `%row` is the global thread index, and the body runs
/// only for `%row < bound`.
std::string rowPrologue(MlirEmitter &e, const std::string &bound) {
  e.line("%tidx = gpu.thread_id x");
  e.line("%bidx = gpu.block_id x");
  e.line("%tid = arith.index_cast %tidx : index to i32");
  e.line("%bid = arith.index_cast %bidx : index to i32");
  std::string row =
      e.add(e.mul("%bid", e.i32(kRowKernelThreads)), "%tid");
  e.open("scf.if " + e.cmp("slt", row, bound) + " {");
  return row;
}

std::string global(MlirEmitter &e, const std::string &p) {
  return e.let("llvm.addrspacecast " + p + " : !llvm.ptr to !llvm.ptr<1>");
}

std::string loadF32(MlirEmitter &e, const std::string &base,
                    const std::string &elem) {
  std::string p = e.gep(base, e.mul(elem, e.i64(4), "i64"), 1, "i64");
  return e.let("llvm.load " + p + " : !llvm.ptr<1> -> f32");
}

void storeF32(MlirEmitter &e, const std::string &base, const std::string &elem,
              const std::string &v) {
  std::string p = e.gep(base, e.mul(elem, e.i64(4), "i64"), 1, "i64");
  e.line("llvm.store " + v + ", " + p + " : f32, !llvm.ptr<1>");
}

/// `scf.for %d = 0 to %dim` over the columns of one row; returns %d (i32).
std::string openColumnLoop(MlirEmitter &e) {
  std::string d = e.newName();
  e.open("scf.for " + d + " = " + e.i32(0) + " to %dim step " + e.i32(1) +
         " : i32 {");
  return d;
}

std::string wrap(const std::string &name, const std::string &params,
                 const MlirEmitter &e) {
  return "  gpu.func @" + name + "(" + params +
         ") kernel attributes {known_block_size = array<i32: " +
         std::to_string(kRowKernelThreads) + ", 1, 1>} {\n" + e.str() +
         "  }\n";
}
} // namespace

std::string mlir::ring::gpu::writeFillKernel() {
  MlirEmitter e;
  std::string o = global(e, "%o"), l = global(e, "%lse");
  std::string row = rowPrologue(e, "%rows");
  std::string r64 = e.ext64(row);
  storeF32(e, l, r64, e.negInf());
  std::string base = e.mul(r64, e.ext64("%dim"), "i64");
  std::string d = openColumnLoop(e);
  storeF32(e, o, e.add(base, e.ext64(d), "i64"), e.f32(0.0));
  e.close();
  e.close();
  e.line("gpu.return");
  return wrap("ringc_fill", "%o: !llvm.ptr, %lse: !llvm.ptr, %rows: i32, %dim: i32", e);
}

std::string mlir::ring::gpu::writeMergeKernel() {
  MlirEmitter e;
  std::string po = global(e, "%po"), pl = global(e, "%pl");
  std::string ao = global(e, "%ao"), al = global(e, "%al");
  std::string total = e.mul("%bh", "%qn");
  std::string row = rowPrologue(e, total);
  // row = bh * qn + i: partial row i, accumulator row q0 + i.
  std::string bh = e.divu(row, "%qn");
  std::string i = e.remu(row, "%qn");
  std::string pRow = e.add(e.mul(e.ext64(bh), e.ext64("%p_len"), "i64"),
                           e.ext64(i), "i64");
  std::string aRow = e.add(e.mul(e.ext64(bh), e.ext64("%a_len"), "i64"),
                           e.ext64(e.add("%q0", i)), "i64");
  std::string lp = loadF32(e, pl, pRow);
  std::string la = loadF32(e, al, aRow);
  MergeWeights w = openMergeRow(e, la, lp);
  const std::string &wa = w.wa, &wp = w.wb;
  storeF32(e, al, aRow, w.lse);
  std::string pBase = e.mul(pRow, e.ext64("%dim"), "i64");
  std::string aBase = e.mul(aRow, e.ext64("%dim"), "i64");
  std::string d = openColumnLoop(e);
  std::string pe = e.add(pBase, e.ext64(d), "i64");
  std::string ae = e.add(aBase, e.ext64(d), "i64");
  std::string v = e.fadd(e.fmul(loadF32(e, ao, ae), wa),
                         e.fmul(loadF32(e, po, pe), wp));
  storeF32(e, ao, ae, v);
  e.close();
  e.close();
  e.close();
  e.line("gpu.return");
  return wrap("ringc_merge",
              "%po: !llvm.ptr, %pl: !llvm.ptr, %ao: !llvm.ptr, %al: "
              "!llvm.ptr, %bh: i32, %p_len: i32, %a_len: i32, %q0: i32, "
              "%qn: i32, %dim: i32",
              e);
}

MergeWeights mlir::ring::gpu::openMergeRow(MlirEmitter &e,
                                           const std::string &la,
                                           const std::string &lb) {
  std::string m = e.fmax(la, lb);
  // Both -inf: nothing to merge, the row stays as it is (O = 0, LSE = -inf).
  e.open("scf.if " + e.fcmp("one", m, e.negInf()) + " {");
  const double log2e = 1.4426950408889634;
  std::string ea = e.exp2(e.fmul(e.fsub(la, m), e.f32(log2e)));
  std::string eb = e.exp2(e.fmul(e.fsub(lb, m), e.f32(log2e)));
  MergeWeights w;
  w.lse = e.fadd(m, e.fmul(e.log2(e.fadd(ea, eb)), e.f32(M_LN2)));
  w.wa = e.exp2(e.fmul(e.fsub(la, w.lse), e.f32(log2e)));
  w.wb = e.exp2(e.fmul(e.fsub(lb, w.lse), e.f32(log2e)));
  return w;
}

std::string mlir::ring::gpu::writeFinalizeKernel(StringRef dtype) {
  MlirEmitter e;
  std::string ao = global(e, "%ao"), al = global(e, "%al");
  std::string o = global(e, "%o"), l = global(e, "%lse");
  std::string row = rowPrologue(e, "%rows");
  std::string r64 = e.ext64(row);
  storeF32(e, l, r64, loadF32(e, al, r64));
  std::string base = e.mul(r64, e.ext64("%dim"), "i64");
  std::string d = openColumnLoop(e);
  std::string el = e.add(base, e.ext64(d), "i64");
  std::string x = loadF32(e, ao, el);
  if (dtype == "f32") {
    storeF32(e, o, el, x);
  } else {
    std::string h = e.let("arith.truncf " + x + " : f32 to " + dtype.str());
    std::string p = e.gep(o, e.mul(el, e.i64(2), "i64"), 1, "i64");
    e.line("llvm.store " + h + ", " + p + " : " + dtype.str() +
           ", !llvm.ptr<1>");
  }
  e.close();
  e.close();
  e.line("gpu.return");
  return wrap("ringc_finalize_" + dtype.str(),
              "%ao: !llvm.ptr, %al: !llvm.ptr, %o: !llvm.ptr, %lse: "
              "!llvm.ptr, %rows: i32, %dim: i32",
              e);
}
