# -*- Python -*-
# The ringc lit suite: IR tests (ring-opt + FileCheck), driver tests (ringc),
# and execution tests under mpirun.

import os
import shutil
import subprocess

import lit.formats
from lit.llvm import llvm_config

config.name = "RINGC"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["CMakeLists.txt", "README.md", "lit.cfg.py", "lit.site.cfg.py", "Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.ringc_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%examples", os.path.join(os.path.dirname(config.test_source_root), "examples")))
config.substitutions.append(("%ringrt_include", os.path.join(os.path.dirname(config.test_source_root), "runtime", "include")))
config.substitutions.append(("%ringc_libdir", os.path.join(config.ringc_obj_root, "lib")))
config.substitutions.append(("%ringc_obj_root", config.ringc_obj_root))
config.substitutions.append(("%ringc_src_root", os.path.dirname(config.test_source_root)))
# A private mount namespace (root): the install test hides the trees in one.
try:
    if subprocess.run(["unshare", "--mount", "true"], capture_output=True, timeout=20).returncode == 0:
        config.available_features.add("mount-namespace")
except (OSError, subprocess.TimeoutExpired):
    pass
# patchelf: scripts/gpu-bundle.sh relocates the bundle's binaries with it.
if shutil.which("patchelf"):
    config.available_features.add("patchelf")
# mpicc: building a user's host program against an artifact.
if shutil.which("mpicc"):
    config.available_features.add("mpicc")
llvm_config.with_system_environment(["HOME", "TMPDIR"])
llvm_config.use_default_substitutions()

llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.ringc_tools_dir, append_path=True)
tools = ["ring-opt", "ringc", "ring-run"]
llvm_config.add_tool_substitutions(tools, [config.ringc_tools_dir])

# libFuzzer targets (clang-22 + ASan/UBSan; fuzz/): bounded runs in test/Fuzz.
fuzz_dir = getattr(config, "ringc_fuzz_dir", "")
if fuzz_dir and all(os.path.exists(os.path.join(fuzz_dir, "ringc-fuzz-" + t))
                    for t in ("spec", "pipeline")):
    config.available_features.add("fuzzer")
    config.substitutions.append(("%fuzz_dir", fuzz_dir))
    config.substitutions.append(("%fuzz_corpus", os.path.join(
        os.path.dirname(config.test_source_root), "fuzz", "corpus")))
else:
    lit_config.note("fuzz targets not built (need clang-22 and libclang-rt-22-dev): test/Fuzz is UNSUPPORTED")

# ptxas (CUDA toolkit): the L3 rung of the verification ladder.
if config.ptxas and os.path.exists(config.ptxas):
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", config.ptxas))

# mpirun: as root OpenMPI needs --allow-run-as-root, and with more ranks than
# cores --oversubscribe and yielding when idle, or tests crawl.
if config.mpiexec and os.path.exists(config.mpiexec):
    config.available_features.add("mpi")
    mpirun = config.mpiexec
    try:
        version = subprocess.run([mpirun, "--version"], capture_output=True, text=True).stdout
    except OSError:
        version = ""
    if "Open MPI" in version or "OpenRTE" in version:
        mpirun += " --allow-run-as-root --oversubscribe --mca mpi_yield_when_idle 1 --bind-to none"
        # A private session directory per run (see the script for why).
        mpirun = os.path.join(config.test_source_root, "mpirun-isolated.sh") + " " + mpirun
    config.substitutions.append(("%mpirun", mpirun))
    config.environment["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none"

# A real GPU (L5): only where a CUDA driver and a device are present.
def has_cuda_gpu():
    smi = shutil.which("nvidia-smi")
    if not smi:
        return False
    try:
        return subprocess.run([smi, "-L"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False

if has_cuda_gpu():
    config.available_features.add("cuda-gpu")
    # NCCL refuses two ranks of one communicator on the same GPU, so
    # multi-rank NCCL tests need as many GPUs as ranks on this node.
    try:
        gpus = subprocess.run([shutil.which("nvidia-smi"), "-L"], capture_output=True,
                              text=True, timeout=20).stdout.count("GPU ")
    except (OSError, subprocess.TimeoutExpired):
        gpus = 0
    if gpus >= 2:
        config.available_features.add("cuda-gpus-2")
else:
    lit_config.note("no CUDA GPU found: tests that REQUIRE cuda-gpu are skipped (UNSUPPORTED)")

# x86 features of the running CPU that tests of the CPU kernels' ISA
# variants need (test/Execution/cpu-variants*.test).
try:
    with open("/proc/cpuinfo") as f:
        flags = next((l.split(":", 1)[1].split() for l in f if l.startswith("flags")), [])
except OSError:
    flags = []
for flag in ("avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512_bf16"):
    if flag in flags:
        config.available_features.add("cpu-" + flag.replace("_", ""))
