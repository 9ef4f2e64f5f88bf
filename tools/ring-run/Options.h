//===- Options.h - ring-run's command line ----------------------*- C++ -*-===//
//
// This file declares ring-run's options, parsed with llvm::cl. Every option
// lives in optionCategory(); parseOptions() unregisters every other option
// (libLLVM registers hundreds) so that ring-run accepts its own flags only.
// Options added in other files join with cl::cat(ringrun::optionCategory()).
//
//===----------------------------------------------------------------------===//

#ifndef RINGRUN_OPTIONS_H
#define RINGRUN_OPTIONS_H

#include "llvm/Support/CommandLine.h"

#include <cstdint>
#include <string>

namespace ringrun {

/// The category every ring-run option belongs to.
llvm::cl::OptionCategory &optionCategory();

/// The largest --iters.
constexpr int64_t kMaxIters = 1000000;
/// The largest |--input-scale|: q and k of magnitude 1e20 give dot products
/// of 1e40 * head_dim, which overflow float; beyond that the inputs
/// themselves stop being finite in f16/bf16 long before.
constexpr double kMaxInputScale = 1e30;

/// ring-run's options after parsing and validation.
struct Options {
  std::string dir;
  bool check = false, bench = false, help = false, profile = false;
  /// --stage-stats: with --bench, where each ring stage's time went.
  bool stageStats = false;
  std::string device = "cpu";
  std::string comm; ///< "mpi" or "nccl" (the device's default if not given)
  uint64_t seed = 0;
  std::string dumpDir;
  int64_t iters = 20;
  int64_t checkRows = 0; ///< 0: check every row
  double inputScale = 1.0;
  /// Varlen artifacts (Documents.h): --seqlens, --cu-seqlens and
  /// --report-balance.
  std::string seqlens, cuSeqlens;
  bool reportBalance = false;
  /// --calibrate -o FILE.json (Calibrate.h).
  bool calibrate = false;
  std::string output;
  /// Set by --calibrate: where runBench leaves the ms per iteration.
  double *benchMs = nullptr;
};

/// The text --help prints.
extern const char *const kHelp;

/// Parses argv with llvm::cl; returns "" or the error (unknown options,
/// values out of range, inconsistent combinations). Call once.
std::string parseOptions(int argc, char **argv, Options &out);

/// Parses `text` as an integer in [lo, hi] for option `name`; returns "" or
/// "--name: expected an integer in [lo, hi], got 'text'".
std::string parseIntInRange(const std::string &name, const std::string &text,
                            int64_t lo, int64_t hi, int64_t &out);

} // namespace ringrun

#endif // RINGRUN_OPTIONS_H
