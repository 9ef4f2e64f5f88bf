// RUN: ring-opt %s -split-input-file -ring-gpu-generate-kernels="target=sm_80" -verify-diagnostics | FileCheck %s

// One kernel per block_attention variant plus the fp32 row kernels; every
// device op names the kernel it launches.

// CHECK-LABEL: module attributes {gpu.container_module}
// CHECK: ring.fill_partial {{.*}}ring.gpu_kernel = @ringc_fill
// CHECK: ring.block_attention {{.*}}ring.gpu_kernel = @ringc_attn_bf16_d64_causal_zigzag_w4_n64
// CHECK: ring.merge {{.*}}ring.gpu_kernel = @ringc_merge
// CHECK: ring.finalize {{.*}}ring.gpu_kernel = @ringc_finalize_bf16
// CHECK: gpu.module @ringc_kernels [#nvvm.target<O = 3, chip = "sm_80", features = "+ptx70">]
// CHECK-DAG: gpu.func @ringc_fill(
// CHECK-DAG: gpu.func @ringc_attn_bf16_d64_causal_zigzag_w4_n64(
// CHECK-DAG: nvvm.cp.async.shared.global
// CHECK-DAG: nvvm.ldmatrix
// CHECK-DAG: nvvm.mma.sync
func.func @per_rank(%q: memref<1x4x64x64xbf16>, %k: memref<1x2x64x64xbf16>, %v: memref<1x2x64x64xbf16>,
                    %o: memref<1x4x64x64xbf16>, %lse: memref<1x4x64xf32>, %p: index, %src: index) {
  %acc_o = memref.alloc() : memref<1x4x64x64xf32>
  %acc_l = memref.alloc() : memref<1x4x64xf32>
  %po = memref.alloc() : memref<1x4x64x64xf32>
  %pl = memref.alloc() : memref<1x4x64xf32>
  ring.fill_partial %acc_o, %acc_l : memref<1x4x64x64xf32>, memref<1x4x64xf32>
  ring.block_attention ins(%q, %k, %v : memref<1x4x64x64xbf16>, memref<1x2x64x64xbf16>, memref<1x2x64x64xbf16>)
      outs(%po, %pl : memref<1x4x64x64xf32>, memref<1x4x64xf32>)
      q_owner(%p) kv_owner(%src) q_rows = [0, 64] kv_rows = [0, 64] mask<causal> layout<zigzag> ring_size = 2 scale = 0.125
  ring.merge ins(%po, %pl : memref<1x4x64x64xf32>, memref<1x4x64xf32>) outs(%acc_o, %acc_l : memref<1x4x64x64xf32>, memref<1x4x64xf32>) rows = [0, 64]
  ring.finalize ins(%acc_o, %acc_l : memref<1x4x64x64xf32>, memref<1x4x64xf32>) outs(%o, %lse : memref<1x4x64x64xbf16>, memref<1x4x64xf32>)
  return
}

// -----

func.func @f32_inputs(%q: memref<1x1x64x64xf32>, %po: memref<1x1x64x64xf32>, %pl: memref<1x1x64xf32>, %p: index) {
  // expected-error @below {{cannot generate a GPU kernel for this block: the GPU kernels take bf16 or f16 inputs (mma.sync m16n8k16); element type 'f32' is not supported on sm_80 (use --target=cpu for f32)}}
  ring.block_attention ins(%q, %q, %q : memref<1x1x64x64xf32>, memref<1x1x64x64xf32>, memref<1x1x64x64xf32>)
      outs(%po, %pl : memref<1x1x64x64xf32>, memref<1x1x64xf32>)
      q_owner(%p) kv_owner(%p) q_rows = [0, 64] kv_rows = [0, 64] mask<none> layout<none> ring_size = 1 scale = 0.125
  return
}

// -----

// The dim-slice ops get the score (mma.sync) and softmax (SIMT) kernels.

// CHECK-LABEL: module attributes {gpu.container_module}
// CHECK: ring.block_scores {{.*}}ring.gpu_kernel = @ringc_scores_bf16_d32
// CHECK: ring.block_softmax_v {{.*}}ring.gpu_kernel = @ringc_softmax_v_bf16_d32_causal_zigzag
// CHECK: gpu.module @ringc_kernels
// CHECK-DAG: gpu.func @ringc_scores_bf16_d32(
// CHECK-DAG: gpu.func @ringc_softmax_v_bf16_d32_causal_zigzag(
// CHECK-DAG: nvvm.mma.sync
func.func @dim_slices(%q: memref<1x4x64x32xbf16>, %s: memref<1x4x64x64xf32>,
                      %po: memref<1x4x64x32xf32>, %pl: memref<1x4x64xf32>, %p: index, %src: index) {
  ring.block_scores ins(%q, %q : memref<1x4x64x32xbf16>, memref<1x4x64x32xbf16>) outs(%s : memref<1x4x64x64xf32>) q_rows = [0, 64] kv_rows = [0, 64]
  ring.block_softmax_v ins(%s, %q : memref<1x4x64x64xf32>, memref<1x4x64x32xbf16>)
      outs(%po, %pl : memref<1x4x64x32xf32>, memref<1x4x64xf32>)
      q_owner(%p) kv_owner(%src) q_rows = [0, 64] kv_rows = [0, 64] mask<causal> layout<zigzag> ring_size = 2 scale = 0.125
  return
}

// -----

// A slice width that is not a multiple of 16 (odd here) is padded to k16
// in shared memory.
// CHECK-LABEL: func.func @dim_slice_odd_width
// CHECK: ring.block_scores {{.*}}ring.gpu_kernel = @ringc_scores_bf16_d33
// CHECK: gpu.func @ringc_scores_bf16_d33(
func.func @dim_slice_odd_width(%q: memref<1x4x64x33xbf16>, %s: memref<1x4x64x64xf32>) {
  ring.block_scores ins(%q, %q : memref<1x4x64x33xbf16>, memref<1x4x64x33xbf16>) outs(%s : memref<1x4x64x64xf32>) q_rows = [0, 64] kv_rows = [0, 64]
  return
}
