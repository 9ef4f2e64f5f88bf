// RUN: ring-opt %S/Inputs/p2-causal-zigzag-bf16.mlir --convert-ring-to-cpu | FileCheck %s
// RUN: ring-opt %S/Inputs/p2-causal-zigzag-bf16.mlir --convert-ring-to-cpu | FileCheck %s --check-prefix=KERNEL
// RUN: ring-opt %S/Inputs/p2-causal-zigzag-bf16.mlir --convert-ring-to-cpu | FileCheck %s --check-prefix=FINAL
// RUN: ring-opt %S/Inputs/p2-causal-zigzag-bf16.mlir --convert-ring-to-cpu | FileCheck %s --check-prefix=MERGE
// RUN: ring-opt %S/Inputs/p2-causal-zigzag-bf16.mlir --convert-ring-to-cpu | FileCheck %s --check-prefix=PERRANK
// RUN: ring-opt %S/Inputs/p1-none-f32.mlir --convert-ring-to-cpu | FileCheck %s --check-prefix=TAIL

// The overlapped P = 2 causal zigzag program lowers to one private kernel
// per block_attention variant (the diagonal block under the causal mask and
// the two case-selected off-diagonal blocks), vectorised over key tiles of
// vector<16xf32> with FMAs, with bf16 widened to f32, the causal tile skip
// (a min reduction over the key positions) and the online softmax.

// CHECK-DAG: func.func private @ringrt_check_tensor(!llvm.ptr, !llvm.ptr, i32, i32, !llvm.ptr, i64) -> i32
// CHECK-DAG: func.func private @ringrt_cg_coord(!llvm.ptr, i32) -> i32
// CHECK-DAG: func.func private @ringrt_cg_shift_start(!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i32, i32, !llvm.ptr)
// CHECK-DAG: func.func private @ringrt_cg_shift_wait(!llvm.ptr, !llvm.ptr, !llvm.ptr)

// Three block_attention variants (the diagonal block under the causal mask
// and the two case-selected off-diagonal blocks of stage 1).
// Their scratch buffers (Kt, Vw, query rows, accumulators, row sums and,
// under a mask, key positions) are trailing arguments: the per-rank function
// passes views of its workspace, so a kernel call allocates nothing.
// CHECK-COUNT-3: func.func private @ring_cpu_block_attention_{{[0-9]+}}(%arg0: memref<1x4x32x32xbf16>, %arg1: memref<1x2x32x32xbf16>, %arg2: memref<1x2x32x32xbf16>, %arg3: memref<1x4x32x32xf32>, %arg4: memref<1x4x32xf32>, %arg5: index, %arg6: index, %arg7: memref<{{[12]}}x32x16xf32>, %arg8: memref<{{16|32}}x32xf32>, %arg9: memref<{{[0-9]+}}x32xf32>, %arg10: memref<{{[0-9]+}}x32xf32>, %arg11: memref<{{[0-9]+}}x16xf32>

// The causal kernel: K transposed and widened once per kv head (bf16 V
// through its widened copy), the tile skip (min reduction over key
// positions), scores as vector<16xf32> FMAs for 6 query rows, the mask from
// global positions, the online softmax with per-row maxima (f32) and
// vector<16xf32> partial row sums, the 6 rescale factors as one
// vector<8xf32> exp (already the polynomial, hence math.floor), and P·V with
// each probability a broadcast.
// KERNEL: func.func private @ring_cpu_block_attention_{{[0-9]+}}({{.*}}%arg7: memref<2x32x16xf32>, %arg8: memref<32x32xf32>{{.*}}%arg12: memref<32xi64>)
// KERNEL-NOT: memref.alloc()
// KERNEL: arith.extf %{{.+}} : vector<16xbf16> to vector<16xf32>
// KERNEL: vector.reduction <minsi>, %{{.+}} : vector<16xi64> into i64
// KERNEL: scf.if %{{.+}} -> (f32, f32, f32, f32, f32, f32, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// KERNEL: vector.fma %{{.+}}, %{{.+}}, %{{.+}} : vector<16xf32>
// KERNEL: arith.cmpi sle, %{{.+}}, %{{.+}} : vector<16xi64>
// KERNEL: vector.reduction <maxnumf>, %{{.+}} fastmath<nnan> : vector<16xf32> into f32
// KERNEL: vector.from_elements %{{.+}} : vector<8xf32>
// KERNEL: math.floor %{{.+}} : vector<8xf32>
// KERNEL: memref.load %{{.+}} : memref<6x16xf32>
// KERNEL: vector.broadcast %{{.+}} : f32 to vector<16xf32>
// KERNEL: vector.reduction <add>, %{{.+}} : vector<16xf32> into f32
// KERNEL-NOT: memref.dealloc
// KERNEL: return

// One merge per row range, and the rounding to bf16.
// MERGE-DAG: func.func private @ring_cpu_merge_0(
// MERGE-DAG: func.func private @ring_cpu_merge_1(
// FINAL: func.func private @ring_cpu_finalize_0(
// FINAL: arith.truncf %{{.+}} : vector<16xf32> to vector<16xbf16>

// The per-rank function takes the context, the status cell and the
// workspace; every buffer of the call is a view of the workspace.
// PERRANK-LABEL: func.func private @p2zz(%arg0: !llvm.ptr, %arg1: !llvm.ptr, %arg2: !llvm.ptr, %arg3: memref<1x4x32x32xbf16>
// PERRANK-SAME: attributes {ring.workspace_bytes = {{[1-9][0-9]*}} : i64}
// PERRANK-NOT: ring.
// PERRANK-NOT: memref.alloc()
// PERRANK: llvm.getelementptr %arg2[%{{.+}}] : (!llvm.ptr, i64) -> !llvm.ptr, i8
// PERRANK: %[[SLOT:.+]] = llvm.alloca %{{.+}} x !llvm.ptr
// PERRANK: %[[COORD:.+]] = call @ringrt_cg_coord(%arg0, %{{.+}}) : (!llvm.ptr, i32) -> i32
// PERRANK: call @ring_cpu_fill_partial_0(
// PERRANK: call @ringrt_cg_shift_start(%arg0, %arg1, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[SLOT]])
// PERRANK: call @ring_cpu_block_attention_{{[0-9]+}}(
// PERRANK: call @ringrt_cg_shift_wait(%arg0, %arg1, %[[SLOT]])
// PERRANK: scf.if
// PERRANK: call @ring_cpu_block_attention_{{[0-9]+}}(
// PERRANK: } else {
// PERRANK: call @ring_cpu_block_attention_{{[0-9]+}}(
// PERRANK: call @ring_cpu_finalize_0(
// PERRANK-NOT: memref.dealloc
// PERRANK: return

// The workspace size, per rank.
// PERRANK-LABEL: func.func @p2zz_workspace_bytes() -> i64

// The C-ABI entry checks every tensor, resolves the workspace (the
// caller's, or the context's), then calls the per-rank function with the
// status cell and returns it.
// PERRANK-LABEL: func.func @p2zz_attention(%arg0: !llvm.ptr, %arg1: !llvm.ptr, %arg2: !llvm.ptr, %arg3: !llvm.ptr, %arg4: !llvm.ptr, %arg5: !llvm.ptr, %arg6: !llvm.ptr, %arg7: !llvm.ptr) -> i32
// PERRANK: llvm.mlir.addressof @__ringc_tensor_name_q
// PERRANK: call @ringrt_check_tensor(%arg1,
// PERRANK: cf.cond_br
// PERRANK: call @ringrt_check_tensor(%arg5,
// PERRANK: %[[STATUS:.+]] = llvm.alloca %{{.+}} x i32
// PERRANK: %[[WS:.+]] = call @ringrt_cg_workspace(%arg0, %[[STATUS]], %arg6, %{{.+}}) : (!llvm.ptr, !llvm.ptr, !llvm.ptr, i64) -> !llvm.ptr
// PERRANK: call @ringrt_cg_begin(%arg0, %[[STATUS]], %arg7)
// PERRANK: call @p2zz(%arg0, %[[STATUS]], %[[WS]],
// PERRANK: call @ringrt_cg_end(%arg0, %[[STATUS]])
// PERRANK: %[[RC:.+]] = llvm.load %[[STATUS]] : !llvm.ptr -> i32
// PERRANK: return %[[RC]] : i32

// NAME_attention_sync: the entry, then a wait for the stream.
// PERRANK-LABEL: func.func @p2zz_attention_sync(
// PERRANK: call @p2zz_attention(%arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6, %arg7)
// PERRANK: call @ringrt_cg_stream_wait(%arg0, %{{.+}}, %arg7)

// L = 40 is not a multiple of the key tile (16): padding keys are masked
// (positions INT64_MAX) even without a causal mask; head_dim 24 uses
// vector<8xf32> for the P·V accumulation; f32 V with a masked tail is
// still copied (padded) into Vw[48][24].
// TAIL-LABEL: func.func private @ring_cpu_block_attention_0({{.*}}%arg8: memref<48x24xf32>{{.*}}%arg12: memref<48xi64>)
// TAIL: arith.select %{{.+}}, %{{.+}}, %c9223372036854775807_i64 : i64
// TAIL: vector.fma %{{.+}}, %{{.+}}, %{{.+}} : vector<8xf32>
// TAIL-NOT: vector.reduction <minsi>
// TAIL: return
