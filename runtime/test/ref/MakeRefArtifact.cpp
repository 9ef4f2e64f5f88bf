//===- MakeRefArtifact.cpp - write a reference artifact dir -----*- C++ -*-===//
//
// This file implements ringrt-make-ref-artifact, the test helper that turns
// the reference artifact library (RefAttention.cpp) into an artifact
// directory ring-run can run, the way ringc would write one:
//
//   ringrt-make-ref-artifact --out DIR --lib PATH --spec "K=V,..."
//                            [--wrong | --silent-rank1 | --lazy-rank1]
//                            [--compact-grid]
//
// It copies the library to DIR/libref.so and writes DIR/manifest.json with
// the entry point matching the spec's causal/balance, the grid
// [ring, head_groups, dim_slices] (axes 0, 1, 2; --compact-grid drops the
// size-1 axes, which then have axis -1), the local shapes and a plan hash
// (FNV-1a of the manifest text). --wrong selects the deliberately wrong
// entry point, --silent-rank1 the one whose ring rank 1 never shifts,
// --lazy-rank1 the one whose ring rank 1 never writes its outputs.
//
//===----------------------------------------------------------------------===//

#include "Manifest.h"
#include "ringrt/codegen_abi.h"

#include <cstring>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>

using namespace ringrun;

namespace {

int fail(const std::string &msg) {
  std::fprintf(stderr, "ringrt-make-ref-artifact: %s\n", msg.c_str());
  return 1;
}

uint64_t fnv1a(const std::string &s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

/// Writes `planHash` and `entry` into the library's ref_artifact_info
/// placeholder (magic, version 1, kind 1, hash 0, empty name; exactly one).
std::string stampArtifactInfo(std::string &bytes, uint64_t planHash,
                              const std::string &entry) {
  ringrt_artifact_info placeholder = {{'R', 'I', 'N', 'G', 'R', 'T', 'A', 'I'},
                                      RINGRT_ARTIFACT_FORMAT_VERSION,
                                      RINGRT_ENTRY_KIND_TENSOR_ABI,
                                      0,
                                      {0}};
  std::string key(reinterpret_cast<const char *>(&placeholder),
                  sizeof(placeholder));
  size_t at = bytes.find(key);
  if (at == std::string::npos || bytes.find(key, at + 1) != std::string::npos)
    return "expected exactly one ref_artifact_info placeholder";
  if (entry.size() >= sizeof(placeholder.entry))
    return "entry name too long";
  ringrt_artifact_info info = placeholder;
  info.plan_hash = planHash;
  std::memcpy(info.entry, entry.c_str(), entry.size() + 1);
  bytes.replace(at, sizeof(info), reinterpret_cast<const char *>(&info),
                sizeof(info));
  return "";
}

} // namespace

int main(int argc, char **argv) {
  std::string out, lib, specText;
  bool wrong = false, silent = false, lazy = false, compact = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if ((a == "--out" || a == "--lib" || a == "--spec") && i + 1 < argc)
      (a == "--out" ? out : a == "--lib" ? lib : specText) = argv[++i];
    else if (a == "--wrong")
      wrong = true;
    else if (a == "--silent-rank1")
      silent = true;
    else if (a == "--lazy-rank1")
      lazy = true;
    else if (a == "--compact-grid")
      compact = true;
    else
      return fail("unknown argument '" + a + "'");
  }
  if (out.empty() || lib.empty() || specText.empty())
    return fail("usage: --out DIR --lib PATH --spec K=V,... [--wrong | "
                "--silent-rank1 | --lazy-rank1] [--compact-grid]");

  Manifest m;
  std::string err;
  if (!parseSpecKeyValues(specText, m.spec, err))
    return fail("--spec: " + err);
  const AttentionSpec &s = m.spec;
  if (std::fabs(s.scale - 1.0 / std::sqrt(double(s.headDim))) > 1e-12)
    return fail("the reference artifact only implements scale = "
                "1/sqrt(head_dim)");
  m.name = "ref";
  m.library = "libref.so";
  m.target = "cpu";
  if (wrong || silent || lazy) {
    if (s.causal)
      return fail("the broken variants are only built for non-causal specs");
    m.entry = wrong    ? "ref_attention_full_nomerge"
              : silent ? "ref_attention_full_silent_rank1"
                       : "ref_attention_full_lazy_rank1";
  } else {
    m.entry = s.causal ? std::string("ref_attention_causal_") +
                             ringrt::layout::balanceName(s.balance)
                       : "ref_attention_full";
  }
  int64_t sizes[3] = {s.ring, s.headGroups, s.dimSlices};
  m.gridRank = 0;
  for (int r = 0; r < 3; ++r) {
    if (compact && sizes[r] == 1) {
      m.axisOfRole[r] = -1;
      continue;
    }
    m.axisOfRole[r] = m.gridRank;
    m.gridShape[m.gridRank++] = sizes[r];
  }
  if (m.gridRank == 0) {
    m.gridRank = 1;
    m.gridShape[0] = 1;
    m.axisOfRole[0] = 0;
  }
  m.local = deriveLocalShapes(s);
  m.planHash = fnv1a(writeManifest(m));

  ::mkdir(out.c_str(), 0755);
  std::ifstream in(lib, std::ios::binary);
  if (!in)
    return fail("cannot read " + lib);
  std::stringstream libBytes;
  libBytes << in.rdbuf();
  std::string bytes = libBytes.str();
  std::string why = stampArtifactInfo(bytes, m.planHash, m.entry);
  if (!why.empty())
    return fail(lib + ": " + why);
  std::ofstream libOut(out + "/libref.so", std::ios::binary | std::ios::trunc);
  libOut << bytes;
  std::ofstream manifest(out + "/manifest.json", std::ios::trunc);
  manifest << writeManifest(m);
  if (!libOut || !manifest)
    return fail("cannot write " + out);
  return 0;
}
