//===- GradRowKernels.cpp - elementwise kernels of the backward -*- C++ -*-===//
//
// This file implements the generators of the small SIMT kernels of the
// backward pass on GPU: ring.zero, ring.accumulate, ring.convert,
// ring.sum_replicas (one thread per element, i64 indices) and ring.grad_delta (D = rowsum(dO ∘ O)
// in fp32, one thread per row).
//
//===----------------------------------------------------------------------===//

#include "codegen/gpu/Kernels.h"
#include "codegen/gpu/MlirEmitter.h"

using namespace mlir;
using namespace mlir::ring::gpu;

namespace {

std::string global(MlirEmitter &e, const std::string &p) {
  return e.let("llvm.addrspacecast " + p + " : !llvm.ptr to !llvm.ptr<1>");
}

/// The byte size of an element of `dtype` ("f32", "bf16" or "f16").
int64_t elementBytes(StringRef dtype) { return dtype == "f32" ? 4 : 2; }

/// Element `idx` (i64) of `base` as f32.
std::string loadAsF32(MlirEmitter &e, const std::string &base,
                      const std::string &idx, StringRef dtype) {
  std::string p = e.gep(base, e.mul(idx, e.i64(elementBytes(dtype)), "i64"),
                        1, "i64");
  std::string x = e.let("llvm.load " + p + " : !llvm.ptr<1> -> " + dtype.str());
  if (dtype == "f32")
    return x;
  return e.let("arith.extf " + x + " : " + dtype.str() + " to f32");
}

/// Stores the f32 `x` as element `idx` of `base`, rounded to nearest even.
void storeAs(MlirEmitter &e, const std::string &base, const std::string &idx,
             const std::string &x, StringRef dtype) {
  std::string v = x;
  if (dtype != "f32")
    v = e.let("arith.truncf " + x + " : f32 to " + dtype.str());
  std::string p = e.gep(base, e.mul(idx, e.i64(elementBytes(dtype)), "i64"),
                        1, "i64");
  e.line("llvm.store " + v + ", " + p + " : " + dtype.str() +
         ", !llvm.ptr<1>");
}

/// Opens the guard of a one-thread-per-item kernel over `%n` (i64) items;
/// returns the item index (i64).
std::string itemPrologue(MlirEmitter &e) {
  e.line("%tidx = gpu.thread_id x");
  e.line("%bidx = gpu.block_id x");
  std::string tid = e.let("arith.index_cast %tidx : index to i64");
  std::string bid = e.let("arith.index_cast %bidx : index to i64");
  std::string i =
      e.add(e.mul(bid, e.i64(kRowKernelThreads), "i64"), tid, "i64");
  e.open("scf.if " + e.cmp("slt", i, "%n", "i64") + " {");
  return i;
}

std::string wrap(const std::string &name, const std::string &params,
                 MlirEmitter &e) {
  e.close();
  e.line("gpu.return");
  return "  gpu.func @" + name + "(" + params +
         ") kernel attributes {known_block_size = array<i32: " +
         std::to_string(kRowKernelThreads) + ", 1, 1>} {\n" + e.str() +
         "  }\n";
}

} // namespace

std::string mlir::ring::gpu::writeZeroKernel() {
  MlirEmitter e;
  std::string p = global(e, "%p");
  std::string i = itemPrologue(e);
  storeAs(e, p, i, e.f32(0.0), "f32");
  return wrap("ringc_zero", "%p: !llvm.ptr, %n: i64", e);
}

std::string mlir::ring::gpu::writeAccumulateKernel(StringRef srcType) {
  MlirEmitter e;
  std::string src = global(e, "%src"), acc = global(e, "%acc");
  std::string i = itemPrologue(e);
  std::string x = e.fadd(loadAsF32(e, acc, i, "f32"),
                         loadAsF32(e, src, i, srcType));
  storeAs(e, acc, i, x, "f32");
  return wrap(accumulateKernelName(srcType),
              "%src: !llvm.ptr, %acc: !llvm.ptr, %n: i64", e);
}

std::string mlir::ring::gpu::writeConvertKernel(StringRef srcType,
                                                StringRef dstType) {
  MlirEmitter e;
  std::string src = global(e, "%src"), dst = global(e, "%dst");
  std::string i = itemPrologue(e);
  storeAs(e, dst, i, loadAsF32(e, src, i, srcType), dstType);
  return wrap(convertKernelName(srcType, dstType),
              "%src: !llvm.ptr, %dst: !llvm.ptr, %n: i64", e);
}

std::string mlir::ring::gpu::writeGradDeltaKernel(StringRef dtype) {
  MlirEmitter e;
  std::string o = global(e, "%o"), dout = global(e, "%do");
  std::string delta = global(e, "%delta");
  std::string row = itemPrologue(e);
  std::string base = e.mul(row, "%dim", "i64");
  std::string d = e.newName(), acc = e.newName(), sum = e.newName();
  e.open(sum + " = scf.for " + d + " = " + e.i64(0) + " to %dim step " +
         e.i64(1) + " iter_args(" + acc + " = " + e.f32(0.0) +
         ") -> (f32) : i64 {");
  std::string at = e.add(base, d, "i64");
  e.line("scf.yield " +
         e.fadd(acc, e.fmul(loadAsF32(e, o, at, dtype),
                            loadAsF32(e, dout, at, dtype))) +
         " : f32");
  e.close();
  storeAs(e, delta, row, sum, "f32");
  return wrap(gradDeltaKernelName(dtype),
              "%o: !llvm.ptr, %do: !llvm.ptr, %delta: !llvm.ptr, %n: i64, "
              "%dim: i64",
              e);
}

std::string mlir::ring::gpu::writeSumReplicasKernel(StringRef dtype) {
  MlirEmitter e;
  std::string src = global(e, "%src"), dst = global(e, "%dst");
  std::string i = itemPrologue(e);
  // Element j of destination head o sums element j of source heads
  // o·r .. o·r + r − 1 (`inner` elements per head); only j < %limit (the
  // rows of the a2a share, times D) is written, the rest left untouched.
  std::string o = e.let("arith.divui " + i + ", %inner : i64");
  std::string j = e.let("arith.remui " + i + ", %inner : i64");
  e.open("scf.if " + e.cmp("ult", j, "%limit", "i64") + " {");
  std::string first = e.mul(e.mul(o, "%r", "i64"), "%inner", "i64");
  std::string k = e.newName(), acc = e.newName(), sum = e.newName();
  e.open(sum + " = scf.for " + k + " = " + e.i64(0) + " to %r step " +
         e.i64(1) + " iter_args(" + acc + " = " + e.f32(0.0) +
         ") -> (f32) : i64 {");
  std::string at =
      e.add(e.add(first, e.mul(k, "%inner", "i64"), "i64"), j, "i64");
  e.line("scf.yield " + e.fadd(acc, loadAsF32(e, src, at, dtype)) + " : f32");
  e.close();
  storeAs(e, dst, i, sum, dtype);
  e.close();
  return wrap(sumReplicasKernelName(dtype),
              "%src: !llvm.ptr, %dst: !llvm.ptr, %n: i64, %inner: i64, "
              "%r: i64, %limit: i64",
              e);
}

std::string mlir::ring::gpu::sumReplicasKernelName(StringRef dtype) {
  return ("ringc_sum_replicas_" + dtype).str();
}

std::string mlir::ring::gpu::accumulateKernelName(StringRef srcType) {
  return ("ringc_accumulate_" + srcType).str();
}

std::string mlir::ring::gpu::convertKernelName(StringRef srcType,
                                               StringRef dstType) {
  return ("ringc_convert_" + srcType + "_" + dstType).str();
}

std::string mlir::ring::gpu::gradDeltaKernelName(StringRef dtype) {
  return ("ringc_grad_delta_" + dtype).str();
}
