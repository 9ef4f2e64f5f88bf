// RUN: ring-opt %s -split-input-file -ring-gpu-generate-kernels="target=sm_90a gpu-kernel=wgmma" -verify-diagnostics | FileCheck %s
// RUN: not ring-opt %s -split-input-file -ring-gpu-generate-kernels="target=sm_80 gpu-kernel=wgmma" 2>&1 | FileCheck %s --check-prefix=SM80
// RUN: not ring-opt %s -split-input-file -ring-gpu-generate-kernels="target=sm_90a gpu-kernel=fast" 2>&1 | FileCheck %s --check-prefix=BADKIND

// The sm_90a kernel: a producer warpgroup (setmaxnreg down, TMA loads on
// mbarriers) and two consumer warpgroups (setmaxnreg up, wgmma S = Q Kᵀ
// from shared descriptors, P·V with P in registers); its three tensor maps
// are marked for __grid_constant__.

// CHECK-LABEL: module attributes {gpu.container_module}
// CHECK: ring.block_attention {{.*}}ring.gpu_kernel = @ringc_attn_wgmma_bf16_d128_causal_zigzag_n128_s2
// CHECK: gpu.module @ringc_kernels [#nvvm.target<O = 3, chip = "sm_90a", features = "+ptx80">]
// CHECK: gpu.func @ringc_attn_wgmma_bf16_d128_causal_zigzag_n128_s2(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr,
// CHECK-SAME: known_block_size = array<i32: 384, 1, 1>
// CHECK-SAME: nvvm.maxnreg = 168
// CHECK-SAME: ringc.grid_constant_args = array<i32: 0, 1, 2>
// CHECK: nvvm.mbarrier.init
// CHECK: nvvm.fence.mbarrier.init
// CHECK: nvvm.setmaxregister  decrease 24
// CHECK: nvvm.mbarrier.arrive.expect_tx %{{.*}}, %c32768_i32
// CHECK: nvvm.inline_ptx "cp.async.bulk.tensor.3d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [$0], [$1, {$2, $3, $4}], [$5];"
// CHECK: nvvm.setmaxregister  increase 240
// CHECK: mbarrier.try_wait.parity.shared.b64
// CHECK: nvvm.barrier.arrive id = %c1_i32 number_of_threads = %c256_i32
// CHECK: nvvm.barrier id = %c1_i32 number_of_threads = %c256_i32
// CHECK: } else {
// CHECK: nvvm.barrier id = %c2_i32 number_of_threads = %c256_i32
// CHECK: llvm.inline_asm has_side_effects asm_dialect = att "{\0A.reg .pred %first, %acc;\0Asetp.ne.b32 %first, 0, 0;\0Asetp.ne.b32 %acc, 1, 0;\0Awgmma.fence.sync.aligned;\0Awgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{.*}}, $64, $72, %first, 1, 1, 0, 0;\0Awgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{.*}}, $65, $73, %acc, 1, 1, 0, 0;
// CHECK-SAME: wgmma.commit_group.sync.aligned;\0Awgmma.wait_group.sync.aligned 0;\0A}"
// CHECK: nvvm.barrier.arrive id
// CHECK: llvm.nvvm.ex2.approx.ftz.f
// CHECK: nvvm.barrier id
// CHECK: llvm.inline_asm has_side_effects asm_dialect = att "{\0A.reg .pred %acc;\0Asetp.ne.b32 %acc, 1, 0;\0Awgmma.fence.sync.aligned;\0Awgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{.*}}, {$128, $129, $130, $131}, $160, %acc, 1, 1, 1;
// CHECK: nvvm.mbarrier.arrive %{{.*}} : !llvm.ptr<3>
func.func @per_rank(%q: memref<1x4x256x128xbf16>, %k: memref<1x2x256x128xbf16>, %v: memref<1x2x256x128xbf16>,
                    %po: memref<1x4x256x128xf32>, %pl: memref<1x4x256xf32>, %p: index, %src: index) {
  ring.block_attention ins(%q, %k, %v : memref<1x4x256x128xbf16>, memref<1x2x256x128xbf16>, memref<1x2x256x128xbf16>)
      outs(%po, %pl : memref<1x4x256x128xf32>, memref<1x4x256xf32>)
      q_owner(%p) kv_owner(%src) q_rows = [0, 256] kv_rows = [0, 256] mask<causal> layout<zigzag> ring_size = 2 scale = 0.125
  return
}

// SM80: error: --gpu-kernel=wgmma needs sm_90a (wgmma, TMA and setmaxnreg are sm_90a features); target sm_80 runs --gpu-kernel=mma
// BADKIND: error: unknown GPU kernel 'fast' (expected auto, mma or wgmma)

// -----

func.func @f32_inputs(%q: memref<1x1x64x64xf32>, %po: memref<1x1x64x64xf32>, %pl: memref<1x1x64xf32>, %p: index) {
  // expected-error @below {{cannot generate a GPU kernel for this block: the GPU kernels take bf16 or f16 inputs (wgmma m64nNk16); element type 'f32' is not supported (use --target=cpu for f32)}}
  ring.block_attention ins(%q, %q, %q : memref<1x1x64x64xf32>, memref<1x1x64x64xf32>, memref<1x1x64x64xf32>)
      outs(%po, %pl : memref<1x1x64x64xf32>, memref<1x1x64xf32>)
      q_owner(%p) kv_owner(%p) q_rows = [0, 64] kv_rows = [0, 64] mask<none> layout<none> ring_size = 1 scale = 0.125
  return
}

// -----

func.func @head_dim_too_big(%q: memref<1x1x64x272xbf16>, %po: memref<1x1x64x272xf32>, %pl: memref<1x1x64xf32>, %p: index) {
  // expected-error @below {{cannot generate a GPU kernel for this block: local head_dim 272 is not supported by the wgmma kernel: it must be a multiple of 16 up to 256 (k16 steps over 64-column swizzled panels; wgmma n <= 256); --gpu-kernel=mma takes any head_dim}}
  ring.block_attention ins(%q, %q, %q : memref<1x1x64x272xbf16>, memref<1x1x64x272xbf16>, memref<1x1x64x272xbf16>)
      outs(%po, %pl : memref<1x1x64x272xf32>, memref<1x1x64xf32>)
      q_owner(%p) kv_owner(%p) q_rows = [0, 64] kv_rows = [0, 64] mask<none> layout<none> ring_size = 1 scale = 0.125
  return
}
