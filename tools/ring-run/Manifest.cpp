//===- Manifest.cpp - ringc artifact manifests ------------------*- C++ -*-===//
//
// This file implements reading, validating and writing manifest.json, the
// derivation of local shapes from an attention spec, and the "K=V,..." spec
// syntax of `ringc --spec`.
//
//===----------------------------------------------------------------------===//

#include "Manifest.h"
#include "Json.h"

#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace ringrun;
using ringrt::layout::Balance;

bool ringrun::parseDType(const std::string &s, int32_t &out) {
  if (s == "f32")
    out = RINGRT_F32;
  else if (s == "bf16")
    out = RINGRT_BF16;
  else if (s == "f16")
    out = RINGRT_F16;
  else
    return false;
  return true;
}

std::string AttentionSpec::validate() const {
  auto positive = [](int64_t v, const char *name) -> std::string {
    return v >= 1 ? "" : std::string(name) + " must be >= 1";
  };
  for (auto r : {positive(batch, "batch"), positive(heads, "heads"),
                 positive(kvHeads, "kv_heads"), positive(seq, "seq"),
                 positive(headDim, "head_dim"), positive(ring, "ring"),
                 positive(headGroups, "head_groups"),
                 positive(dimSlices, "dim_slices"), positive(a2a, "a2a")})
    if (!r.empty())
      return r;
  if (windowLeft < -1 || windowRight < -1)
    return "window_left and window_right must be >= -1 (-1 = unlimited)";
  auto divides = [](int64_t a, int64_t b, const char *an, const char *bn) {
    return b % a == 0 ? std::string()
                      : std::string(bn) + " " + std::to_string(b) +
                            " is not divisible by " + an + " " +
                            std::to_string(a);
  };
  for (auto r : {divides(kvHeads, heads, "kv_heads", "heads"),
                 divides(headGroups, heads, "head_groups", "heads"),
                 divides(headGroups, kvHeads, "head_groups", "kv_heads"),
                 divides(dimSlices, headDim, "dim_slices", "head_dim"),
                 divides(a2a, heads / headGroups, "a2a",
                         "heads per head group")})
    if (!r.empty())
      return r;
  if (a2a > 1) {
    int64_t hkv = kvHeads / headGroups;
    if (hkv % a2a != 0 && a2a % hkv != 0)
      return "a2a " + std::to_string(a2a) +
             " neither divides nor is a multiple of the " +
             std::to_string(hkv) + " kv heads per head group";
  }
  // Element counts of the global tensors must fit in int64 with room for
  // byte sizes: every later size computation relies on it.
  for (int64_t h : {heads, kvHeads}) {
    int64_t n = 0;
    if (__builtin_mul_overflow(batch, h, &n) ||
        __builtin_mul_overflow(n, seq, &n) ||
        __builtin_mul_overflow(n, headDim, &n) || n > (int64_t(1) << 56))
      return "batch x heads x seq x head_dim (" + std::to_string(batch) +
             " x " + std::to_string(h) + " x " + std::to_string(seq) + " x " +
             std::to_string(headDim) + ") exceeds 2^56 elements";
  }
  // The kernels compute in fp32: a scale beyond FLT_MAX is inf there.
  if (!(scale > 0) || !(scale <= 3.4028234663852886e38))
    return "scale must be a positive number no larger than FLT_MAX "
           "(3.4028234663852886e38)";
  return "";
}

LocalShapes ringrun::deriveLocalShapes(const AttentionSpec &s) {
  LocalShapes l;
  int64_t Ll = s.rankSeq(), Dl = s.headDim / s.dimSlices;
  int64_t Hq = s.heads / s.headGroups, Hkv = s.kvHeads / s.headGroups;
  int64_t q[4] = {s.batch, Hq, Ll, Dl}, kv[4] = {s.batch, Hkv, Ll, Dl};
  for (int i = 0; i < 4; ++i) {
    l.q[i] = l.o[i] = q[i];
    l.k[i] = l.v[i] = kv[i];
  }
  l.lse[0] = s.batch;
  l.lse[1] = Hq;
  l.lse[2] = Ll;
  return l;
}

namespace {

using llvm::json::Value;

/// Typed, path-named access to a JSON object.
class Reader {
public:
  Reader(std::string &error) : error(error) {}

  const Value *member(const Value &obj, const std::string &path,
                      const std::string &key) {
    const Value *v = obj.getAsObject() ? obj.getAsObject()->get(key) : nullptr;
    if (!v)
      error = path + key + ": missing";
    return v;
  }

  bool string(const Value &obj, const std::string &path,
              const std::string &key, std::string &out) {
    const Value *v = member(obj, path, key);
    if (!v)
      return false;
    std::optional<llvm::StringRef> s = v->getAsString();
    if (!s)
      return typeError(path + key, "a string", *v);
    out = s->str();
    return true;
  }

  bool integer(const Value &obj, const std::string &path,
               const std::string &key, int64_t &out) {
    const Value *v = member(obj, path, key);
    return v && integerValue(*v, path + key, out);
  }

  /// An integer is a JSON number with no fractional part and |x| < 2^62
  /// (exactly representable, and far from int64's edge before the checked
  /// products of AttentionSpec::validate), or a boolean (0/1).
  bool integerValue(const Value &v, const std::string &name, int64_t &out) {
    if (std::optional<bool> b = v.getAsBoolean()) {
      out = *b;
      return true;
    }
    std::optional<int64_t> i = v.getAsInteger();
    std::optional<double> d = v.getAsNumber();
    if (!i || !d)
      return typeError(name, "an integer", v);
    if (std::fabs(*d) >= 4.6e18)
      return typeError(name, "an integer of magnitude below 2^62", v);
    out = *i;
    return true;
  }

  bool number(const Value &obj, const std::string &path,
              const std::string &key, double &out) {
    const Value *v = member(obj, path, key);
    if (!v)
      return false;
    std::optional<double> d = v->getAsNumber();
    if (!d)
      return typeError(path + key, "a number", *v);
    out = *d;
    return true;
  }

  bool intArray(const Value &obj, const std::string &path,
                const std::string &key, int64_t *out, int minLen, int maxLen,
                int *len) {
    const Value *v = member(obj, path, key);
    if (!v)
      return false;
    std::string expected =
        minLen == maxLen
            ? "an array of " + std::to_string(minLen) + " integers"
            : "an array of " + std::to_string(minLen) + " to " +
                  std::to_string(maxLen) + " integers";
    const llvm::json::Array *a = v->getAsArray();
    if (!a || static_cast<int>(a->size()) < minLen ||
        static_cast<int>(a->size()) > maxLen)
      return typeError(path + key, expected.c_str(), *v);
    for (size_t i = 0; i < a->size(); ++i)
      if (!integerValue((*a)[i], path + key + "[" + std::to_string(i) + "]",
                        out[i]))
        return false;
    if (len)
      *len = static_cast<int>(a->size());
    return true;
  }

  const Value *object(const Value &obj, const std::string &path,
                      const std::string &key) {
    const Value *v = member(obj, path, key);
    if (v && !v->getAsObject()) {
      typeError(path + key, "an object", *v);
      return nullptr;
    }
    return v;
  }

  bool typeError(const std::string &name, const char *expected,
                 const Value &got) {
    const llvm::json::Array *a = got.getAsArray();
    std::string what =
        a ? "an array of " + std::to_string(a->size())
        : got.kind() == Value::Number
            ? "the number " + llvm::formatv("{0}", got).str()
            : std::string("a ") + jsonKindName(got);
    error = name + ": expected " + expected + ", got " + what;
    return false;
  }

  std::string &error;
};

std::string shapeString(const int64_t *s, int n) {
  std::string out = "[";
  for (int i = 0; i < n; ++i)
    out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}

} // namespace

bool ringrun::parseManifest(const std::string &text, Manifest &m,
                            std::string &error) {
  Value root(nullptr);
  if (!parseJson(text, root, error))
    return false;
  if (!root.getAsObject()) {
    error = "expected a JSON object at the top level";
    return false;
  }
  Reader rd(error);
  if (!rd.string(root, "", "format", m.format))
    return false;
  if (m.format != "ringc-artifact-1") {
    error = "format: expected \"ringc-artifact-1\", got \"" + m.format + "\"";
    return false;
  }
  if (!rd.string(root, "", "name", m.name) ||
      !rd.string(root, "", "entry", m.entry) ||
      !rd.string(root, "", "library", m.library) ||
      !rd.string(root, "", "target", m.target))
    return false;
  if (root.getAsObject()->get("backward_entry") &&
      !rd.string(root, "", "backward_entry", m.backwardEntry))
    return false;

  const Value *spec = rd.object(root, "", "spec");
  if (!spec)
    return false;
  AttentionSpec &s = m.spec;
  int64_t causal = 0;
  std::string balance, dtype;
  if (!rd.integer(*spec, "spec.", "batch", s.batch) ||
      !rd.integer(*spec, "spec.", "heads", s.heads) ||
      !rd.integer(*spec, "spec.", "kv_heads", s.kvHeads) ||
      !rd.integer(*spec, "spec.", "seq", s.seq) ||
      !rd.integer(*spec, "spec.", "head_dim", s.headDim) ||
      !rd.integer(*spec, "spec.", "ring", s.ring) ||
      !rd.integer(*spec, "spec.", "head_groups", s.headGroups) ||
      !rd.integer(*spec, "spec.", "dim_slices", s.dimSlices) ||
      !rd.integer(*spec, "spec.", "causal", causal) ||
      !rd.string(*spec, "spec.", "balance", balance) ||
      !rd.string(*spec, "spec.", "dtype", dtype) ||
      !rd.number(*spec, "spec.", "scale", s.scale))
    return false;
  // "a2a" is optional (artifacts without an all-to-all axis omit it).
  if (spec->getAsObject()->get("a2a") &&
      !rd.integer(*spec, "spec.", "a2a", s.a2a))
    return false;
  s.causal = causal != 0;
  // A whole-layer artifact (optional keys).
  if (spec->getAsObject()->get("d_model")) {
    int64_t bias = 0;
    if (!rd.integer(*spec, "spec.", "d_model", s.dModel))
      return false;
    if (spec->getAsObject()->get("bias") &&
        !rd.integer(*spec, "spec.", "bias", bias))
      return false;
    if (s.dModel < 1 || (bias != 0 && bias != 1)) {
      error = "spec.d_model must be >= 1 and spec.bias 0 or 1";
      return false;
    }
    s.bias = bias == 1;
    if (spec->getAsObject()->get("layer_output")) {
      std::string out;
      if (!rd.string(*spec, "spec.", "layer_output", out))
        return false;
      if (out != "all_reduce" && out != "reduce_scatter") {
        error = "spec.layer_output: expected all_reduce or reduce_scatter, "
                "got \"" + out + "\"";
        return false;
      }
      s.scatterOutput = out == "reduce_scatter";
    }
  }
  // max_docs only in varlen artifacts (their entries take cu_seqlens).
  if (spec->getAsObject() && spec->getAsObject()->get("max_docs")) {
    if (!rd.integer(*spec, "spec.", "max_docs", s.maxDocs))
      return false;
    if (s.maxDocs < 1) {
      error = "spec.max_docs must be >= 1, got " + std::to_string(s.maxDocs);
      return false;
    }
  }
  // The window keys are present only in artifacts with a window.
  for (auto [key, slot] : {std::pair<const char *, int64_t *>{
                               "window_left", &s.windowLeft},
                           {"window_right", &s.windowRight}})
    if (spec->getAsObject() && spec->getAsObject()->get(key) &&
        !rd.integer(*spec, "spec.", key, *slot))
      return false;
  if (!ringrt::layout::parseBalance(balance, s.balance)) {
    error = "spec.balance: expected zigzag, striped or none, got \"" +
            balance + "\"";
    return false;
  }
  if (!parseDType(dtype, s.dtype)) {
    error = "spec.dtype: expected bf16, f16 or f32, got \"" + dtype + "\"";
    return false;
  }
  std::string why = s.validate();
  if (!why.empty()) {
    error = "spec: " + why;
    return false;
  }

  const Value *grid = rd.object(root, "", "grid");
  if (!grid)
    return false;
  if (!rd.intArray(*grid, "grid.", "shape", m.gridShape, 1, 4, &m.gridRank))
    return false;
  const char *axisKeys[3] = {"ring_axis", "head_group_axis", "dim_slice_axis"};
  const int64_t roleSizes[3] = {s.ring, s.headGroups, s.dimSlices};
  bool used[4] = {false, false, false, false};
  // The optional a2a axis first, so that the roles below cannot reuse it.
  if (grid->getAsObject()->get("a2a_axis")) {
    int64_t a = -1;
    if (!rd.integer(*grid, "grid.", "a2a_axis", a))
      return false;
    if (a < 0 || a >= m.gridRank || m.gridShape[a] != s.a2a) {
      error = "grid.a2a_axis: " + std::to_string(a) +
              " is not an axis of grid.shape " +
              shapeString(m.gridShape, m.gridRank) + " of size spec.a2a = " +
              std::to_string(s.a2a);
      return false;
    }
    used[a] = true;
    m.a2aAxis = static_cast<int32_t>(a);
  } else if (s.a2a != 1) {
    error = "grid.a2a_axis: missing, but spec.a2a is " + std::to_string(s.a2a);
    return false;
  }
  for (int r = 0; r < 3; ++r) {
    int64_t a = -1;
    if (!rd.integer(*grid, "grid.", axisKeys[r], a))
      return false;
    if (a < -1 || a >= m.gridRank || (a >= 0 && used[a])) {
      error = std::string("grid.") + axisKeys[r] + ": " + std::to_string(a) +
              " is not -1 or an unused axis of grid.shape " +
              shapeString(m.gridShape, m.gridRank);
      return false;
    }
    int64_t size = a < 0 ? 1 : m.gridShape[a];
    if (size != roleSizes[r]) {
      error = std::string("grid.") + axisKeys[r] + ": axis " +
              std::to_string(a) + " has size " + std::to_string(size) +
              " but the spec says " + std::to_string(roleSizes[r]);
      return false;
    }
    if (a >= 0)
      used[a] = true;
    m.axisOfRole[r] = static_cast<int32_t>(a);
  }
  for (int a = 0; a < m.gridRank; ++a)
    if (!used[a] && m.gridShape[a] != 1) {
      error = "grid.shape: axis " + std::to_string(a) + " has size " +
              std::to_string(m.gridShape[a]) + " but plays no role";
      return false;
    }

  const Value *local = rd.object(root, "", "local");
  if (!local)
    return false;
  LocalShapes want = deriveLocalShapes(s);
  struct {
    const char *key;
    int64_t *got;
    const int64_t *want;
    int rank;
  } tensors[] = {{"q", m.local.q, want.q, 4},
                 {"k", m.local.k, want.k, 4},
                 {"v", m.local.v, want.v, 4},
                 {"o", m.local.o, want.o, 4},
                 {"lse", m.local.lse, want.lse, 3}};
  for (auto &t : tensors) {
    if (!rd.intArray(*local, "local.", t.key, t.got, t.rank, t.rank, nullptr))
      return false;
    for (int i = 0; i < t.rank; ++i)
      if (t.got[i] != t.want[i]) {
        error = std::string("local.") + t.key + ": " +
                shapeString(t.got, t.rank) + " disagrees with the spec, " +
                "which implies " + shapeString(t.want, t.rank);
        return false;
      }
  }

  std::string hash;
  if (!rd.string(root, "", "plan_hash", hash))
    return false;
  char *end = nullptr;
  m.planHash = std::strtoull(hash.c_str(), &end, 16);
  if (hash.size() != 16 || *end != '\0') {
    error = "plan_hash: expected 16 hex digits, got \"" + hash + "\"";
    return false;
  }
  return true;
}

bool ringrun::loadManifest(const std::string &path, Manifest &out,
                           std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open";
    return false;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  if (!parseManifest(buf.str(), out, error)) {
    error = path + ": " + error;
    return false;
  }
  return true;
}

std::string ringrun::writeManifest(const Manifest &m) {
  const AttentionSpec &s = m.spec;
  char scale[64], hash[32];
  std::snprintf(scale, sizeof(scale), "%.17g", s.scale);
  std::snprintf(hash, sizeof(hash), "%016llx",
                static_cast<unsigned long long>(m.planHash));
  std::ostringstream os;
  os << "{\n  \"format\": \"ringc-artifact-1\",\n"
     << "  \"name\": \"" << m.name << "\",\n"
     << "  \"entry\": \"" << m.entry << "\",\n"
     << (m.backwardEntry.empty()
             ? std::string()
             : "  \"backward_entry\": \"" + m.backwardEntry + "\",\n")
     << "  \"library\": \"" << m.library << "\",\n"
     << "  \"target\": \"" << m.target << "\",\n"
     << "  \"spec\": {\"batch\": " << s.batch << ", \"heads\": " << s.heads
     << ", \"kv_heads\": " << s.kvHeads << ", \"seq\": " << s.seq
     << ", \"head_dim\": " << s.headDim << ", \"ring\": " << s.ring
     << ", \"head_groups\": " << s.headGroups
     << ", \"dim_slices\": " << s.dimSlices
     << (m.a2aAxis >= 0 ? ", \"a2a\": " + std::to_string(s.a2a) : "")
     << ", \"causal\": " << (s.causal ? 1 : 0);
  if (s.hasWindow())
    os << ", \"window_left\": " << s.windowLeft
       << ", \"window_right\": " << s.windowRight;
  if (s.hasDocuments())
    os << ", \"max_docs\": " << s.maxDocs;
  os << ", \"balance\": \""
     << ringrt::layout::balanceName(s.balance) << "\", \"dtype\": \""
     << ringrt_dtype_name(s.dtype) << "\", \"scale\": " << scale << "},\n"
     << "  \"grid\": {\"shape\": " << shapeString(m.gridShape, m.gridRank)
     << ", \"ring_axis\": " << m.axisOfRole[0]
     << ", \"head_group_axis\": " << m.axisOfRole[1]
     << ", \"dim_slice_axis\": " << m.axisOfRole[2]
     << (m.a2aAxis >= 0 ? ", \"a2a_axis\": " + std::to_string(m.a2aAxis)
                        : "")
     << "},\n"
     << "  \"local\": {\"q\": " << shapeString(m.local.q, 4)
     << ", \"k\": " << shapeString(m.local.k, 4)
     << ", \"v\": " << shapeString(m.local.v, 4)
     << ", \"o\": " << shapeString(m.local.o, 4)
     << ", \"lse\": " << shapeString(m.local.lse, 3) << "},\n"
     << "  \"plan_hash\": \"" << hash << "\"\n}\n";
  return os.str();
}

bool ringrun::parseSpecKeyValues(const std::string &text, AttentionSpec &s,
                                 std::string &error) {
  s = AttentionSpec();
  bool haveKv = false, haveBalance = false, haveScale = false;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty())
      continue;
    size_t eq = item.find('=');
    if (eq == std::string::npos) {
      error = "spec item '" + item + "' is not KEY=VALUE";
      return false;
    }
    std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    if (key == "balance") {
      haveBalance = true;
      if (!ringrt::layout::parseBalance(value, s.balance)) {
        error = "balance: expected zigzag, striped or none, got '" + value +
                "'";
        return false;
      }
      continue;
    }
    if (key == "dtype") {
      if (!parseDType(value, s.dtype)) {
        error = "dtype: expected bf16, f16 or f32, got '" + value + "'";
        return false;
      }
      continue;
    }
    static const char *const kIntegerKeys[] = {
        "batch",      "heads",       "kv_heads",    "seq",
        "head_dim",   "ring",        "head_groups", "dim_slices",
        "causal",     "window_left", "window_right"};
    bool known = key == "scale";
    for (const char *k : kIntegerKeys)
      known = known || key == k;
    if (!known) {
      error = "unknown spec key '" + key + "'";
      return false;
    }
    char *end = nullptr;
    if (key == "scale") {
      s.scale = std::strtod(value.c_str(), &end);
      haveScale = true;
      if (end == value.c_str() || *end) {
        error = "scale: '" + value + "' is not a number";
        return false;
      }
      continue;
    }
    long long v = std::strtoll(value.c_str(), &end, 10);
    if (value.empty() || *end) {
      error = key + ": '" + value + "' is not an integer";
      return false;
    }
    if (key == "batch")
      s.batch = v;
    else if (key == "heads")
      s.heads = v;
    else if (key == "kv_heads")
      s.kvHeads = v, haveKv = true;
    else if (key == "seq")
      s.seq = v;
    else if (key == "head_dim")
      s.headDim = v;
    else if (key == "ring")
      s.ring = v;
    else if (key == "head_groups")
      s.headGroups = v;
    else if (key == "dim_slices")
      s.dimSlices = v;
    else if (key == "window_left")
      s.windowLeft = v;
    else if (key == "window_right")
      s.windowRight = v;
    else
      s.causal = v != 0;
  }
  if (!haveKv)
    s.kvHeads = s.heads;
  if (!haveBalance)
    s.balance = s.causal ? Balance::Zigzag : Balance::None;
  if (!haveScale)
    s.scale = 1.0 / std::sqrt(static_cast<double>(s.headDim));
  error = s.validate();
  return error.empty();
}
