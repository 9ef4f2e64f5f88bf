#===- workspace_sizes.py - a grad artifact's workspace sizes ---------------===#
#
# For test/Codegen/artifact-grad.test: loads libringrt and an artifact's
# library and prints NAME_workspace_bytes() and
# NAME_backward_workspace_bytes(), and whether the first is at least the
# second (one caller-owned workspace serves both entries).
#
# usage: workspace_sizes.py LIBRINGRT LIBNAME NAME
#===----------------------------------------------------------------------===#
import ctypes
import sys

ctypes.CDLL(sys.argv[1], mode=ctypes.RTLD_GLOBAL)
lib = ctypes.CDLL(sys.argv[2])
name = sys.argv[3]
fwd = getattr(lib, name + "_workspace_bytes")
bwd = getattr(lib, name + "_backward_workspace_bytes")
fwd.restype = bwd.restype = ctypes.c_int64
f, b = fwd(), bwd()
print(f"workspace: forward_entry={f} backward_entry={b} "
      f"{'shared' if f >= b > 0 else 'TOO SMALL'}")
