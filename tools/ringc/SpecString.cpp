//===- SpecString.cpp - the one-line `--spec` form of a spec ---*- C++ -*-===//
//
// This file implements parsing of `--spec "K=V,..."` and its rendering as a
// spec module. Only the syntax of each value is checked here; the semantic
// rules (divisibility, GQA, ...) are the dialect's, so both spec forms get
// the same diagnostics.
//
//===----------------------------------------------------------------------===//

#include "tools/ringc/SpecString.h"
#include "dialect/AttentionPlan.h"
#include "dialect/RingOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace llvm;
using namespace mlir::ring;
using mlir::ModuleOp;
using mlir::OwningOpRef;

namespace {
enum class Kind {
  PositiveInt,
  Bool,
  Balance,
  DType,
  Scale,
  Window,
  LayerOutput
};

struct KeyInfo {
  StringLiteral name;
  Kind kind;
  StringLiteral doc;
};

const KeyInfo kKeys[] = {
    {"batch", Kind::PositiveInt, "batch size B (default 1)"},
    {"heads", Kind::PositiveInt, "query heads Hq (required)"},
    {"kv_heads", Kind::PositiveInt,
     "key/value heads Hkv, dividing heads (default: heads; < heads is "
     "GQA, 1 is MQA)"},
    {"seq", Kind::PositiveInt, "sequence length L (required)"},
    {"head_dim", Kind::PositiveInt, "head dimension D (required)"},
    {"ring", Kind::PositiveInt,
     "ring size P: ranks splitting the sequence (default 1)"},
    {"head_groups", Kind::PositiveInt,
     "head groups n: ranks splitting the heads (default 1)"},
    {"dim_slices", Kind::PositiveInt,
     "dim slices m: ranks splitting head_dim (default 1)"},
    {"a2a", Kind::PositiveInt,
     "all-to-all (Ulysses) degree U (default 1): ranks splitting the "
     "sequence that an all-to-all turns into head splits; with ring > 1 "
     "the hierarchical plan (a2a inside, ring outside). U divides "
     "heads/head_groups"},
    {"ranks", Kind::PositiveInt,
     "with --explain / --auto, in place of the grid keys: the compiler "
     "chooses ring x a2a x head_groups x dim_slices = ranks"},
    {"causal", Kind::Bool, "0 or 1 (default 0)"},
    {"balance", Kind::Balance,
     "zigzag | striped | none (default: zigzag when causal, else none)"},
    {"dtype", Kind::DType, "bf16 | f16 | f32 (default bf16)"},
    {"scale", Kind::Scale,
     "softmax scale, a positive number in [1.2e-38, 2.3e38], where it and "
     "scale*log2(e) are normal fp32 numbers (default 1/sqrt(head_dim))"},
    {"grad", Kind::Bool,
     "0 or 1 (default 0); 1 also exports the backward pass, "
     "NAME_attention_backward"},
    {"d_model", Kind::PositiveInt,
     "model width: compiles the whole layer (X [B, seq, d_model] -> QKV "
     "projections -> ring attention -> output projection -> Y), entry "
     "NAME_layer; default: attention alone"},
    {"bias", Kind::Bool,
     "with d_model: 1 adds biases bq, bk, bv, bo to the projections "
     "(default 0)"},
    {"layer_output", Kind::LayerOutput,
     "with d_model: all_reduce (default; every head-group x dim-slice rank "
     "holds the Y of its ring rank's tokens) | reduce_scatter (each holds a "
     "contiguous share of those rows: Y sequence-sharded over all ranks)"},
    {"window_left", Kind::Window,
     "sliding window: tokens a query sees before itself, -1 = unlimited "
     "(default -1); combines with causal"},
    {"window_right", Kind::Window,
     "sliding window: tokens a query sees after itself, -1 = unlimited "
     "(default -1; no effect under causal=1)"},
    {"max_docs", Kind::PositiveInt,
     "packed variable-length documents (varlen): the most documents one "
     "call packs; the entry then takes cu_seqlens (max_docs + 1 int32 "
     "boundaries) and attention stays within each document (default: one "
     "sequence)"},
};

Error specError(const Twine &msg) {
  return createStringError(inconvertibleErrorCode(), msg);
}

std::string validKeys() {
  std::string s;
  raw_string_ostream os(s);
  interleaveComma(kKeys, os, [&](const KeyInfo &k) { os << k.name; });
  return s;
}
} // namespace

StringRef mlir::ring::specKeysHelp() {
  static std::string help = [] {
    std::string s;
    raw_string_ostream os(s);
    os << "Spec keys for --spec \"K=V,K=V,...\":\n";
    for (const KeyInfo &k : kKeys)
      os << "  " << left_justify(k.name, 12) << " " << k.doc << "\n";
    os << "The grid is ring x head_groups x dim_slices (x a2a when a2a > 1, "
          "the last axis); ranks = their product, at most "
       << kMaxRanks
       << " (ring-verify-schedule checks every rank's schedule).\n"
          "Shapes must fit 64-bit byte offsets in fp32.\n"
          "With ranks=N and --explain or --auto, the compiler chooses the "
          "grid and the causal layout (--cluster).\n\n";
    return s;
  }();
  return help;
}

Expected<AttentionSpec> mlir::ring::parseSpecString(StringRef text) {
  AttentionSpec spec;
  int64_t a2a = 1;
  StringSet<> seen;
  SmallVector<StringRef> items;
  text.split(items, ',', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
  if (items.empty())
    return specError("empty --spec; it needs at least heads, seq and "
                     "head_dim, e.g. --spec \"heads=8,seq=1024,head_dim=64\"");
  for (StringRef item : items) {
    item = item.trim();
    if (item.empty())
      continue;
    auto [key, value] = item.split('=');
    key = key.trim();
    value = value.trim();
    if (!item.contains('=') || value.empty())
      return specError("spec item '" + item +
                       "' is not of the form key=value");
    const KeyInfo *info = find_if(kKeys, [&](const KeyInfo &k) {
      return k.name == key;
    });
    if (info == std::end(kKeys)) {
      std::string hint;
      unsigned best = 3;
      for (const KeyInfo &k : kKeys) {
        unsigned d = key.edit_distance(k.name);
        if (d < best) {
          best = d;
          hint = ("; did you mean '" + k.name + "'?").str();
        }
      }
      return specError("unknown spec key '" + key + "'" + hint +
                       " Valid keys: " + validKeys());
    }
    if (!seen.insert(key).second)
      return specError("spec key '" + key + "' is given twice");

    switch (info->kind) {
    case Kind::PositiveInt: {
      int64_t v;
      if (value.getAsInteger(10, v) || v < 1)
        return specError("spec key '" + key +
                         "' needs a positive integer, got '" + value + "'");
      int64_t *slot = StringSwitch<int64_t *>(key)
                          .Case("batch", &spec.batch)
                          .Case("heads", &spec.heads)
                          .Case("kv_heads", &spec.kvHeads)
                          .Case("seq", &spec.seq)
                          .Case("head_dim", &spec.headDim)
                          .Case("ring", &spec.ring)
                          .Case("head_groups", &spec.headGroups)
                          .Case("dim_slices", &spec.dimSlices)
                          .Case("a2a", &a2a)
                          .Case("d_model", &spec.dModel)
                          .Case("max_docs", &spec.maxDocs)
                          .Case("ranks", &spec.ranks);
      *slot = v;
      break;
    }
    case Kind::Bool:
      if (value != "0" && value != "1")
        return specError("spec key '" + key + "' needs 0 or 1, got '" +
                         value + "'");
      (key == "grad" ? spec.grad : key == "bias" ? spec.bias : spec.causal) =
          value == "1";
      break;
    case Kind::Balance:
      if (value != "zigzag" && value != "striped" && value != "none")
        return specError("spec key 'balance' needs zigzag, striped or none, "
                         "got '" +
                         value + "'");
      spec.balance = value.str();
      break;
    case Kind::DType:
      if (value != "bf16" && value != "f16" && value != "f32")
        return specError("spec key 'dtype' needs bf16, f16 or f32, got '" +
                         value + "'");
      spec.dtype = value.str();
      break;
    case Kind::LayerOutput:
      if (value != "all_reduce" && value != "reduce_scatter")
        return specError("spec key 'layer_output' needs all_reduce or "
                         "reduce_scatter, got '" +
                         value + "'");
      spec.layerOutput = value.str();
      break;
    case Kind::Window: {
      int64_t v;
      if (value.getAsInteger(10, v) || v < -1)
        return specError("spec key '" + key +
                         "' needs a token count >= 0, or -1 for unlimited, "
                         "got '" +
                         value + "'");
      (key == "window_left" ? spec.windowLeft : spec.windowRight) = v;
      break;
    }
    case Kind::Scale: {
      double d;
      if (value.getAsDouble(d) || !std::isfinite(d) || d <= 0)
        return specError("spec key 'scale' needs a positive finite number, "
                         "got '" +
                         value + "'");
      spec.scale = d;
      break;
    }
    }
  }
  spec.a2a = a2a;
  if (spec.bias && !spec.dModel)
    return specError("spec key 'bias' needs d_model: biases belong to the "
                     "layer's projections");
  if (seen.contains("layer_output") && !spec.dModel)
    return specError("spec key 'layer_output' needs d_model: it says how the "
                     "layer's Y is reduced over the head-group x dim-slice "
                     "ranks, and attention alone has no Y");
  if (spec.dModel && spec.grad)
    return specError("spec keys 'd_model' and 'grad': the backward pass "
                     "through the projections is not built yet; give "
                     "grad=1 without d_model for the attention's gradients");
  if ((spec.windowLeft != -1 || spec.windowRight != -1) && spec.dModel)
    return specError("spec keys 'window_left'/'window_right' and 'd_model': "
                     "the sliding window is applied by the attention's ring "
                     "schedule, and the layer op has no window yet; give no "
                     "d_model with a window");
  if (spec.maxDocs && spec.dModel)
    return specError("spec keys 'max_docs' and 'd_model': packed documents "
                     "are masked by the attention's ring schedule, and the "
                     "layer op has no documents yet; give no d_model with "
                     "max_docs");
  if (spec.dModel && a2a > 1)
    return specError("spec keys 'd_model' and 'a2a': the whole layer runs on "
                     "ring x head_groups x dim_slices grids only so far; give "
                     "a2a=1 with d_model, or compile the attention alone "
                     "with a2a");
  if (spec.ranks)
    for (StringRef grid : {"ring", "a2a", "head_groups", "dim_slices"})
      if (seen.contains(grid))
        return specError(Twine("spec key 'ranks' replaces the grid keys "
                               "(ring, a2a, head_groups, dim_slices); '") +
                         grid + "' is given too");
  for (StringRef required : {"heads", "seq", "head_dim"})
    if (!seen.contains(required))
      return specError(Twine("spec key '") + required +
                       "' is required (required keys: heads, seq, head_dim)");
  return spec;
}

/// The layer form of renderSpecModule (d_model > 0): X [B, L, d_model] and
/// the weights, sharded on the same ring x head_groups x dim_slices grid.
static std::string renderLayerModule(const AttentionSpec &spec,
                                     StringRef funcName) {
  std::string s;
  raw_string_ostream os(s);
  auto tensor = [&](ArrayRef<int64_t> shape) {
    std::string t = "tensor<";
    for (int64_t d : shape)
      t += std::to_string(d) + "x";
    return t + spec.dtype + ">";
  };
  int64_t q = spec.heads * spec.headDim;
  int64_t kv = spec.effectiveKvHeads() * spec.headDim;
  int64_t dm = spec.dModel;
  std::string xT = tensor({spec.batch, spec.seq, dm});
  std::string wqT = tensor({dm, q}), wkT = tensor({dm, kv}),
              woT = tensor({q, dm});
  std::string lseT = "tensor<" + std::to_string(spec.batch) + "x" +
                     std::to_string(spec.heads) + "x" +
                     std::to_string(spec.seq) + "xf32>";
  os << "shard.grid @cluster(shape = " << spec.ring << "x" << spec.headGroups
     << "x" << spec.dimSlices << ")\n";
  os << "func.func @" << funcName << "(%x: " << xT << ", %wq: " << wqT
     << ", %wk: " << wkT << ", %wv: " << wkT << ", %wo: " << woT;
  if (spec.bias)
    os << ", %bq: " << tensor({q}) << ", %bk: " << tensor({kv})
       << ", %bv: " << tensor({kv}) << ", %bo: " << tensor({dm});
  os << ") -> (" << xT << ", " << lseT << ") {\n";
  // X splits its sequence over axis 0; the weights their heads over axis 1
  // and each head's dim over axis 2 (RingLayerOps.td).
  os << "  %sx = shard.sharding @cluster split_axes = [[], [0]] : "
        "!shard.sharding\n";
  os << "  %sw = shard.sharding @cluster split_axes = [[], [1, 2]] : "
        "!shard.sharding\n";
  os << "  %so = shard.sharding @cluster split_axes = [[1, 2]] : "
        "!shard.sharding\n";
  os << "  %x1 = shard.shard %x to %sx : " << xT << "\n";
  os << "  %wq1 = shard.shard %wq to %sw : " << wqT << "\n";
  os << "  %wk1 = shard.shard %wk to %sw : " << wkT << "\n";
  os << "  %wv1 = shard.shard %wv to %sw : " << wkT << "\n";
  os << "  %wo1 = shard.shard %wo to %so : " << woT << "\n";
  if (spec.bias) {
    os << "  %sn = shard.sharding @cluster split_axes = [[]] : "
          "!shard.sharding\n";
    os << "  %bq1 = shard.shard %bq to %so : " << tensor({q}) << "\n";
    os << "  %bk1 = shard.shard %bk to %so : " << tensor({kv}) << "\n";
    os << "  %bv1 = shard.shard %bv to %so : " << tensor({kv}) << "\n";
    os << "  %bo1 = shard.shard %bo to %sn : " << tensor({dm}) << "\n";
  }
  os << "  %y, %lse = ring.attention_layer %x1, %wq1, %wk1, %wv1, %wo1";
  if (spec.bias)
    os << " bias(%bq1, %bk1, %bv1, %bo1 : " << tensor({q}) << ", "
       << tensor({kv}) << ", " << tensor({kv}) << ", " << tensor({dm}) << ")";
  os << " heads = " << spec.heads;
  if (spec.causal)
    os << " mask<causal>";
  os << " balance<" << spec.effectiveBalance() << ">";
  if (spec.layerOutput != "all_reduce")
    os << " output<" << spec.layerOutput << ">";
  os << " : " << xT << ", " << wqT << ", " << wkT << ", " << wkT << ", "
     << woT << " -> " << xT << ", " << lseT << "\n";
  os << "  return %y, %lse : " << xT << ", " << lseT << "\n}\n";
  return s;
}

std::string mlir::ring::renderSpecModule(const AttentionSpec &spec,
                                         StringRef funcName) {
  if (spec.dModel)
    return renderLayerModule(spec, funcName);
  std::string s;
  raw_string_ostream os(s);
  auto tensor = [&](int64_t h, StringRef elt) {
    std::string t;
    raw_string_ostream ts(t);
    ts << "tensor<" << spec.batch << "x" << h << "x" << spec.seq << "x"
       << spec.headDim << "x" << elt << ">";
    return t;
  };
  std::string qT = tensor(spec.heads, spec.dtype);
  std::string kvT = tensor(spec.effectiveKvHeads(), spec.dtype);
  std::string lseT = "tensor<" + std::to_string(spec.batch) + "x" +
                     std::to_string(spec.heads) + "x" +
                     std::to_string(spec.seq) + "xf32>";
  // Axis 0 is the ring, 1 the head groups, 2 the dim slices; sequence (dim 2)
  // splits over axis 0, heads (dim 1) over axis 1, head_dim (dim 3) over 2.
  // With a2a > 1, axis 3 is the all-to-all axis: the last, fastest-varying
  // one, so that an a2a group is consecutive world ranks (one node), and
  // the sequence splits over [0, 3] (ring major).
  bool a2a = spec.a2a > 1;
  os << "shard.grid @cluster(shape = " << spec.ring << "x" << spec.headGroups
     << "x" << spec.dimSlices;
  if (a2a)
    os << "x" << spec.a2a;
  os << ")\n";
  os << "func.func @" << funcName << "(%q: " << qT << ", %k: " << kvT
     << ", %v: " << kvT << ") -> (" << qT << ", " << lseT << ") {\n";
  os << "  %s = shard.sharding @cluster split_axes = [[], [1], "
     << (a2a ? "[0, 3]" : "[0]") << ", [2]] : !shard.sharding\n";
  os << "  %q1 = shard.shard %q to %s : " << qT << "\n";
  os << "  %k1 = shard.shard %k to %s : " << kvT << "\n";
  os << "  %v1 = shard.shard %v to %s : " << kvT << "\n";
  os << "  %o, %lse = ring.attention %q1, %k1, %v1";
  if (spec.causal)
    os << " mask<causal>";
  os << " balance<" << spec.effectiveBalance() << ">";
  if (spec.windowLeft != -1 || spec.windowRight != -1)
    os << " window<left = " << spec.windowLeft
       << ", right = " << spec.windowRight << ">";
  if (spec.grad)
    os << " grad";
  if (a2a)
    os << " a2a_axis(3)";
  if (spec.maxDocs)
    os << " max_docs(" << spec.maxDocs << ")";
  os << " : " << qT << ", " << kvT << ", " << kvT << " -> " << qT << ", "
     << lseT << "\n";
  os << "  return %o, %lse : " << qT << ", " << lseT << "\n}\n";
  return s;
}

OwningOpRef<ModuleOp> mlir::ring::parseSpecModule(const AttentionSpec &spec,
                                                  StringRef funcName,
                                                  SourceMgr &sourceMgr,
                                                  MLIRContext *context,
                                                  StringRef bufferName) {
  // The buffer in `sourceMgr` lets a diagnostic handler on it show the
  // line; the text is parsed by name, since it need not be the main file.
  std::string text = renderSpecModule(spec, funcName);
  sourceMgr.AddNewSourceBuffer(MemoryBuffer::getMemBufferCopy(text, bufferName),
                               SMLoc());
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(
      text, ParserConfig(context), bufferName);
  if (!module || !spec.scale)
    return module;
  Builder b(context);
  module->walk([&](AttentionOp op) {
    op.setScaleAttr(b.getF64FloatAttr(*spec.scale));
  });
  module->walk([&](AttentionLayerOp op) {
    op.setScaleAttr(b.getF64FloatAttr(*spec.scale));
  });
  if (failed(verify(*module)))
    return nullptr;
  return module;
}
