// RUN: ring-opt %s -split-input-file -ring-gpu-generate-kernels="target=sm_80" -verify-diagnostics | FileCheck %s

// The whole layer's kernels: the three projections of one X share the fused
// QKV GEMM (one launch), the output projection its GEMM, and the output
// all-reduce the kernel that adds b_o and rounds Y.

// CHECK-LABEL: module attributes {gpu.container_module}
// CHECK-COUNT-3: ring.project {{.*}}ring.gpu_kernel = @ringc_gemm_qkv_bf16_bias
// CHECK: ring.out_project {{.*}}ring.gpu_kernel = @ringc_gemm_out_project_bf16
// CHECK: ring.output_all_reduce {{.*}}ring.gpu_kernel = @ringc_layer_finish_bf16_bias
// The QKV kernel takes 10 pointers and 8 sizes; the GEMMs run 8 warps.
// CHECK-DAG: gpu.func @ringc_gemm_qkv_bf16_bias({{(%arg[0-9]+: !llvm.ptr, ){10}(%arg[0-9]+: i32, ){7}%arg17: i32}}) kernel attributes {known_block_size = array<i32: 256, 1, 1>
// CHECK-DAG: gpu.func @ringc_gemm_out_project_bf16({{(%arg[0-9]+: !llvm.ptr, ){4}(%arg[0-9]+: i32, ){5}%arg9: i32}}) kernel attributes {known_block_size = array<i32: 256, 1, 1>
// CHECK-DAG: gpu.func @ringc_layer_finish_bf16_bias({{(%arg[0-9]+: !llvm.ptr, ){3}%arg3: i64, %arg4: i64}})
func.func @layer(%x: memref<1x40x64xbf16>, %wq: memref<64x64xbf16>, %wk: memref<64x32xbf16>,
                 %wv: memref<64x32xbf16>, %wo: memref<64x64xbf16>, %bq: memref<64xbf16>,
                 %bk: memref<32xbf16>, %bv: memref<32xbf16>, %bo: memref<64xbf16>,
                 %o: memref<1x4x40x16xbf16>, %y: memref<1x40x64xbf16>) {
  %q = memref.alloc() : memref<1x4x40x16xbf16>
  %k = memref.alloc() : memref<1x2x40x16xbf16>
  %v = memref.alloc() : memref<1x2x40x16xbf16>
  %yp = memref.alloc() : memref<1x40x64xf32>
  ring.project ins(%x, %wq, %bq : memref<1x40x64xbf16>, memref<64x64xbf16>, memref<64xbf16>) outs(%q : memref<1x4x40x16xbf16>)
  ring.project ins(%x, %wk, %bk : memref<1x40x64xbf16>, memref<64x32xbf16>, memref<32xbf16>) outs(%k : memref<1x2x40x16xbf16>)
  ring.project ins(%x, %wv, %bv : memref<1x40x64xbf16>, memref<64x32xbf16>, memref<32xbf16>) outs(%v : memref<1x2x40x16xbf16>)
  ring.out_project ins(%o, %wo : memref<1x4x40x16xbf16>, memref<64x64xbf16>) outs(%yp : memref<1x40x64xf32>)
  ring.output_all_reduce ins(%yp, %bo : memref<1x40x64xf32>, memref<64xbf16>) outs(%y : memref<1x40x64xbf16>)
  return
}

// -----

// A projection that shares its X with no other gets the single GEMM.

// CHECK-LABEL: module attributes {gpu.container_module}
// CHECK: ring.project {{.*}}ring.gpu_kernel = @ringc_gemm_project_f16
// CHECK: gpu.func @ringc_gemm_project_f16({{(%arg[0-9]+: !llvm.ptr, ){4}(%arg[0-9]+: i32, ){5}%arg9: i32}})
func.func @lone(%x: memref<2x24x32xf16>, %w: memref<32x48xf16>, %q: memref<2x3x24x16xf16>) {
  ring.project ins(%x, %w : memref<2x24x32xf16>, memref<32x48xf16>) outs(%q : memref<2x3x24x16xf16>)
  return
}

// -----

// d_model 36 (K not a multiple of 8): the element-wise GEMM, same
// parameters.

// CHECK-LABEL: module attributes {gpu.container_module}
// CHECK: ring.project {{.*}}ring.gpu_kernel = @ringc_gemm_project_bf16_dm36_dl16
// CHECK: gpu.func @ringc_gemm_project_bf16_dm36_dl16({{(%arg[0-9]+: !llvm.ptr, ){4}(%arg[0-9]+: i32, ){5}%arg9: i32}})
func.func @ragged_k(%x: memref<1x24x36xbf16>, %w: memref<36x32xbf16>, %q: memref<1x2x24x16xbf16>) {
  ring.project ins(%x, %w : memref<1x24x36xbf16>, memref<36x32xbf16>) outs(%q : memref<1x2x24x16xbf16>)
  return
}

// -----

// O of odd head_dim 9 (a 16-byte chunk of O's rows spans two heads),
// d_model 75: the element-wise output GEMM.

// CHECK-LABEL: module attributes {gpu.container_module}
// CHECK: ring.out_project {{.*}}ring.gpu_kernel = @ringc_gemm_out_project_bf16_dm75_dl9
// CHECK: gpu.func @ringc_gemm_out_project_bf16_dm75_dl9(
func.func @odd_dl(%o: memref<1x3x24x9xbf16>, %w: memref<27x75xbf16>, %yp: memref<1x24x75xf32>) {
  ring.out_project ins(%o, %w : memref<1x3x24x9xbf16>, memref<27x75xbf16>) outs(%yp : memref<1x24x75xf32>)
  return
}

// -----

func.func @f32(%o: memref<1x2x24x16xf32>, %w: memref<32x64xf32>, %yp: memref<1x24x64xf32>) {
  // expected-error @below {{the GPU kernels take bf16 or f16 inputs (mma.sync m16n8k16); element type 'f32' is not supported on sm_80 (use --target=cpu for f32)}}
  ring.out_project ins(%o, %w : memref<1x2x24x16xf32>, memref<32x64xf32>) outs(%yp : memref<1x24x64xf32>)
  return
}
