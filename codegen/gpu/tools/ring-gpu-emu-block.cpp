//===- ring-gpu-emu-block.cpp - run one block kernel on the emulator -*- C++ -*-===//
//
// This file implements `ring-gpu-emu-block`, the L4 check of one generated
// block-attention kernel: it parses the PTX that ring-gpu-kernel wrote,
// runs the kernel under the ringrt PTX emulator (memory checked) on random
// bf16/f16 inputs for one ring.block_attention (row ranges, owners, layout,
// mask, GQA), and compares partial O and LSE with a float64 reference that
// follows the op's definition. Prints `PASS max_rel_err=...` and the emulator
// profile, or `FAIL ...` (exit 1). It also checks that rows outside q_rows
// of the partial buffers are left alone. With --epilogue=acc the kernel is
// the fused-merge form (ring.block_attention_accumulate): the output buffers
// are accumulators of q_len rows holding a random running (O, LSE) (some
// rows empty: O = 0, LSE = −inf), and the reference merges the block into
// them; --epilogue=acc_first writes the block into the accumulator rows
// without reading them. With --wgmma=1 the kernel is the sm_90a one
// (Kernels.h: writeWgmmaAttentionKernel): its Q, K and V come as tensor maps
// (encoded with the emulator's cuTensorMapEncodeTiled), and it runs 384
// threads over 128-row query tiles. --docs=a,b,... packs documents of
// those lengths over the global positions (cu_seqlens, the kernel's last
// parameter; generate it with --max-docs = their count): the reference
// masks pairs of different documents.
//
//===----------------------------------------------------------------------===//

#include "ringrt/DType.h"
#include "ringrt/emu/Emu.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace ringrt;

namespace {
std::map<std::string, std::string> args;
long geti(const char *k, long d) {
  auto it = args.find(k);
  return it == args.end() ? d : std::atol(it->second.c_str());
}
std::string gets(const char *k, const char *d) {
  auto it = args.find(k);
  return it == args.end() ? d : it->second;
}

long pos(const std::string &layout, long i, long owner, long len, long P) {
  if (layout == "zigzag") {
    long c = len / 2;
    return i < c ? owner * c + i : (2 * P - 1 - owner) * c + (i - c);
  }
  if (layout == "striped")
    return i * P + owner;
  return owner * len + i;
}
} // namespace

int main(int argc, char **argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    size_t eq = a.find('=');
    if (a.rfind("--", 0) != 0 || eq == std::string::npos) {
      std::fprintf(stderr, "usage: ring-gpu-emu-block --ptx=F --kernel=K "
                           "--d=64 [--b --h --hkv --lq --lkv --q0 --qn --k0 "
                           "--kn --qown --kvown --ring --causal --layout "
                           "--dtype --warps --block-n --seed --epilogue "
                           "--wgmma --docs]\n");
      return 2;
    }
    args[a.substr(2, eq - 2)] = a.substr(eq + 1);
  }
  std::ifstream in(gets("ptx", ""));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string err;
  auto mod = emu::Module::parse(ss.str(), err);
  if (!mod) {
    std::printf("FAIL parse: %s\n", err.c_str());
    return 1;
  }
  const long D = geti("d", 64), B = geti("b", 1), H = geti("h", 2),
             HKV = geti("hkv", 1), LQ = geti("lq", 64), LKV = geti("lkv", 64),
             q0 = geti("q0", 0), qn = geti("qn", LQ), k0 = geti("k0", 0),
             kn = geti("kn", LKV), qown = geti("qown", 0),
             kvown = geti("kvown", 0), P = geti("ring", 1),
             warps = geti("warps", 4);
  const std::string epilogue = gets("epilogue", "partial");
  if (epilogue != "partial" && epilogue != "acc" && epilogue != "acc_first") {
    std::printf("FAIL bad --epilogue '%s' (partial, acc, acc_first)\n",
                epilogue.c_str());
    return 1;
  }
  // Accumulators have the query buffer's rows; accumulator row = query row.
  const bool toAcc = epilogue != "partial", merge = epilogue == "acc";
  const long PL = toAcc ? LQ : geti("plen", qn + 3);
  const bool causal = geti("causal", 0) != 0;
  const std::string layout = gets("layout", "none");
  const bool f16 = gets("dtype", "bf16") == "f16";
  const double scale = 1.0 / std::sqrt(double(D));
  std::string kernel = gets("kernel", "");

  std::mt19937_64 rng(geti("seed", 1));
  std::uniform_real_distribution<float> U(-1.f, 1.f);
  emu::Memory mem;
  auto make = [&](long n, std::vector<double> &host) {
    auto *p = static_cast<uint16_t *>(mem.alloc(n * 2));
    host.resize(n);
    for (long i = 0; i < n; ++i) {
      float x = U(rng);
      p[i] = f16 ? floatToF16(x) : floatToBF16(x);
      host[i] = f16 ? f16ToFloat(p[i]) : bf16ToFloat(p[i]);
    }
    mem.markInitialized(p, n * 2); // the host wrote it
    return p;
  };
  std::vector<double> hq, hk, hv;
  uint16_t *q = make(B * H * LQ * D, hq);
  uint16_t *k = make(B * HKV * LKV * D, hk);
  uint16_t *v = make(B * HKV * LKV * D, hv);
  const float sentinel = 12345.f;
  auto *po = static_cast<float *>(mem.alloc(B * H * PL * D * 4));
  auto *pl = static_cast<float *>(mem.alloc(B * H * PL * 4));
  for (long i = 0; i < B * H * PL * D; ++i)
    po[i] = sentinel;
  for (long i = 0; i < B * H * PL; ++i)
    pl[i] = sentinel;
  // The running state the fused merge reads (rows of q_rows): random, with
  // every fifth row empty (O = 0, LSE = −inf).
  std::uniform_real_distribution<float> lseDist(-2.f, 4.f);
  std::vector<double> runO(B * H * PL * D), runL(B * H * PL);
  if (merge)
    for (long bh = 0; bh < B * H; ++bh)
      for (long r = q0; r < q0 + qn; ++r) {
        bool empty = r % 5 == 0;
        pl[bh * PL + r] = empty ? -INFINITY : lseDist(rng);
        for (long d = 0; d < D; ++d)
          po[(bh * PL + r) * D + d] = empty ? 0.f : U(rng);
      }
  for (long i = 0; i < B * H * PL * D; ++i)
    runO[i] = po[i];
  for (long i = 0; i < B * H * PL; ++i)
    runL[i] = pl[i];
  mem.markInitialized(po, B * H * PL * D * 4);
  mem.markInitialized(pl, B * H * PL * 4);

  int32_t iargs[12] = {int32_t(H),  int32_t(HKV), int32_t(LQ),
                       int32_t(LKV), int32_t(PL), int32_t(q0),
                       int32_t(qn),  int32_t(k0), int32_t(kn),
                       int32_t(qown), int32_t(kvown), int32_t(P)};
  float scaleLog2 = float(scale * 1.4426950408889634);
  // Packed documents: cu_seqlens (int32, device memory) from the lengths.
  std::vector<long> cuHost{0};
  for (std::stringstream ds(gets("docs", "")); ds.good();) {
    std::string len;
    std::getline(ds, len, ',');
    if (!len.empty())
      cuHost.push_back(cuHost.back() + std::atol(len.c_str()));
  }
  const bool docs = cuHost.size() > 1;
  auto *cu = static_cast<int32_t *>(mem.alloc(cuHost.size() * 4));
  for (size_t i = 0; i < cuHost.size(); ++i)
    cu[i] = int32_t(cuHost[i]);
  mem.markInitialized(cu, cuHost.size() * 4);
  auto docOf = [&](long p) {
    size_t d = 0;
    while (d + 2 < cuHost.size() && cuHost[d + 1] <= p)
      ++d;
    return d;
  };
  void *cuPtr = cu;
  void *ptrs[5] = {q, k, v, po, pl};
  void *params[19];
  for (int i = 0; i < 5; ++i)
    params[i] = &ptrs[i];
  for (int i = 0; i < 12; ++i)
    params[5 + i] = &iargs[i];
  params[17] = &scaleLog2;
  params[18] = &cuPtr;
  long bm = 16 * warps;
  emu::Dim3 block{unsigned(32 * warps), 1, 1};
  // The wgmma kernel: tensor maps of [planes, rows, D] with boxes {64, 128}
  // (Q) and {64, block-n} (K, V), 128-byte swizzle, zero fill (as
  // ringrt_cg_tensor_map_3d encodes them), by value in the first three
  // parameters.
  alignas(64) unsigned char maps[3][emu::kTensorMapBytes];
  if (geti("wgmma", 0)) {
    const long rowsOf[3] = {LQ, LKV, LKV}, planesOf[3] = {B * H, B * HKV,
                                                          B * HKV};
    const uint32_t boxRows[3] = {128, uint32_t(geti("block-n", 128)),
                                 uint32_t(geti("block-n", 128))};
    void *bases[3] = {q, k, v};
    for (int t = 0; t < 3; ++t) {
      uint64_t dims[3] = {uint64_t(D), uint64_t(rowsOf[t]),
                          uint64_t(planesOf[t])};
      uint64_t strides[2] = {uint64_t(D) * 2, uint64_t(D * rowsOf[t]) * 2};
      uint32_t box[3] = {64, boxRows[t], 1}, unit[3] = {1, 1, 1};
      if (!emu::encodeTensorMapTiled(maps[t], f16 ? 6 : 9, 3, bases[t], dims,
                                     strides, box, unit, 0, 3, 2, 0, err)) {
        std::printf("FAIL tensor map: %s\n", err.c_str());
        return 1;
      }
    }
    for (int t = 0; t < 3; ++t)
      params[t] = maps[t];
    params[3] = &ptrs[3];
    params[4] = &ptrs[4];
    bm = 128;
    block = {384, 1, 1};
  }
  emu::Dim3 grid{unsigned((qn + bm - 1) / bm), unsigned(H), unsigned(B)};
  unsigned smem = unsigned(geti("smem", 0));
  emu::Profile prof;
  if (!emu::launch(*mod, kernel, grid, block, smem, params, mem, err, &prof)) {
    std::printf("FAIL launch: %s\n", err.c_str());
    return 1;
  }

  // float64 reference of ring.block_attention.
  double num = 0, den = 0, lseErr = 0;
  long untouched = 0;
  for (long b = 0; b < B; ++b)
    for (long h = 0; h < H; ++h) {
      long hk_ = h / (H / HKV);
      for (long r = 0; r < PL; ++r) {
        float *orow = po + ((b * H + h) * PL + r) * D;
        float lse = pl[(b * H + h) * PL + r];
        bool inRows = toAcc ? r >= q0 && r < q0 + qn : r < qn;
        if (!inRows) {
          bool same = lse == sentinel;
          for (long d = 0; d < D; ++d)
            same &= orow[d] == sentinel;
          untouched += !same;
          continue;
        }
        long i = toAcc ? r : q0 + r;
        std::vector<double> s(kn);
        double m = -INFINITY;
        for (long jj = 0; jj < kn; ++jj) {
          long j = k0 + jj;
          long kp = pos(layout, j, kvown, LKV, P),
               qp = pos(layout, i, qown, LQ, P);
          bool vis = (!causal || kp <= qp) && (!docs || docOf(kp) == docOf(qp));
          double acc = 0;
          for (long d = 0; d < D; ++d)
            acc += hq[((b * H + h) * LQ + i) * D + d] *
                   hk[((b * HKV + hk_) * LKV + j) * D + d];
          s[jj] = vis ? acc * scale : -INFINITY;
          m = std::max(m, s[jj]);
        }
        double sum = 0;
        std::vector<double> o(D, 0.0);
        if (m != -INFINITY)
          for (long jj = 0; jj < kn; ++jj) {
            double p = std::exp(s[jj] - m);
            sum += p;
            for (long d = 0; d < D; ++d)
              o[d] += p * hv[((b * HKV + hk_) * LKV + k0 + jj) * D + d];
          }
        double refLse = sum > 0 ? m + std::log(sum) : -INFINITY;
        // The block's normalised output, then (acc) merged into the running
        // state with the rule of ring.merge.
        for (long d = 0; d < D; ++d)
          o[d] = sum > 0 ? o[d] / sum : 0.0;
        if (merge) {
          double la = runL[(b * H + h) * PL + r];
          const double *ra = &runO[((b * H + h) * PL + r) * D];
          double l = std::max(la, refLse);
          if (l == -INFINITY) {
            for (long d = 0; d < D; ++d)
              o[d] = ra[d];
          } else {
            double merged = l + std::log(std::exp(la - l) + std::exp(refLse - l));
            for (long d = 0; d < D; ++d)
              o[d] = ra[d] * std::exp(la - merged) +
                     o[d] * std::exp(refLse - merged);
            refLse = merged;
          }
        }
        if (refLse == -INFINITY) {
          if (lse != -INFINITY)
            lseErr = INFINITY;
        } else {
          lseErr = std::max(lseErr, std::fabs(lse - refLse) /
                                        std::max(1.0, std::fabs(refLse)));
        }
        for (long d = 0; d < D; ++d) {
          double ref = o[d];
          double diff = orow[d] - ref;
          if (std::isnan(orow[d]))
            diff = INFINITY;
          num += diff * diff;
          den += ref * ref;
        }
      }
    }
  double rel = den > 0 ? std::sqrt(num / den) : std::sqrt(num);
  std::printf("profile: instructions=%llu mma=%llu ldmatrix=%llu "
              "cp_async_bytes=%llu shared_bytes=%llu global_bytes=%llu "
              "barriers=%llu wgmma=%llu wgmma_flops=%llu tma_load_bytes=%llu "
              "mbarrier_waits=%llu ex2=%llu\n",
              (unsigned long long)prof.instructions,
              (unsigned long long)prof.mma,
              (unsigned long long)prof.ldmatrix,
              (unsigned long long)prof.cpAsyncBytes,
              (unsigned long long)prof.sharedBytes,
              (unsigned long long)prof.globalBytes,
              (unsigned long long)prof.barriers,
              (unsigned long long)prof.wgmma,
              (unsigned long long)prof.wgmmaFlops,
              (unsigned long long)prof.tmaLoadBytes,
              (unsigned long long)prof.mbarrierWaits,
              (unsigned long long)prof.ex2);
  // Partial O is fp32 from bf16/f16 products: bound 1e-2 (DESIGN.md 4); the
  // LSE is fp32 throughout: 1e-4 relative.
  bool ok = rel <= 1e-2 && lseErr <= 1e-4 && untouched == 0;
  std::printf("%s max_rel_err=%.3e lse_err=%.3e untouched_rows_modified=%ld\n",
              ok ? "PASS" : "FAIL", rel, lseErr, untouched);
  return ok ? 0 : 1;
}
