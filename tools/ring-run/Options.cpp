//===- Options.cpp - ring-run's command line --------------------*- C++ -*-===//
//
// This file implements ring-run's options with llvm::cl. Values are taken as
// strings and checked here so that every bad value gets one message that
// names the option and its valid range ("--iters: expected an integer in
// [1, 1000000], got '1e23'"), which cl's own parsers do not give.
//
//===----------------------------------------------------------------------===//

#include "Options.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstdlib>
#include <vector>

using namespace ringrun;
namespace cl = llvm::cl;

cl::OptionCategory &ringrun::optionCategory() {
  static cl::OptionCategory category("ring-run options");
  return category;
}

const char *const ringrun::kHelp =
    "usage: mpirun -np N ring-run DIR --check [--device=cpu|emu|cuda] "
    "[--comm=mpi|nccl] [--seed S] [--dump OUTDIR] [--check-rows K] "
    "[--input-scale X]\n"
    "       mpirun -np N ring-run DIR --bench [--iters K] "
    "[--device=cpu|emu|cuda] [--comm=mpi|nccl] [--seed S]\n"
    "       mpirun -np 2 ring-run --calibrate -o FILE.json\n"
    "\n"
    "Runs the ringc artifact in DIR (manifest.json + the shared library it\n"
    "names) on N = ring x head_groups x dim_slices MPI ranks.\n"
    "\n"
    "  --check          run once on seeded random inputs, gather O and LSE to\n"
    "                   rank 0 and compare with a float64 reference; the last\n"
    "                   line is `ring-run: PASS max_rel_err=<x> o_rel_err=<a>\n"
    "                   lse_rel_err=<b> ranks=<N>` (exit 0) or `ring-run:\n"
    "                   FAIL <why>` (exit 1). Relative error is\n"
    "                   ||out-ref||_2/||ref||_2; bounds f32 1e-4, bf16/f16\n"
    "                   1e-2. Before anything runs, ring-run estimates the\n"
    "                   memory the check needs on each node and refuses, with\n"
    "                   the figure, when it exceeds what is available.\n"
    "                   A grad artifact (grad=1) runs the forward, then the\n"
    "                   backward entry with a random dO, and the PASS line\n"
    "                   adds dq_rel_err, dk_rel_err and dv_rel_err (float64\n"
    "                   analytic gradients); --dump adds do.npy, dq.npy,\n"
    "                   dk.npy, dv.npy, and --bench first prints\n"
    "                   `ring-run: BENCH backward ...` (FLOPs 2.5x the\n"
    "                   forward's).\n"
    "  --check-rows K   with --check: compare K query rows per (batch, head),\n"
    "                   spread evenly over the sequence, instead of all of\n"
    "                   them; the reference then costs O(K*L*D) per head and\n"
    "                   no rank holds a global tensor beyond K and V.\n"
    "  --bench          time the entry (warm-up, then K iterations; max over\n"
    "                   ranks); last line `ring-run: BENCH ms_per_iter=<x>\n"
    "                   tokens_per_s=<y> gflops=<z>` (FLOPs 4*B*Hq*L^2*D,\n"
    "                   halved when causal). Before it, on cpu and cuda, the\n"
    "                   kernels' time alone (CUDA events; on the CPU the host\n"
    "                   clock around each kernel call):\n"
    "                   `ring-run: KERNEL ms_per_iter=<k> launches_per_iter=<n>`,\n"
    "                   and the per-call host overhead, the entry's wall time\n"
    "                   minus its kernels' (the rank with the most):\n"
    "                   `ring-run: OVERHEAD ms_per_call=<o> entry_ms=<e>\n"
    "                   kernel_ms=<k> return_ms=<host time to return> rank=<r>`.\n"
    "  --stage-stats    with --bench: before the BENCH line, one line per rank\n"
    "                   and ring stage with a shift, averaged over the timed\n"
    "                   calls: `ring-run: STAGE rank=<r> stage=<t>\n"
    "                   stage_ms=<wall> compute_ms=<stage-exposed>\n"
    "                   transfer_ms=<start to completion> exposed_ms=<blocked\n"
    "                   in the wait> stage_cpu_ms=<thread CPU>\n"
    "                   compute_cpu_ms=<stage CPU-wait CPU> done_before_wait=<n/m>`\n"
    "                   (ringrt_stage_stats_get), and `ring-run: CPU\n"
    "                   variant=<v>`, the ISA variant of the kernels that ran\n"
    "                   (--check prints it too).\n"
    "  --device=D       device backend: cpu (default; CPU artifacts), emu\n"
    "                   (PTX emulator) or cuda (GPU artifacts, whose tensors\n"
    "                   ring-run allocates with ringrt_device_alloc).\n"
    "  --comm=C         communicator: nccl (default with --device=cuda:\n"
    "                   shifts of device buffers on a CUDA stream of their\n"
    "                   own) or mpi (default otherwise; with --device=cuda\n"
    "                   shifts are staged through page-locked host memory).\n"
    "  --profile        with --check and --device=emu: print each rank's\n"
    "                   emulator counters summed over its launches.\n"
    "  --seed S         input seed in [0, 2^64-1] (default 0); inputs are\n"
    "                   uniform in [-1,1) from splitmix64, times\n"
    "                   --input-scale, rounded to the artifact's dtype.\n"
    "  --input-scale X  multiply q and k (not v) by X, |X| in (0, 1e30]\n"
    "                   (default 1): logits grow as X^2, to test the\n"
    "                   kernels' numerics near saturation and overflow.\n"
    "  --dump OUTDIR    with --check: write q.npy k.npy v.npy [B,H,L,D],\n"
    "                   o.npy [B,Hq,L,D] and lse.npy [B,Hq,L] as float32,\n"
    "                   natural token order.\n"
    "  --seqlens a,b,.. a varlen artifact (max_docs): the document lengths,\n"
    "                   at most max_docs of them, summing to the sequence\n"
    "                   length (default: 1..max_docs documents cut at points\n"
    "                   drawn from --seed). The reference applies the same\n"
    "                   document mask; --check prints `ring-run: DOCS ...`\n"
    "                   and --dump adds cu_seqlens.npy (int64).\n"
    "  --cu-seqlens c0,..  max_docs + 1 raw boundaries passed to the entry\n"
    "                   as given (a test hook: the entry must refuse a bad\n"
    "                   array with RINGRT_ERR_INVALID_ARGUMENT).\n"
    "  --report-balance a varlen artifact: print each ring rank's visible\n"
    "                   (query, key) pairs for the documents,\n"
    "                   `ring-run: BALANCE ring_rank=<p> visible_pairs=<n>\n"
    "                   share=<%>` and `ring-run: BALANCE max_over_mean=<x>`.\n"
    "  --iters K        with --bench: timed iterations in [1, 1000000]\n"
    "                   (default 20).\n"
    "  --calibrate      measure this machine for ringc's cost model (kernel\n"
    "                   GFLOP/s of artifacts it compiles with the ringc next\n"
    "                   to ring-run, memory bandwidth, MPI shift, all-to-all\n"
    "                   and all-reduce latency and bandwidth) and write the\n"
    "                   cluster file -o FILE.json for ringc --cluster; an\n"
    "                   even number of ranks; last line `ring-run: CALIBRATED\n"
    "                   FILE ...`.\n"
    "  --help           print this help.\n"
    "\n"
    "Environment: RINGRT_TIMEOUT_MS bounds every wait, an integer in\n"
    "[1, 86400000] ms (default 300000). A rank that fails or times out ends\n"
    "the whole job: every rank exits non-zero within the timeout plus a few\n"
    "seconds, and the message names the rank, the stage and the peer.\n";

namespace {

cl::opt<std::string> dirOpt(cl::Positional, cl::desc("<artifact dir>"),
                            cl::cat(optionCategory()));
cl::opt<bool> checkOpt("check", cl::desc("compare with the reference"),
                       cl::cat(optionCategory()));
cl::opt<bool> benchOpt("bench", cl::desc("time the entry"),
                       cl::cat(optionCategory()));
cl::opt<bool> profileOpt("profile", cl::desc("emulator counters"),
                         cl::cat(optionCategory()));
cl::opt<bool> stageStatsOpt("stage-stats",
                            cl::desc("time each ring stage (with --bench)"),
                            cl::cat(optionCategory()));
cl::opt<std::string> deviceOpt("device", cl::desc("cpu, emu or cuda"),
                               cl::init("cpu"), cl::cat(optionCategory()));
cl::opt<std::string> commOpt("comm", cl::desc("mpi or nccl"),
                             cl::cat(optionCategory()));
cl::opt<std::string> seedOpt("seed", cl::desc("input seed"), cl::init("0"),
                             cl::cat(optionCategory()));
cl::opt<std::string> dumpOpt("dump", cl::desc("write .npy files here"),
                             cl::cat(optionCategory()));
cl::opt<std::string> itersOpt("iters", cl::desc("timed iterations"),
                              cl::init("20"), cl::cat(optionCategory()));
cl::opt<std::string> checkRowsOpt("check-rows",
                                  cl::desc("query rows to check per head"),
                                  cl::init("0"), cl::cat(optionCategory()));
cl::opt<bool> calibrateOpt("calibrate",
                           cl::desc("measure the machine for ringc"),
                           cl::cat(optionCategory()));
cl::opt<std::string> outputOpt("o", cl::desc("--calibrate's cluster file"),
                               cl::cat(optionCategory()));
cl::opt<std::string> seqlensOpt("seqlens",
                                cl::desc("document lengths (varlen)"),
                                cl::cat(optionCategory()));
cl::opt<std::string> cuSeqlensOpt("cu-seqlens",
                                  cl::desc("raw boundaries (test hook)"),
                                  cl::cat(optionCategory()));
cl::opt<bool> reportBalanceOpt("report-balance",
                               cl::desc("per-rank visible pairs (varlen)"),
                               cl::cat(optionCategory()));
cl::opt<std::string> inputScaleOpt("input-scale",
                                   cl::desc("factor on q and k"),
                                   cl::init("1"), cl::cat(optionCategory()));

bool hasCategory(const cl::Option &o, const cl::OptionCategory &c) {
  for (const cl::OptionCategory *x : o.Categories)
    if (x == &c)
      return true;
  return false;
}

} // namespace

std::string ringrun::parseIntInRange(const std::string &name,
                                     const std::string &text, int64_t lo,
                                     int64_t hi, int64_t &out) {
  long long v = 0;
  if (llvm::StringRef(text).getAsInteger(10, v) || v < lo || v > hi)
    return "--" + name + ": expected an integer in [" + std::to_string(lo) +
           ", " + std::to_string(hi) + "], got '" + text + "'";
  out = v;
  return "";
}

std::string ringrun::parseOptions(int argc, char **argv, Options &o) {
  // --help is answered here, not by cl's printer, which would exit() the
  // rank without MPI_Finalize.
  for (int i = 1; i < argc; ++i) {
    llvm::StringRef a(argv[i]);
    if (a == "-h" || a == "-help" || a == "--help")
      o.help = true;
  }
  if (o.help)
    return "";
  // Only ring-run's own options may be given: libLLVM registers hundreds of
  // its own (-debug-pass, -x86-asm-syntax, ...) that mean nothing here.
  std::vector<cl::Option *> foreign;
  for (auto &entry : cl::getRegisteredOptions())
    if (!hasCategory(*entry.second, optionCategory()))
      foreign.push_back(entry.second);
  for (cl::Option *opt : foreign)
    opt->removeArgument();

  std::string errors;
  llvm::raw_string_ostream errs(errors);
  if (!cl::ParseCommandLineOptions(argc, argv, "", &errs)) {
    errs.flush();
    // cl writes "ring-run: Unknown command line argument '--x'. Try: ...";
    // keep its first line without the program name.
    std::string first = errors.substr(0, errors.find('\n'));
    size_t colon = first.find(": ");
    if (colon != std::string::npos)
      first = first.substr(colon + 2);
    size_t tryAt = first.find("  Try:");
    if (tryAt != std::string::npos)
      first = first.substr(0, tryAt);
    return first + " (see --help)";
  }
  o.dir = dirOpt;
  o.check = checkOpt;
  o.bench = benchOpt;
  o.profile = profileOpt;
  o.stageStats = stageStatsOpt;
  o.device = deviceOpt;
  o.comm = commOpt;
  o.dumpDir = dumpOpt;
  o.seqlens = seqlensOpt;
  o.cuSeqlens = cuSeqlensOpt;
  o.reportBalance = reportBalanceOpt;
  if (seqlensOpt.getNumOccurrences() && o.seqlens.empty())
    return "--seqlens needs document lengths a,b,...";
  if (cuSeqlensOpt.getNumOccurrences() && o.cuSeqlens.empty())
    return "--cu-seqlens needs boundaries c0,c1,...";
  if (o.device != "cpu" && o.device != "emu" && o.device != "cuda")
    return "--device: expected cpu, emu or cuda, got '" + o.device + "'";
  if (commOpt.getNumOccurrences() && o.comm != "mpi" && o.comm != "nccl")
    return "--comm: expected mpi or nccl, got '" + o.comm + "'";
  unsigned long long seed = 0;
  if (llvm::StringRef(seedOpt).getAsInteger(0, seed))
    return "--seed: expected an integer in [0, 2^64-1], got '" + seedOpt +
           "'";
  o.seed = seed;
  std::string err = parseIntInRange("iters", itersOpt, 1, kMaxIters, o.iters);
  if (err.empty())
    err = parseIntInRange("check-rows", checkRowsOpt, 0, INT64_MAX / 2,
                          o.checkRows);
  if (!err.empty())
    return err;
  {
    const std::string &t = inputScaleOpt;
    char *end = nullptr;
    double x = std::strtod(t.c_str(), &end);
    if (t.empty() || *end || !std::isfinite(x) || x == 0 ||
        std::fabs(x) > kMaxInputScale)
      return "--input-scale: expected a non-zero number with |x| <= 1e30, "
             "got '" + t + "'";
    o.inputScale = x;
  }
  if (commOpt.getNumOccurrences() && o.comm.empty())
    return "--comm: expected mpi or nccl, got ''";
  if (o.comm.empty())
    o.comm = o.device == "cuda" ? "nccl" : "mpi";
  o.calibrate = calibrateOpt;
  o.output = outputOpt;
  if (o.calibrate)
    return !o.dir.empty() || o.check || o.bench
               ? "--calibrate takes no artifact, --check or --bench"
           : o.output.empty() ? "--calibrate needs -o FILE.json"
                              : "";
  if (outputOpt.getNumOccurrences())
    return "-o FILE.json goes with --calibrate";
  if (o.dir.empty())
    return "missing the artifact directory (see --help)";
  if (o.check == o.bench)
    return "give exactly one of --check and --bench";
  if (dumpOpt.getNumOccurrences() && o.dumpDir.empty())
    return "--dump needs a directory";
  if (!o.dumpDir.empty() && !o.check)
    return "--dump needs --check";
  if (o.checkRows && !o.check)
    return "--check-rows needs --check";
  if (o.checkRows && !o.dumpDir.empty())
    return "--check-rows cannot be combined with --dump (it computes only "
           "the sampled rows of the reference)";
  if (o.stageStats && !o.bench)
    return "--stage-stats needs --bench";
  if (o.profile && (!o.check || o.device != "emu"))
    return "--profile needs --check and --device=emu";
  return "";
}
