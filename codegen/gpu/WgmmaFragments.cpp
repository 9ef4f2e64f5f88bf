//===- WgmmaFragments.cpp - warpgroup MMA building blocks -------*- C++ -*-===//
//
// This file implements the wgmma pieces shared by the sm_90a kernels
// (WgmmaFragments.h).
//
//===----------------------------------------------------------------------===//

#include "codegen/gpu/WgmmaFragments.h"

#include <utility>

using namespace mlir::ring::gpu;

std::string WgmmaFragments::descriptor(const std::string &off, int64_t lbo,
                                       int64_t sbo) {
  // Start address >> 4 in bits 0-13, LBO >> 4 in 16-29, SBO >> 4 in 32-45,
  // swizzle mode 1 (128B) in bits 62-63, base offset 0 (tiles are 1024-byte
  // aligned).
  std::string addr = e.add(smemAddr, off);
  std::string lo = e.let("arith.shrui " + addr + ", " + e.i32(4) + " : i32");
  lo = e.let("arith.andi " + lo + ", " + e.i32(0x3FFF) + " : i32");
  std::string lo64 = e.ext64(lo);
  int64_t hi = ((lbo >> 4) & 0x3FFF) << 16 | ((sbo >> 4) & 0x3FFF) << 32 |
               (int64_t(1) << 62);
  return e.let("arith.ori " + lo64 + ", " + e.i64(hi) + " : i64");
}

std::string WgmmaFragments::descAdd(const std::string &d,
                                    const std::string &bytes64) {
  return e.add(d, e.let("arith.shrui " + bytes64 + ", " + e.i64(4) + " : i64"),
               "i64");
}

std::vector<std::string>
WgmmaFragments::mnMajorSteps(const std::string &off, int64_t kRows,
                             int64_t panelRows) {
  std::string d = descriptor(off, panelRows * 128, 1024);
  std::vector<std::string> out;
  for (int64_t kk = 0; kk < kRows / 16; ++kk)
    out.push_back(descAdd(d, e.i64(kk * 16 * 128)));
  return out;
}

std::string WgmmaFragments::structTy(int64_t n) {
  std::string s = "!llvm.struct<(";
  for (int64_t i = 0; i < n; ++i)
    s += i ? ", f32" : "f32";
  return s + ")>";
}

std::string WgmmaFragments::regList(size_t n) {
  std::string s = "{";
  for (size_t i = 0; i < n; ++i)
    s += (i ? ", $" : "$") + std::to_string(i);
  return s + "}";
}

std::vector<std::string>
WgmmaFragments::f32Asm(const std::string &ptx, size_t n,
                       const std::vector<std::string> &tied,
                       const std::vector<std::string> &regs,
                       const std::vector<std::string> &descs) {
  std::string cons, args, tys;
  for (size_t i = 0; i < n; ++i)
    cons += (i ? ",=f" : "=f");
  for (size_t i = 0; i < tied.size(); ++i)
    cons += "," + std::to_string(i);
  for (size_t i = 0; i < regs.size(); ++i)
    cons += ",r";
  for (size_t i = 0; i < descs.size(); ++i)
    cons += ",l";
  auto addArg = [&](const std::string &v, const char *ty) {
    args += (args.empty() ? "" : ", ") + v;
    tys += (tys.empty() ? "" : ", ") + std::string(ty);
  };
  for (auto &v : tied)
    addArg(v, "f32");
  for (auto &v : regs)
    addArg(v, "i32");
  for (auto &v : descs)
    addArg(v, "i64");
  std::string sTy = structTy(n);
  std::string r = e.let("llvm.inline_asm has_side_effects asm_dialect = att "
                        "\"" + ptx + "\", \"" + cons + "\" " + args +
                        " : (" + tys + ") -> " + sTy);
  std::vector<std::string> out(n);
  for (size_t i = 0; i < n; ++i)
    out[i] = e.let("llvm.extractvalue " + r + "[" + std::to_string(i) +
                   "] : " + sTy);
  return out;
}

std::string WgmmaFragments::ssChain(
    int64_t N, size_t k, const std::string &decls,
    const std::function<std::pair<std::string, std::string>(size_t)> &step,
    bool accumulate, bool bMnMajor) {
  size_t n = N / 2;
  std::string ptx =
      accumulate ? "{\\0A.reg .pred %acc;\\0A" + decls +
                       "setp.ne.b32 %acc, 1, 0;\\0A"
                       "wgmma.fence.sync.aligned;\\0A"
                 : "{\\0A.reg .pred %first, %acc;\\0A" + decls +
                       "setp.ne.b32 %first, 0, 0;\\0A"
                       "setp.ne.b32 %acc, 1, 0;\\0A"
                       "wgmma.fence.sync.aligned;\\0A";
  for (size_t kk = 0; kk < k; ++kk) {
    auto [before, operands] = step(kk);
    ptx += before + "wgmma.mma_async.sync.aligned.m64n" + std::to_string(N) +
           "k16.f32." + halfTy + "." + halfTy + " " + regList(n) + ", " +
           operands + (kk || accumulate ? ", %acc" : ", %first") +
           (bMnMajor ? ", 1, 1, 0, 1;\\0A" : ", 1, 1, 0, 0;\\0A");
  }
  ptx += "wgmma.commit_group.sync.aligned;\\0A"
         "wgmma.wait_group.sync.aligned 0;\\0A}";
  return ptx;
}

std::vector<std::string>
WgmmaFragments::ssGemm(int64_t N, const std::vector<std::string> &ad,
                       const std::vector<std::string> &bd) {
  size_t n = N / 2, k = ad.size();
  std::string ptx = ssChain(N, k, "", [&](size_t kk) {
    return std::make_pair(std::string(), "$" + std::to_string(n + kk) + ", $" +
                                             std::to_string(n + k + kk));
  });
  std::vector<std::string> descs = ad;
  descs.insert(descs.end(), bd.begin(), bd.end());
  return f32Asm(ptx, n, {}, {}, descs);
}

std::vector<std::string>
WgmmaFragments::ssGemmSteps(int64_t N, const std::string &a,
                            const std::vector<int64_t> &aSteps,
                            const std::string &b,
                            const std::vector<int64_t> &bSteps) {
  return ssSteps(N, {}, a, aSteps, b, bSteps, /*bMnMajor=*/false);
}

std::vector<std::string> WgmmaFragments::ssGemmStepsAcc(
    const std::vector<std::string> &acc, const std::string &a,
    const std::vector<int64_t> &aSteps, const std::string &b,
    const std::vector<int64_t> &bSteps, bool bMnMajor) {
  return ssSteps(2 * acc.size(), acc, a, aSteps, b, bSteps, bMnMajor);
}

std::vector<std::string>
WgmmaFragments::ssSteps(int64_t N, const std::vector<std::string> &tied,
                        const std::string &a,
                        const std::vector<int64_t> &aSteps,
                        const std::string &b,
                        const std::vector<int64_t> &bSteps, bool bMnMajor) {
  size_t n = N / 2;
  // Operands: the n results, the tied accumulators (if any), then A and B.
  size_t first = n + tied.size();
  std::string A = "$" + std::to_string(first),
              B = "$" + std::to_string(first + 1);
  std::string ptx = ssChain(
      N, aSteps.size(), ".reg .b64 %da, %db;\\0A",
      [&](size_t kk) {
        // Descriptor units are 16 bytes (the start address field).
        return std::make_pair("add.s64 %da, " + A + ", " +
                                  std::to_string(aSteps[kk] >> 4) +
                                  ";\\0Aadd.s64 %db, " + B + ", " +
                                  std::to_string(bSteps[kk] >> 4) + ";\\0A",
                              std::string("%da, %db"));
      },
      /*accumulate=*/!tied.empty(), bMnMajor);
  return f32Asm(ptx, n, tied, {}, {a, b});
}

std::string WgmmaFragments::alignedSharedBase(MlirEmitter &e,
                                              const std::string &raw,
                                              std::string &smem) {
  std::string rawAddr =
      e.let("llvm.ptrtoint " + raw + " : !llvm.ptr<3> to i32");
  std::string pad = e.let("arith.andi " + e.sub(e.i32(0), rawAddr) + ", " +
                          e.i32(1023) + " : i32");
  smem = e.gep(raw, pad, 3);
  return e.add(rawAddr, pad);
}

std::vector<int64_t> WgmmaFragments::kMajorStepBytes(int64_t kDim,
                                                     int64_t panelRows) {
  std::vector<int64_t> out;
  for (int64_t kk = 0; kk < kDim / 16; ++kk)
    out.push_back((kk / 4) * panelRows * 128 + (kk % 4) * 32);
  return out;
}

std::vector<std::string>
WgmmaFragments::rsGemm(const std::vector<std::string> &acc,
                       const std::vector<std::string> &a,
                       const std::vector<std::string> &descs) {
  size_t n = acc.size();
  std::string dl = regList(n);
  std::string ptx = "{\\0A.reg .pred %acc;\\0Asetp.ne.b32 %acc, 1, 0;\\0A"
                    "wgmma.fence.sync.aligned;\\0A";
  for (size_t kk = 0; kk < descs.size(); ++kk) {
    size_t a0 = 2 * n + 4 * kk, d0 = 2 * n + a.size() + kk;
    ptx += "wgmma.mma_async.sync.aligned.m64n" + std::to_string(2 * n) +
           "k16.f32." + halfTy + "." + halfTy + " " + dl + ", {$" +
           std::to_string(a0) + ", $" + std::to_string(a0 + 1) + ", $" +
           std::to_string(a0 + 2) + ", $" + std::to_string(a0 + 3) + "}, $" +
           std::to_string(d0) + ", %acc, 1, 1, 1;\\0A";
  }
  ptx += "wgmma.commit_group.sync.aligned;\\0A"
         "wgmma.wait_group.sync.aligned 0;\\0A}";
  return f32Asm(ptx, n, acc, a, descs);
}

std::vector<std::string>
WgmmaFragments::packA(MmaFragments &frag,
                      const std::vector<std::array<std::string, 4>> &X) {
  // a0: row g, k 2t..2t+1; a1: row g+8; a2/a3: k + 8.
  std::vector<std::string> a;
  for (size_t kk = 0; kk < X.size() / 2; ++kk) {
    a.push_back(frag.pack(X[2 * kk][0], X[2 * kk][1]));
    a.push_back(frag.pack(X[2 * kk][2], X[2 * kk][3]));
    a.push_back(frag.pack(X[2 * kk + 1][0], X[2 * kk + 1][1]));
    a.push_back(frag.pack(X[2 * kk + 1][2], X[2 * kk + 1][3]));
  }
  return a;
}
