//===- Artifacts.cpp - writing a ringc artifact directory -------*- C++ -*-===//
//
// This file implements the artifact writer: it lowers the overlapped module
// to the LLVM dialect (the CPU pipeline, or a GPU target's registered
// pipeline, whose host code embeds the PTX that is also written as NAME.ptx), emits the object in process, links
// it into a shared library with the system C compiler driver (`cc -shared`;
// ringrt symbols stay undefined and resolve from the host at dlopen), and
// writes the C header and the manifest.
//
//===----------------------------------------------------------------------===//

#include "codegen/Artifacts.h"
#include "codegen/cpu/CpuPipeline.h"
#include "codegen/cpu/CpuVariants.h"
#include "codegen/cpu/EntryPoint.h"
#include "codegen/cpu/ObjectEmitter.h"
#include "dialect/AttentionPlan.h"
#include "passes/Pipelines.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <unistd.h>

using namespace mlir;
using namespace mlir::ring;
namespace fs = llvm::sys::fs;
namespace path = llvm::sys::path;

namespace {

std::string shapeJson(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (auto [i, d] : llvm::enumerate(shape))
    s += (i ? "," : "") + std::to_string(d);
  return s + "]";
}

/// ptxas from PATH or the CUDA toolkit, if present.
std::optional<std::string> findPtxas() {
  if (auto p = llvm::sys::findProgramByName("ptxas"))
    return *p;
  if (auto p = llvm::sys::findProgramByName("ptxas", {"/usr/local/cuda/bin"}))
    return *p;
  return std::nullopt;
}

/// The grid as the runtime sees it: a single-device plan is a grid of
/// shape [1] with no role axes.
SmallVector<int64_t> runtimeGridShape(const AttentionPlan &plan) {
  SmallVector<int64_t> gridShape(plan.gridShape);
  if (gridShape.empty())
    gridShape.push_back(1);
  return gridShape;
}

/// The header's account of cu_seqlens in a varlen artifact (max_docs),
/// for the entry `entry` that takes it after its tensors (the attention's
/// or the layer's): the document mask, the validation, the run-time
/// skipping and the layout advice for balance.
std::string documentsComment(StringRef name, const AttentionPlan &plan,
                             StringRef target, StringRef entry) {
  std::string out;
  llvm::raw_string_ostream os(out);
  os << "/* Packed documents (max_docs = " << plan.maxDocs
     << "): cu_seqlens holds " << plan.maxDocs + 1
     << " int32 global token\n"
     << " * positions, the document boundaries: cu_seqlens[0] = 0, "
        "non-decreasing\n"
     << " * (empty documents allowed), cu_seqlens[" << plan.maxDocs
     << "] = " << plan.seq << " (unused trailing documents repeat\n"
     << " * it). It is a " << (target == "cpu" ? "" : "HOST ")
     << "pointer on every target, and the same array on every rank.\n";
  if (target == "cpu")
    os << " * It is read during the call only.";
  else
    os << " * The entry copies it into the workspace (" << plan.maxDocs + 1
       << " int32 of\n"
       << " * " << cpu::workspaceBytesName(name)
       << "()) with an asynchronous host-to-device copy on the call's\n"
       << " * stream: no allocation, no synchronization. From pageable "
          "memory the\n"
       << " * driver has read it when the entry returns; from page-locked "
          "memory, or\n"
       << " * under CUDA-graph capture (every replay reads it again), keep "
          "it valid and\n"
       << " * unchanged until the stream has passed the call (e.g. until "
       << entry << "_sync\n"
       << " * returns).";
  os << " Any other array is refused with\n"
     << " * RINGRT_ERR_INVALID_ARGUMENT and a message naming the index\n"
     << " * (ringrt_check_cu_seqlens) before anything runs. A key is "
        "visible to a\n"
     << " * query only if both lie in the same document (and the causal "
        "mask, within\n"
     << " * the document, and the window hold); a row that sees no key "
        "gets O = 0,\n"
     << " * LSE = -inf. Block pairs that share no document are skipped at "
        "run time\n"
     << " * inside the kernels; every ring stage still shifts K and V (the "
        "schedule\n"
     << " * cannot prove a stage dead before the documents are known).\n"
     << " * Balance: the layout (" << stringifyBalance(plan.balance)
     << ") deals out global positions, not documents. A\n"
     << " * document much longer than a layout part is balanced like a whole "
        "sequence;\n"
     << " * a short one costs about len^2" << (plan.isCausal() ? "/2" : "")
     << " pairs on the rank that holds it. So\n"
     << " * order the documents in the packed row so that every part (of "
     << (plan.balance == Balance::zigzag ? "2P" : "P") << ")\n"
     << " * gets a similar sum of squared lengths (e.g. longest first, each "
        "into the\n"
     << " * emptiest part). TransformerEngine's THD format instead zigzags "
        "every\n"
     << " * document itself; ringc's masks follow global positions, so that "
        "needs a\n"
     << " * per-token position map it does not have. `ring-run "
        "--report-balance`\n"
     << " * prints each rank's visible (query, key) pairs for given "
        "document lengths. */\n";
  return out;
}

/// The header's declaration and description of a layer entry.
std::string layerEntryDoc(StringRef name, const AttentionPlan &plan,
                          StringRef target) {
  std::string out;
  llvm::raw_string_ostream os(out);
  std::string entry = cpu::layerEntryPointName(name);
  os << "/* The whole attention layer (d_model = " << plan.dModel
     << "): Q = X Wq" << (plan.bias ? " + bq" : "") << ", K = X Wk"
     << (plan.bias ? " + bk" : "") << ", V = X Wv" << (plan.bias ? " + bv" : "")
     << ",\n * ring attention, Y = O Wo" << (plan.bias ? " + bo" : "")
     << "; fp32 accumulation, Q/K/V/O rounded to " << plan.dtypeName()
     << ".\n * Local tensors (dense row-major, " << plan.dtypeName()
     << "; lse f32):\n";
  for (const PerRankBuffer &b : perRankBuffers(plan, false)) {
    if (b.name == "cu_seqlens") // not a tensor: documentsComment below
      continue;
    os << " *   " << b.name << std::string(4 - std::min<size_t>(4, b.name.size()), ' ')
       << shapeJson(b.shape) << "\n";
  }
  os << " * x and y hold this rank's tokens (the token map below). Weight\n"
     << " * columns (rows of wo) are head-major, D = " << plan.headDim
     << " per head: the rank with\n * head group g and dim slice s holds, "
        "for each of its heads h (query\n * heads [g*"
     << plan.localHeads() << ", (g+1)*" << plan.localHeads()
     << "), kv heads [g*" << plan.localKvHeads() << ", (g+1)*"
     << plan.localKvHeads() << ")),\n * global columns h*" << plan.headDim
     << " + [s*" << plan.localHeadDim() << ", (s+1)*" << plan.localHeadDim()
     << "), in that order" << (plan.bias ? " (biases alike; bo whole)" : "")
     << ".\n";
  if (plan.scattersOutput())
    os << " * y is reduce-scattered over the " << plan.outputGroupSize()
       << " head-group x dim-slice ranks of a ring\n"
       << " * coordinate: the rank with head group g and dim slice s holds "
          "share\n * j = s*" << plan.headGroups() << " + g, "
       << name << "_y_shares[j] of its ring rank's " << plan.localSeq()
       << " local rows starting at\n * local row " << name
       << "_y_first_row[j] (tokens: " << name
       << "_y_parts); y rows past the share are 0.\n * lse as for "
          "attention. */\n";
  else
    os << " * y is all-reduced over the head-group x dim-slice ranks: each "
          "holds\n * the whole Y of its tokens. lse as for attention. */\n";
  if (plan.hasDocuments())
    os << documentsComment(name, plan, target, entry);
  // The entry and its _sync form (emitEntryPoint makes both).
  for (StringRef suffix : {"", "_sync"}) {
    if (!suffix.empty())
      os << "/* " << entry << ", then a wait for its stream. */\n";
    os << "int32_t " << entry << suffix
       << "(ringrt_context *ctx, const ringrt_tensor *x,\n"
       << "    const ringrt_tensor *wq, const ringrt_tensor *wk,\n"
       << "    const ringrt_tensor *wv, const ringrt_tensor *wo,\n";
    if (plan.bias)
      os << "    const ringrt_tensor *bq, const ringrt_tensor *bk,\n"
         << "    const ringrt_tensor *bv, const ringrt_tensor *bo,\n";
    os << "    ringrt_tensor *y, ringrt_tensor *lse, "
       << (plan.hasDocuments() ? "const int32_t *cu_seqlens,\n    " : "")
       << "void *workspace, void *stream);\n\n";
  }
  return out;
}

/// One run of a ring rank's tokens: local rows [localRow, localRow + tokens)
/// hold global tokens offset + k·stride.
struct TokenPart {
  int64_t localRow, offset, tokens, stride;
};

/// The runs of tokens ring rank `p` holds (ringrt/Layout.h): one part
/// (none), two (zigzag) or one strided run (striped); padding rows follow
/// each part up to the next slot.
SmallVector<TokenPart> tokenParts(const AttentionPlan &plan, int64_t p) {
  int64_t Ll = plan.localSeq();
  // A part's tokens are a prefix of its slot (AttentionPlan::tokenRows).
  auto part = [&](int64_t localRow, int64_t slotEnd) {
    TokenRows t = plan.tokenRows(p, localRow, slotEnd - localRow);
    return TokenPart{localRow, t.first, t.count, t.stride};
  };
  if (plan.balance == Balance::zigzag)
    return {part(0, Ll / 2), part(Ll / 2, Ll)};
  return {part(0, Ll)};
}

/// The runs of global tokens in share j of ring rank p's Y under the
/// reduce-scatter (the share's local rows cut by the rank's token parts),
/// with localRow the row in the rank's Y buffer. Layers have no padding.
SmallVector<TokenPart> yShareParts(const AttentionPlan &plan, int64_t p,
                                   int64_t j) {
  int64_t first = plan.outputShareOffset(j),
          end = first + plan.outputShareRows(j);
  SmallVector<TokenPart> parts;
  for (const TokenPart &t : tokenParts(plan, p)) {
    int64_t lo = std::max(first, t.localRow),
            hi = std::min(end, t.localRow + t.tokens);
    if (lo < hi)
      parts.push_back({lo - first, t.offset + (lo - t.localRow) * t.stride,
                       hi - lo, t.stride});
  }
  return parts;
}

/// The manifest's "layer" object of a whole-layer artifact: the local
/// shapes of the layer entry's tensors, in argument order; "" otherwise.
std::string layerManifest(const AttentionPlan &plan) {
  if (!plan.isLayer())
    return "";
  std::string out;
  llvm::raw_string_ostream os(out);
  os << "  \"layer\": {\"reduction\": \""
     << stringifyLayerOutput(plan.layerOutput) << "\", \"local\": {";
  for (auto [i, b] : llvm::enumerate(perRankBuffers(plan, false)))
    os << (i ? ", " : "") << "\"" << b.name << "\": " << shapeJson(b.shape);
  os << "}";
  // The reduce-scatter: every rank's rows of Y and their global tokens.
  if (plan.scattersOutput()) {
    os << ", \"y_rows\": " << plan.localYRows() << ", \"shares\": "
       << shapeJson(plan.outputShares()) << ", \"y_ranks\": [";
    bool first = true;
    for (int64_t p = 0; p < plan.ring(); ++p)
      for (int64_t g = 0; g < plan.headGroups(); ++g)
        for (int64_t sl = 0; sl < plan.dimSlices(); ++sl) {
          int64_t j = plan.outputShareIndex(g, sl);
          os << (std::exchange(first, false) ? "" : ", ") << "{\"ring\": "
             << p << ", \"head_group\": " << g << ", \"dim_slice\": " << sl
             << ", \"share\": " << j << ", \"local_row\": "
             << plan.outputShareOffset(j)
             << ", \"rows\": " << plan.outputShareRows(j) << ", \"parts\": [";
          for (auto [i, t] : llvm::enumerate(yShareParts(plan, p, j)))
            os << (i ? ", " : "") << "{\"y_row\": " << t.localRow
               << ", \"offset\": " << t.offset << ", \"tokens\": "
               << t.tokens << ", \"stride\": " << t.stride << "}";
          os << "]}";
        }
    os << "]";
  }
  os << "},\n";
  return out;
}

/// The manifest's "sequence" object: local rows, padding, and each ring
/// rank's tokens as parts.
std::string sequenceJson(const AttentionPlan &plan) {
  std::string out;
  llvm::raw_string_ostream os(out);
  os << "  \"sequence\": {\"local_rows\": " << plan.localSeq()
     << ", \"padding\": " << (plan.hasSeqPadding() ? "true" : "false")
     << ", \"ranks\": [";
  for (int64_t p = 0; p < plan.ring(); ++p) {
    os << (p ? ", " : "") << "{\"ring\": " << p
       << ", \"tokens\": " << plan.rankTokens(p) << ", \"parts\": [";
    for (auto [i, t] : llvm::enumerate(tokenParts(plan, p)))
      os << (i ? ", " : "") << "{\"local_row\": " << t.localRow
         << ", \"offset\": " << t.offset << ", \"tokens\": " << t.tokens
         << ", \"stride\": " << t.stride << "}";
    os << "]}";
  }
  os << "]";
  // With an a2a axis each a2a rank holds a share of its ring rank's local
  // rows (ringrt/Layout.h a2aShareRows).
  if (plan.a2a() > 1) {
    os << ", \"a2a_rows\": " << plan.abiSeq() << ", \"a2a_shares\": [";
    for (int64_t u = 0; u < plan.a2a(); ++u)
      os << (u ? ", " : "") << "{\"a2a\": " << u
         << ", \"local_row\": " << plan.a2aShareStart(u)
         << ", \"rows\": " << plan.a2aShareRows(u) << "}";
    os << "]";
  }
  os << "},\n";
  return out;
}

std::string manifestJson(StringRef name, const AttentionPlan &plan,
                         const ArtifactOptions &options, StringRef features,
                         bool grad) {
  SmallVector<int64_t> gridShape = runtimeGridShape(plan);
  std::array<int64_t, 3> axes = plan.axisOfRole;
  std::string out;
  llvm::raw_string_ostream os(out);
  os << "{\n  \"format\": \"ringc-artifact-1\",\n"
     << "  \"name\": \"" << name << "\",\n"
     << "  \"entry\": \""
     << (plan.isLayer() ? cpu::layerEntryPointName(name)
                        : cpu::entryPointName(name))
     << "\",\n"
     << (grad ? "  \"backward_entry\": \"" +
                    cpu::backwardEntryPointName(name) + "\",\n"
              : std::string())
     << "  \"library\": \"lib" << name << ".so\",\n"
     << "  \"target\": \"" << options.target << "\",\n"
     << "  \"spec\": {\"batch\": " << plan.batch << ", \"heads\": "
     << plan.heads << ", \"kv_heads\": " << plan.kvHeads
     << ", \"seq\": " << plan.seq << ", \"head_dim\": " << plan.headDim
     << ", \"ring\": " << plan.ring()
     << ", \"head_groups\": " << plan.headGroups()
     << ", \"dim_slices\": " << plan.dimSlices()
     << (plan.a2aAxis >= 0 ? ", \"a2a\": " + std::to_string(plan.a2a())
                           : std::string())
     << ", \"causal\": " << (plan.isCausal() ? 1 : 0)
     << (plan.hasWindow()
             ? llvm::formatv(", \"window_left\": {0}, \"window_right\": {1}",
                             plan.windowLeft, plan.windowRight)
                   .str()
             : std::string())
     << (plan.hasDocuments()
             ? ", \"max_docs\": " + std::to_string(plan.maxDocs)
             : std::string())
     << ", \"balance\": \""
     << stringifyBalance(plan.balance) << "\", \"dtype\": \""
     << plan.dtypeName() << "\", \"scale\": "
     << llvm::format("%.17g", plan.scale) << (grad ? ", \"grad\": 1" : "")
     << (plan.isLayer() ? ", \"d_model\": " + std::to_string(plan.dModel) +
                              ", \"bias\": " + (plan.bias ? "1" : "0")
                        : std::string())
     << (plan.scattersOutput() ? ", \"layer_output\": \"reduce_scatter\""
                               : "")
     << "},\n"
     << "  \"grid\": {\"shape\": " << shapeJson(gridShape)
     << ", \"ring_axis\": " << axes[0] << ", \"head_group_axis\": " << axes[1]
     << ", \"dim_slice_axis\": " << axes[2]
     << (plan.a2aAxis >= 0 ? ", \"a2a_axis\": " + std::to_string(plan.a2aAxis)
                           : std::string())
     << "},\n"
     << "  \"local\": {\"q\": " << shapeJson(plan.abiQShape())
     << ", \"k\": " << shapeJson(plan.abiKVShape())
     << ", \"v\": " << shapeJson(plan.abiKVShape())
     << ", \"o\": " << shapeJson(plan.abiQShape())
     << ", \"lse\": " << shapeJson(plan.abiLseShape()) << "},\n"
     << layerManifest(plan) << sequenceJson(plan)
     << "  \"plan_hash\": \"" << llvm::format("%016llx",
                                              (unsigned long long)plan.hash())
     << "\",\n"
     << (options.target == "cpu"
             ? ""
             : "  \"gpu\": {\"chip\": \"" + options.target +
                   "\", \"ptx\": \"" + name.str() + ".ptx\", \"cubin\": " +
                   (findPtxas() ? "\"" + name.str() + ".cubin\"" : "null") +
                   ", \"tensors\": \"device\"},\n")
     << "  \"cpu\": {\"arch\": \"x86-64\", \"cpu\": \""
     << cpu::resolveCpuName(options.cpu) << "\", \"features\": \"" << features
     << "\", \"object\": \"" << name << ".o\", \"header\": \"" << name
     << ".h\", \"query_tile\": " << options.queryTile;
  // The kernels' ISA variants, best first: the entry runs the first the
  // running CPU has every feature of.
  SmallVector<StringRef> variants;
  StringRef(options.cpuVariants).split(variants, ',', -1, false);
  if (!variants.empty()) {
    os << ", \"variants\": [";
    bool any = false;
    for (StringRef n : variants) {
      const cpu::CpuVariant *v = cpu::lookupCpuVariant(n);
      if (!v || !cpu::appliesTo(*v, plan.elementType))
        continue;
      os << (std::exchange(any, true) ? ", " : "") << "{\"name\": \""
         << v->name << "\", \"cpu\": \""
         << v->cpu << "\", \"features\": \"" << cpu::hostFeatureList(v->cpu)
         << "\", \"query_tile\": " << v->queryTile << "}";
    }
    os << "]";
  }
  os << "}\n}\n";
  return out;
}

/// Which global rows, heads and head-dim columns the rank with ring
/// coordinate p, head group g and dim slice s holds (DESIGN.md section 1;
/// ringrt/Layout.h implements the same maps).
std::string layoutComment(StringRef name, const AttentionPlan &plan) {
  std::string out;
  llvm::raw_string_ostream os(out);
  int64_t P = plan.ring(), Ll = plan.localSeq();
  os << " * MPI world rank r has grid coordinates r in row-major order over\n"
     << " * the grid shape (last axis fastest); the rank with ring coordinate\n"
     << " * p, head group g and dim slice s holds";
  if (plan.a2a() > 1 && !plan.hasA2APadding())
    os << ", with a2a coordinate u,\n * local tokens [u*" << plan.abiSeq()
       << ", (u+1)*" << plan.abiSeq() << ") of the ring rank's " << Ll
       << " below (all heads of group g):\n";
  else if (plan.a2a() > 1)
    os << ", with a2a coordinate u,\n * share u of the ring rank's " << Ll
       << " local rows below (all heads of group g): " << plan.a2a()
       << " near-equal shares,\n * share u holds "
       << Ll / plan.a2a() << " rows (" << Ll / plan.a2a() + 1
       << " for u < " << Ll % plan.a2a() << ") from ring-local row\n"
       << " * u*" << Ll / plan.a2a() << " + min(u, " << Ll % plan.a2a()
       << ") (" << name << "_a2a_shares below), in buffers of "
       << plan.abiSeq() << " rows;\n * rows past the share are a2a "
          "padding: never read, never written:\n";
  else
    os << ":\n";
  if (!plan.hasSeqPadding()) {
    switch (plan.balance) {
    case Balance::none:
      os << " *   tokens: local i = global p*" << Ll << " + i\n";
      break;
    case Balance::zigzag:
      os << " *   tokens (zigzag): local i < " << Ll / 2 << " = global p*"
         << Ll / 2 << " + i; others = global (" << 2 * P - 1 << "-p)*"
         << Ll / 2 << " + (i-" << Ll / 2 << ")\n";
      break;
    case Balance::striped:
      os << " *   tokens (striped): local i = global i*" << P << " + p\n";
      break;
    }
  } else {
    os << " *   tokens: seq " << plan.seq << " does not divide into the "
       << (plan.balance == Balance::zigzag ? "2*ring" : "ring")
       << " parts; every rank's buffers have " << Ll
       << " rows and rank p's tokens\n"
       << " *   are " << name << "_rank_parts[p] (below): local rows "
       << "[local_row, local_row + tokens) = global offset + k*stride.\n"
       << " *   The other rows are padding: never read into a result; O "
          "gets 0 and LSE -inf there.\n";
  }
  int64_t hq = plan.heads / plan.headGroups();
  int64_t hkv = plan.kvHeads / plan.headGroups();
  os << " *   query heads [g*" << hq << ", (g+1)*" << hq << "), kv heads [g*"
     << hkv << ", (g+1)*" << hkv << ")\n"
     << " *   head_dim columns [s*" << plan.localHeadDim() << ", (s+1)*"
     << plan.localHeadDim() << "); lse is the same on every dim slice\n";
  return out;
}

/// The C helpers of the header: the plan hash, the local shapes, and a
/// function that fills ringrt_context_options for this artifact's grid.
std::string contextHelpers(StringRef name, const AttentionPlan &plan) {
  std::string upper = StringRef(name).upper();
  SmallVector<int64_t> grid = runtimeGridShape(plan);
  std::string out;
  llvm::raw_string_ostream os(out);
  auto array = [&](StringRef what, ArrayRef<int64_t> shape) {
    os << "static const int64_t " << name << "_" << what << "_shape["
       << shape.size() << "] = {";
    llvm::interleaveComma(shape, os);
    os << "};\n";
  };
  os << "/* Every rank must create its context with this plan hash. */\n"
     << "#define " << upper << "_PLAN_HASH "
     << llvm::format("0x%016llxULL", (unsigned long long)plan.hash())
     << "\n\n/* Local shapes, for ringrt_tensor_init. */\n";
  array("q", plan.abiQShape());
  array("kv", plan.abiKVShape());
  array("lse", plan.abiLseShape());
  os << "\n/* The tokens of ring coordinate p: rank_tokens[p] in all, and\n"
     << " * rank_parts[p][i] = {local_row, offset, tokens, stride}: local rows\n"
     << " * [local_row, local_row + tokens) hold global tokens offset + k*stride\n"
     << " * (unused parts have tokens = 0). Other local rows are padding. */\n"
     << "static const int64_t " << name << "_local_rows = " << plan.localSeq()
     << ";\nstatic const int64_t " << name << "_rank_tokens[" << plan.ring()
     << "] = {";
  for (int64_t p = 0; p < plan.ring(); ++p)
    os << (p ? ", " : "") << plan.rankTokens(p);
  os << "};\nstatic const int64_t " << name << "_rank_parts[" << plan.ring()
     << "][2][4] = {";
  for (int64_t p = 0; p < plan.ring(); ++p) {
    SmallVector<TokenPart> parts = tokenParts(plan, p);
    parts.resize(2, TokenPart{0, 0, 0, 1});
    os << (p ? ", " : "") << "{";
    for (auto [i, t] : llvm::enumerate(parts))
      os << (i ? ", " : "") << "{" << t.localRow << ", " << t.offset << ", "
         << t.tokens << ", " << t.stride << "}";
    os << "}";
  }
  os << "};\n";
  if (plan.a2a() > 1) {
    os << "\n/* The a2a shares: a2a coordinate u holds a2a_shares[u] = "
          "{local_row, rows}:\n"
       << " * ring-local rows [local_row, local_row + rows) of its ring "
          "rank, in buffers of\n * a2a_rows rows (rows past the share are "
          "a2a padding). */\n"
       << "static const int64_t " << name << "_a2a_rows = " << plan.abiSeq()
       << ";\nstatic const int64_t " << name << "_a2a_shares[" << plan.a2a()
       << "][2] = {";
    for (int64_t u = 0; u < plan.a2a(); ++u)
      os << (u ? ", " : "") << "{" << plan.a2aShareStart(u) << ", "
         << plan.a2aShareRows(u) << "}";
    os << "};\n";
  }
  if (plan.scattersOutput()) {
    int64_t k = plan.outputGroupSize();
    os << "\n/* The layer's Y is reduce-scattered: share j = dim_slice*"
       << plan.headGroups() << " + head_group\n"
       << " * holds y_shares[j] rows (of y_rows in the y buffer; the rest "
          "are 0), local\n"
       << " * rows [y_first_row[j], y_first_row[j] + y_shares[j]) of its ring "
          "rank, and\n"
       << " * y_parts[p][j][i] = {y_row, offset, tokens, stride}: y rows\n"
       << " * [y_row, y_row + tokens) hold global tokens offset + k*stride "
          "(unused parts\n * have tokens = 0). */\n"
       << "static const int64_t " << name << "_y_rows = " << plan.localYRows()
       << ";\nstatic const int64_t " << name << "_y_shares[" << k << "] = {";
    llvm::interleaveComma(plan.outputShares(), os);
    os << "};\nstatic const int64_t " << name << "_y_first_row[" << k
       << "] = {";
    for (int64_t j = 0; j < k; ++j)
      os << (j ? ", " : "") << plan.outputShareOffset(j);
    os << "};\nstatic const int64_t " << name << "_y_parts[" << plan.ring()
       << "][" << k << "][2][4] = {";
    for (int64_t p = 0; p < plan.ring(); ++p) {
      os << (p ? ", " : "") << "{";
      for (int64_t j = 0; j < k; ++j) {
        SmallVector<TokenPart> parts = yShareParts(plan, p, j);
        parts.resize(2, TokenPart{0, 0, 0, 1});
        os << (j ? ", " : "") << "{";
        for (auto [i, t] : llvm::enumerate(parts))
          os << (i ? ", " : "") << "{" << t.localRow << ", " << t.offset
             << ", " << t.tokens << ", " << t.stride << "}";
        os << "}";
      }
      os << "}";
    }
    os << "};\n";
  }
  os << "\n/* Fills the context options of this artifact's grid ("
     << plan.numRanks() << " ranks): comm \"mpi\" or \"nccl\", device\n"
     << " * \"cpu\", \"emu\" or \"cuda\". */\n"
     << "static inline void " << name
     << "_context_options(ringrt_context_options *o,\n"
     << "    const char *comm, const char *device) {\n"
     << "  memset(o, 0, sizeof(*o));\n"
     << "  o->comm = comm;\n  o->device = device;\n"
     << "  o->grid_rank = " << grid.size() << ";\n";
  for (auto [i, d] : llvm::enumerate(grid))
    os << "  o->grid_shape[" << i << "] = " << d << ";\n";
  for (int role = 0; role < 3; ++role)
    os << "  o->axis_of_role[" << role << "] = " << plan.axisOfRole[role]
       << ";\n";
  if (plan.a2aAxis >= 0)
    os << "  o->has_a2a_axis = 1;\n  o->a2a_axis = " << plan.a2aAxis
       << ";\n";
  os << "  o->plan_hash = " << upper << "_PLAN_HASH;\n}\n\n";
  return out;
}

/// The header's description of the workspace every entry point takes.
///
/// Every entry point of an artifact (NAME_attention, and any later one such
/// as NAME_attention_backward) ends with `void *workspace, void *stream`:
/// its per-call scratch buffers come from one workspace sized by
/// NAME_workspace_bytes() (the largest of the entries' needs, per rank) and
/// resolved by ringrt_cg_workspace (codegen_abi.h): the caller's, or the
/// context's when NULL; its work goes on `stream` between ringrt_cg_begin
/// and ringrt_cg_end, and it returns without waiting. A new entry point
/// gets its buffers through assignWorkspace (codegen/Workspace.h), is
/// emitted like emitEntryPoint (with a _sync variant) and must keep this
/// convention.
std::string workspaceDoc(StringRef name, StringRef target) {
  std::string out;
  llvm::raw_string_ostream os(out);
  bool cpu = target == "cpu";
  os << "/* Workspace: the entry point's scratch buffers (partial O/LSE, K/V\n"
     << " * double buffers) live in one workspace of "
     << cpu::workspaceBytesName(name) << "()\n"
     << " * bytes per rank, so that a call allocates and frees nothing. Pass\n"
     << " * your own (256-byte aligned "
     << (cpu ? "host memory, e.g. aligned_alloc(256, n)"
             : "device memory, e.g. ringrt_device_alloc or\n"
               " * cuMemAlloc")
     << "; not used by two\n"
     << " * calls at once), or NULL: the context then allocates one on the\n"
     << " * first call, reuses it, and frees it in ringrt_context_destroy.\n"
     << " * Stream: " 
     << (cpu ? "pass NULL (CPU calls finish before they return).\n"
             : "the CUstream the call is queued on (NULL: the context's\n"
               " * own), ordered with the transfers through events. The call\n"
               " * returns without waiting for the device, except where comm\n"
               " * \"mpi\" must (each shift copies its block to the host and\n"
               " * waits in MPI; a dim-slice all-reduce waits for the device).\n"
               " * " + cpu::entryPointName(name) +
                   "_sync waits for the stream too.\n")
     << " * Every entry point of this artifact ends with (workspace, stream). */\n";
  return out;
}

/// The header's account of what a GPU artifact's calls can be captured
/// into a CUDA graph, and how (runtime/lib/device/CudaStreams.h, NcclComm.cpp
/// and refuseUnderCapture in DeviceBackend.h implement it); "" for cpu.
std::string graphDoc(StringRef name, StringRef target) {
  if (target == "cpu")
    return "";
  std::string entry = cpu::entryPointName(name);
  std::string out;
  llvm::raw_string_ostream os(out);
  os << "/* CUDA graphs: with comm \"nccl\" and device \"cuda\", a call of "
        "an entry point\n"
     << " * (" << entry << ", or the backward one) on a stream in capture\n"
     << " * (cuStreamBeginCapture) is captured: its kernels and\n"
     << " * NCCL transfers become graph nodes ordered by events, and the "
        "call neither\n"
     << " * waits, synchronizes, allocates nor frees. Capture after one call "
        "outside\n"
     << " * the capture (it loads the kernels and allocates the context's "
        "workspace\n"
     << " * and events), pass the stream being captured, and launch the "
        "graph after the\n"
     << " * calls made outside it that used the same workspace (a captured "
        "call does not\n"
     << " * wait for the context's own stream; give the graph its own "
        "workspace to\n"
     << " * avoid sharing). The graph keeps the tensors' and the workspace's "
        "addresses.\n"
     << " * While the capture is open, make no other call on the context.\n"
     << " * Not capturable (a precise RINGRT_ERR_UNSUPPORTED, or the driver's "
        "capture\n"
     << " * error with a hint): comm \"mpi\", which blocks the host in "
        "each ring shift\n"
     << " * (device-to-host copy, then MPI), in the dim-slice all-reduce and "
        "in the\n"
     << " * all-to-all (the device is synchronized first); " << entry
     << "_sync\n"
     << " * (it waits for the stream); and a first call (allocation). "
        "Time-outs:\n"
     << " * RINGRT_TIMEOUT_MS bounds each transfer of a call outside a "
        "capture (then the\n"
     << " * NCCL communicator is aborted); a captured call has nothing to "
        "wait for, and\n"
     << " * a graph launch is not watched by ringrt: a peer that never "
        "joins stalls the\n"
     << " * stream, so bound your own wait on it (cuStreamQuery, "
        "cuEventQuery). Stage\n"
     << " * statistics and kernel timing skip captured calls. */\n";
  return out;
}


/// The header's entries of a varlen attention artifact (max_docs): the
/// usual tensors, then cu_seqlens (documentsComment).
std::string documentsDoc(StringRef name, const AttentionPlan &plan,
                         StringRef target) {
  std::string entry = cpu::entryPointName(name);
  std::string out = documentsComment(name, plan, target, entry);
  llvm::raw_string_ostream os(out);
  os << "int32_t " << entry
     << "(ringrt_context *ctx, const ringrt_tensor *q,\n"
        "    const ringrt_tensor *k, const ringrt_tensor *v, ringrt_tensor "
        "*o,\n    ringrt_tensor *lse, const int32_t *cu_seqlens, void "
        "*workspace,\n    void *stream);\n\n"
     << "/* " << entry << ", then a wait for its stream. */\n"
     << "int32_t " << entry
     << "_sync(ringrt_context *ctx, const ringrt_tensor *q,\n"
        "    const ringrt_tensor *k, const ringrt_tensor *v, ringrt_tensor "
        "*o,\n    ringrt_tensor *lse, const int32_t *cu_seqlens, void "
        "*workspace,\n    void *stream);\n\n";
  return out;
}

std::string headerText(StringRef name, const AttentionPlan &plan,
                       StringRef target, bool grad) {
  std::string guard = "RINGC_ARTIFACT_" + StringRef(name).upper() + "_H";
  std::string out;
  llvm::raw_string_ostream os(out);
  os << "/* " << name << ".h - generated by ringc (target " << target
     << "); do not edit.\n"
     << " *\n * plan: " << plan.str() << "\n *\n"
     << " * Local (per-rank) tensors, dense row-major:\n"
     << " *   q, o  " << shapeJson(plan.abiQShape()) << " "
     << plan.dtypeName() << "\n"
     << " *   k, v  " << shapeJson(plan.abiKVShape()) << " "
     << plan.dtypeName() << "\n"
     << " *   lse   " << shapeJson(plan.abiLseShape()) << " f32\n"
     << " * Strides must be the dense row-major ones and data aligned to the\n"
     << " * element size; ringrt_check_tensor rejects anything else.\n"
     << layoutComment(name, plan)
     << (target == "cpu" ? ""
                         : " * Tensor data are device pointers "
                           "(ringrt_device_alloc).\n")
     << " * Returns a ringrt_status (0 on success). */\n"
     << "#ifndef " << guard << "\n#define " << guard << "\n\n"
     << "#include \"ringrt/ringrt.h\"\n#include \"ringrt/codegen_abi.h\"\n\n"
     << "#include <string.h>\n\n"
     << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
     << contextHelpers(name, plan)
     << "/* What the library was built for; the entry checks it against\n"
     << " * the context (plan hash) before it does anything. */\n"
     << "extern const ringrt_artifact_info " << cpu::artifactInfoName(name)
     << ";\n\n"
     << workspaceDoc(name, target)
     << "int64_t " << cpu::workspaceBytesName(name) << "(void);\n\n"
     << graphDoc(name, target)
     << (plan.isLayer()
             ? layerEntryDoc(name, plan, target)
         : plan.hasDocuments()
             ? documentsDoc(name, plan, target)
             : "int32_t " + cpu::entryPointName(name) +
                   "(ringrt_context *ctx, const ringrt_tensor *q,\n"
                   "    const ringrt_tensor *k, const ringrt_tensor *v, "
                   "ringrt_tensor *o,\n    ringrt_tensor *lse, void "
                   "*workspace, void *stream);\n\n"
                   "/* " + cpu::entryPointName(name) +
                   ", then a wait for its stream. */\n"
                   "int32_t " + cpu::entryPointName(name) +
                   "_sync(ringrt_context *ctx, const ringrt_tensor *q,\n"
                   "    const ringrt_tensor *k, const ringrt_tensor *v, "
                   "ringrt_tensor *o,\n    ringrt_tensor *lse, void "
                   "*workspace, void *stream);\n\n")
     << (grad ? "/* The backward pass (grad=1): from the forward's q, k, v, o, "
                "lse and the\n * output gradient do (the shape and dtype of "
                "o), writes dq, dk, dv (the\n * shapes and dtype of q, k, v). "
                "Accumulation is fp32 throughout; rows\n * whose every score "
                "is masked get dq = 0. " +
                    (plan.hasDocuments()
                         ? std::string("cu_seqlens must be the forward "
                                       "call's documents.\n * ")
                         : std::string()) +
                    "A caller-owned workspace must\n * hold " +
                    cpu::workspaceBytesName(name.str() + "_backward") +
                    "() bytes (" + cpu::workspaceBytesName(name) +
                    "() is at least that:\n * one workspace serves both "
                    "entries). */\nint32_t " +
                    cpu::backwardEntryPointName(name) +
                    "(ringrt_context *ctx,\n    const ringrt_tensor *q, "
                    "const ringrt_tensor *k, const ringrt_tensor *v,\n    "
                    "const ringrt_tensor *o, const ringrt_tensor *lse, "
                    "const ringrt_tensor *do_,\n    ringrt_tensor *dq, "
                    "ringrt_tensor *dk, ringrt_tensor *dv, " +
                    (plan.hasDocuments()
                         ? "const int32_t *cu_seqlens,\n    void *workspace, "
                           "void *stream);\n"
                         : "void *workspace,\n    void *stream);\n") +
                    "int64_t " +
                    cpu::workspaceBytesName(name.str() + "_backward") +
                    "(void);\n\n"
              : std::string())
     << "#ifdef __cplusplus\n}\n#endif\n\n#endif /* " << guard << " */\n";
  return out;
}

LogicalResult writeFile(StringRef file, StringRef contents,
                        std::string &error) {
  std::error_code ec;
  llvm::raw_fd_ostream os(file, ec, fs::OF_None);
  if (!ec) {
    os << contents;
    os.close();
    ec = os.error();
    // A write error (a full disk, a file size limit) is reported here; the
    // stream must not report it again as a fatal "IO failure" when it dies.
    os.clear_error();
  }
  if (ec) {
    error = ("cannot write " + file + ": " + ec.message()).str();
    return failure();
  }
  return success();
}

/// Runs `args` (args[0] is the program), capturing its output in a log in
/// `workDir`; on failure `error` says `what` failed and includes the output.
LogicalResult runTool(ArrayRef<StringRef> args, StringRef workDir,
                      StringRef what, std::string &error) {
  SmallString<256> log(workDir);
  path::append(log, "tool.log");
  std::string logPath = log.str().str();
  std::optional<StringRef> redirects[] = {std::nullopt, StringRef(logPath),
                                          StringRef(logPath)};
  std::string execError;
  int rc = llvm::sys::ExecuteAndWait(args[0], args, std::nullopt, redirects,
                                     0, 0, &execError);
  if (rc != 0) {
    std::string output;
    if (auto buf = llvm::MemoryBuffer::getFile(logPath))
      output = (*buf)->getBuffer().str();
    error = (what + " failed").str() +
            (execError.empty() ? "" : ": " + execError) +
            (output.empty() ? "" : ":\n" + output);
    fs::remove(logPath);
    return failure();
  }
  fs::remove(logPath);
  return success();
}

/// Links `object` into the shared library `library` with the system C
/// compiler driver.
LogicalResult linkSharedLibrary(StringRef object, StringRef library,
                                StringRef workDir, std::string &error) {
  llvm::ErrorOr<std::string> cc = llvm::sys::findProgramByName("cc");
  for (const char *alt : {"gcc", "clang"})
    if (!cc)
      cc = llvm::sys::findProgramByName(alt);
  if (!cc) {
    error = "cannot link lib*.so: no C compiler driver (cc, gcc or clang) "
            "on PATH; install one (Debian: build-essential)";
    return failure();
  }
  return runTool({*cc, "-shared", "-o", library, object}, workDir,
                 "linking " + library.str() + " with '" + *cc + " -shared'",
                 error);
}

/// Assembles `ptx` for `chip` into `cubin` with ptxas. The runtime loads the
/// PTX embedded in the object (the driver JIT-compiles it for the device at
/// hand); the cubin proves at compile time that ptxas accepts the code for
/// the requested chip, and is there for inspection (cuobjdump).
LogicalResult assembleCubin(StringRef ptxas, StringRef ptx, StringRef cubin,
                            StringRef chip, StringRef workDir,
                            std::string &error) {
  std::string arch = ("-arch=" + chip).str();
  return runTool({ptxas, arch, ptx, "-o", cubin}, workDir,
                 "ptxas " + arch + " on the generated PTX", error);
}

/// Fault injection for tests of an interrupted write: RINGC_FAULT=kill:POINT
/// makes ringc kill itself with SIGKILL (nothing runs after it, exactly as
/// with `kill -9`) when it reaches POINT: "write" (half of the artifact's
/// files written) or "install" (all written, just before the directory is
/// put in place).
void faultPoint(StringRef point) {
  const char *fault = std::getenv("RINGC_FAULT");
  if (fault && StringRef(fault) == ("kill:" + point).str())
    ::raise(SIGKILL);
}

/// Exchanges the directories `a` and `b` in one step (renameat2 with
/// RENAME_EXCHANGE, Linux 3.15+). Returns false where the kernel or the
/// file system cannot (EINVAL, ENOSYS, EXDEV on some overlay mounts).
bool exchangeDirectories(const char *a, const char *b) {
#ifdef RENAME_EXCHANGE
  return ::renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) == 0;
#else
  errno = ENOSYS;
  return false;
#endif
}

/// Puts the finished directory `tmp` at `dir`, replacing an earlier
/// artifact there. Where the file system can exchange two names in one
/// step, `dir` holds the complete old or the complete new artifact at every
/// instant, even if ringc is killed; otherwise the old one is moved aside
/// first, and a kill between the two renames leaves no `dir` (never a
/// partial one) plus temporaries that the next ringc run removes.
LogicalResult installDirectory(StringRef tmp, StringRef dir,
                               std::string &error) {
  faultPoint("install");
  if (fs::exists(dir)) {
    bool isDir = fs::is_directory(dir);
    SmallString<256> manifest(dir);
    path::append(manifest, "manifest.json");
    std::error_code ec;
    bool empty = isDir && fs::directory_iterator(dir, ec) == fs::directory_iterator();
    if (!isDir || (!empty && !fs::exists(manifest))) {
      error = ("'" + dir +
               "' exists and is not a ringc artifact directory; not replacing "
               "it")
                  .str();
      return failure();
    }
    std::string tmpPath = tmp.str(), dirPath = dir.str();
    if (exchangeDirectories(tmpPath.c_str(), dirPath.c_str())) {
      (void)fs::remove_directories(tmp); // now the old artifact
      return success();
    }
    // The exchange failed (no kernel or file-system support, or anything
    // else): the two-rename path below reports its own errors.
    SmallString<256> old(tmp);
    old += ".old";
    if (std::error_code ec = fs::rename(dir, old)) {
      error = ("cannot move the old '" + dir + "' aside: " + ec.message()).str();
      return failure();
    }
    if (std::error_code ec = fs::rename(tmp, dir)) {
      (void)fs::rename(old, dir);
      error = ("cannot rename the new artifact to '" + dir + "': " +
               ec.message())
                  .str();
      return failure();
    }
    (void)fs::remove_directories(old);
    return success();
  }
  if (std::error_code ec = fs::rename(tmp, dir)) {
    error = ("cannot rename the new artifact to '" + dir + "': " + ec.message())
                .str();
    return failure();
  }
  return success();
}

/// The files of the artifact, written into the temporary directory `tmp`.
LogicalResult writeInto(ModuleOp module, StringRef tmp, StringRef name,
                        const AttentionPlan &plan,
                        const ArtifactOptions &options, bool grad,
                        std::string &error) {
  PassManager pm(module.getContext());
  addFailureReporting(pm);
  bool gpu = options.target != "cpu";
  if (gpu) {
    // GPU targets: the pipeline their code generator registered
    // (codegen/gpu/GpuPipeline.h), from the overlapped phase.
    PipelineOptions pipeline;
    pipeline.target = options.target;
    pipeline.inputPhase = Phase::Overlapped;
    // The driver has verified the schedule of this module (ringc runs
    // ring-verify-schedule on every per-rank input).
    pipeline.verifyPerRankInput = false;
    pipeline.hostFeatures = cpu::hostFeatureList(options.cpu);
    pipeline.gpuKernel = options.gpuKernel;
    if (failed(buildPipelineToPhase(pm, Phase::LLVM, pipeline, error)))
      return failure();
  } else {
    cpu::CpuTargetOptions cpuOptions;
    cpuOptions.queryTile = options.queryTile;
    cpuOptions.hostFeatures = cpu::hostFeatureList(options.cpu);
    cpuOptions.cpuVariants = options.cpuVariants;
    cpu::buildCpuTargetPipeline(pm, cpuOptions);
    cpu::buildCpuToLLVMPipeline(pm);
  }
  if (failed(pm.run(module))) {
    // The failing pass has reported the cause (addFailureReporting).
    error = "lowering to the LLVM dialect failed (the errors above say why)";
    return failure();
  }
  if (gpu) {
    // NAME.ptx, for inspection: the PTX embedded in the object.
    auto ptx = module.lookupSymbol<LLVM::GlobalOp>("ringc_ptx");
    auto text = ptx ? dyn_cast_or_null<StringAttr>(ptx.getValueOrNull())
                    : StringAttr();
    SmallString<256> ptxPath(tmp);
    path::append(ptxPath, name + ".ptx");
    if (!text) {
      error = "internal error: the GPU module has no @ringc_ptx";
      return failure();
    }
    if (failed(writeFile(ptxPath, text.getValue().rtrim('\0'), error)))
      return failure();
    if (auto ptxas = findPtxas()) {
      SmallString<256> cubinPath(tmp);
      path::append(cubinPath, name + ".cubin");
      if (failed(assembleCubin(*ptxas, ptxPath, cubinPath, options.target,
                               tmp, error)))
        return failure();
    }
  }
  SmallVector<char> object;
  if (failed(cpu::emitHostObject(module, options.cpu, object, error)))
    return failure();

  SmallString<256> objectPath(tmp), libraryPath(tmp), headerPath(tmp),
      manifestPath(tmp);
  path::append(objectPath, name + ".o");
  path::append(libraryPath, "lib" + name + ".so");
  path::append(headerPath, name + ".h");
  path::append(manifestPath, "manifest.json");
  if (failed(writeFile(objectPath, StringRef(object.data(), object.size()),
                       error)) ||
      failed(writeFile(headerPath, headerText(name, plan, options.target, grad), error)))
    return failure();
  faultPoint("write");
  if (failed(linkSharedLibrary(objectPath, libraryPath, tmp, error)))
    return failure();
  std::string features = "+avx2,+fma,+f16c";
  if (options.cpu != cpu::kDefaultCpu)
    features = "cpu " + cpu::resolveCpuName(options.cpu);
  return writeFile(manifestPath, manifestJson(name, plan, options, features, grad),
                   error);
}

/// This machine's name, as temporary directories record it (pids are only
/// meaningful on the machine that wrote them).
std::string hostName() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || !buf[0])
    return "localhost";
  std::string s(buf);
  for (char &c : s)
    if (c == '-' || c == '/')
      c = '_';
  return s;
}

/// Removes temporary directories `DIR/STEM<host>-<pid>-*` (and their `.old`
/// siblings) left by ringc runs on this machine that no longer exist: a
/// killed ringc (kill -9) cannot clean up after itself. Directories of live
/// processes and of other machines are left alone.
void removeStaleTemporaries(StringRef dir, StringRef stem) {
  std::string mine = (stem + hostName() + "-").str();
  std::error_code ec;
  SmallVector<std::string> stale;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    StringRef name = path::filename(it->path());
    if (!name.consume_front(mine))
      continue;
    int pid;
    if (name.consumeInteger(10, pid) || !name.starts_with("-") || pid <= 0)
      continue;
    // kill(pid, 0) fails with ESRCH only when no such process exists.
    if (::kill(pid, 0) == 0 || errno != ESRCH)
      continue;
    stale.push_back(it->path());
  }
  for (const std::string &d : stale)
    (void)fs::remove_directories(d);
}

bool isCIdentifier(StringRef s) {
  if (s.empty() || !(llvm::isAlpha(s[0]) || s[0] == '_'))
    return false;
  return llvm::all_of(s, [](char c) { return llvm::isAlnum(c) || c == '_'; });
}

} // namespace

LogicalResult mlir::ring::writeArtifacts(ModuleOp module, StringRef dir,
                                         const ArtifactOptions &options,
                                         std::string &error) {
  SmallVector<func::FuncOp> perRank;
  bool grad = false;
  for (auto fn : module.getOps<func::FuncOp>()) {
    // The backward function (grad=1) belongs to the forward one.
    if (fn->hasAttr("ring.backward"))
      grad = true;
    else if (fn->hasAttr("ring.plan"))
      perRank.push_back(fn);
  }
  if (perRank.size() != 1) {
    error = "an artifact holds exactly one attention; the module has " +
            std::to_string(perRank.size()) +
            " per-rank functions with a ring.plan";
    return failure();
  }
  auto planAttr = perRank[0]->getAttrOfType<PlanAttr>("ring.plan");
  if (!planAttr) {
    error = "ring.plan of @" + perRank[0].getSymName().str() +
            " is not a #ring.plan attribute";
    return failure();
  }
  AttentionPlan plan = AttentionPlan::fromAttr(planAttr);
  std::string name = perRank[0].getSymName().str();
  if (!isCIdentifier(name)) {
    error = "the function name '" + name + "' is not a C identifier";
    return failure();
  }

  // Assemble beside DIR so that the final rename stays on one file system.
  SmallString<256> absDir(dir);
  if (std::error_code ec = fs::make_absolute(absDir)) {
    error = "cannot resolve '" + dir.str() + "': " + ec.message();
    return failure();
  }
  path::remove_dots(absDir, /*remove_dot_dot=*/true);
  StringRef parent = path::parent_path(absDir);
  if (!parent.empty() && !fs::is_directory(parent)) {
    if (std::error_code ec = fs::create_directories(parent)) {
      error = "cannot create '" + parent.str() + "': " + ec.message();
      return failure();
    }
  }
  std::string stem = ("." + path::filename(absDir) + ".ringc-tmp-").str();
  removeStaleTemporaries(parent.empty() ? StringRef(".") : parent, stem);
  SmallString<256> prefix(parent);
  path::append(prefix, stem + hostName() + "-" +
                           std::to_string(llvm::sys::Process::getProcessId()));
  SmallString<256> tmp;
  if (std::error_code ec = fs::createUniqueDirectory(prefix, tmp)) {
    error = "cannot create a temporary directory beside '" + dir.str() +
            "': " + ec.message();
    return failure();
  }
  if (failed(writeInto(module, tmp, name, plan, options, grad, error)) ||
      failed(installDirectory(tmp, absDir, error))) {
    (void)fs::remove_directories(tmp);
    return failure();
  }
  return success();
}
