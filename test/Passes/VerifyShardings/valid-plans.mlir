// RUN: ring-opt %s -split-input-file -ring-verify-shardings="emit-plan-remarks" -verify-diagnostics | FileCheck %s

// Specs ringc compiles: the pass reports the derived plan and leaves the IR
// as it was.

// CHECK-LABEL: func.func @single_device
func.func @single_device(%q: tensor<1x4x64x32xf32>, %k: tensor<1x4x64x32xf32>, %v: tensor<1x4x64x32xf32>)
    -> (tensor<1x4x64x32xf32>, tensor<1x4x64xf32>) {
  // CHECK: ring.attention
  // expected-remark @+1 {{plan: batch=1,heads=4,kv_heads=4,seq=64,head_dim=32,dtype=f32,causal=0,balance=none,scale=0.17677669529663687,grid=[],axes=[-1,-1,-1] ranks=1}}
  %o, %lse = ring.attention %q, %k, %v : tensor<1x4x64x32xf32>, tensor<1x4x64x32xf32>, tensor<1x4x64x32xf32> -> tensor<1x4x64x32xf32>, tensor<1x4x64xf32>
  return %o, %lse : tensor<1x4x64x32xf32>, tensor<1x4x64xf32>
}

// -----

// Ring 4 x head groups 2 x dim slices 2, causal GQA, zigzag by default.
shard.grid @cluster(shape = 4x2x2)
// CHECK-LABEL: func.func @three_level
func.func @three_level(%q: tensor<1x32x1024x128xbf16>, %k: tensor<1x8x1024x128xbf16>, %v: tensor<1x8x1024x128xbf16>)
    -> (tensor<1x32x1024x128xbf16>, tensor<1x32x1024xf32>) {
  %s = shard.sharding @cluster split_axes = [[], [1], [0], [2]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<1x32x1024x128xbf16>
  %k1 = shard.shard %k to %s : tensor<1x8x1024x128xbf16>
  %v1 = shard.shard %v to %s : tensor<1x8x1024x128xbf16>
  // expected-remark @+1 {{plan: batch=1,heads=32,kv_heads=8,seq=1024,head_dim=128,dtype=bf16,causal=1,balance=zigzag,scale=0.088388347648318433,grid=[4x2x2],axes=[0,1,2] ranks=16}}
  %o, %lse = ring.attention %q1, %k1, %v1 mask<causal> : tensor<1x32x1024x128xbf16>, tensor<1x8x1024x128xbf16>, tensor<1x8x1024x128xbf16> -> tensor<1x32x1024x128xbf16>, tensor<1x32x1024xf32>
  return %o, %lse : tensor<1x32x1024x128xbf16>, tensor<1x32x1024xf32>
}

// -----

// Axes in another order, and a size-1 axis that no dimension uses.
shard.grid @g(shape = 2x1x3)
// CHECK-LABEL: func.func @permuted_axes
func.func @permuted_axes(%q: tensor<2x6x96x64xf16>, %k: tensor<2x3x96x64xf16>, %v: tensor<2x3x96x64xf16>)
    -> (tensor<2x6x96x64xf16>, tensor<2x6x96xf32>) {
  %s = shard.sharding @g split_axes = [[], [2], [], [0]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<2x6x96x64xf16>
  %k1 = shard.shard %k to %s : tensor<2x3x96x64xf16>
  %v1 = shard.shard %v to %s : tensor<2x3x96x64xf16>
  // expected-remark @+1 {{grid=[2x1x3],axes=[-1,2,0] ranks=6}}
  %o, %lse = ring.attention %q1, %k1, %v1 scale(0.5) : tensor<2x6x96x64xf16>, tensor<2x3x96x64xf16>, tensor<2x3x96x64xf16> -> tensor<2x6x96x64xf16>, tensor<2x6x96xf32>
  return %o, %lse : tensor<2x6x96x64xf16>, tensor<2x6x96xf32>
}

// -----

// Striped needs L % P only (not 2P).
shard.grid @ring3(shape = 3)
func.func @striped_odd(%q: tensor<1x2x33x16xf32>, %k: tensor<1x2x33x16xf32>, %v: tensor<1x2x33x16xf32>)
    -> (tensor<1x2x33x16xf32>, tensor<1x2x33xf32>) {
  %s = shard.sharding @ring3 split_axes = [[], [], [0]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<1x2x33x16xf32>
  %k1 = shard.shard %k to %s : tensor<1x2x33x16xf32>
  %v1 = shard.shard %v to %s : tensor<1x2x33x16xf32>
  // expected-remark @+1 {{causal=1,balance=striped}}
  %o, %lse = ring.attention %q1, %k1, %v1 mask<causal> balance<striped> : tensor<1x2x33x16xf32>, tensor<1x2x33x16xf32>, tensor<1x2x33x16xf32> -> tensor<1x2x33x16xf32>, tensor<1x2x33xf32>
  return %o, %lse : tensor<1x2x33x16xf32>, tensor<1x2x33xf32>
}

// -----

// Any sequence length splits over the ring (issue 11): L = 100 on a ring of
// 3 gives parts of 34, 33 and 33 tokens (no mask, balance none).
shard.grid @ring3(shape = 3)
// CHECK-LABEL: func.func @uneven_ring
func.func @uneven_ring(%q: tensor<1x2x100x16xf32>, %k: tensor<1x2x100x16xf32>, %v: tensor<1x2x100x16xf32>) -> (tensor<1x2x100x16xf32>, tensor<1x2x100xf32>) {
  %s = shard.sharding @ring3 split_axes = [[], [], [0]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<1x2x100x16xf32>
  %k1 = shard.shard %k to %s : tensor<1x2x100x16xf32>
  %v1 = shard.shard %v to %s : tensor<1x2x100x16xf32>
  // expected-remark @+1 {{plan: batch=1,heads=2,kv_heads=2,seq=100,head_dim=16,dtype=f32,causal=0,balance=none,scale=0.25,grid=[3],axes=[0,-1,-1] ranks=3}}
  %o, %lse = ring.attention %q1, %k1, %v1 : tensor<1x2x100x16xf32>, tensor<1x2x100x16xf32>, tensor<1x2x100x16xf32> -> tensor<1x2x100x16xf32>, tensor<1x2x100xf32>
  return %o, %lse : tensor<1x2x100x16xf32>, tensor<1x2x100xf32>
}

// -----

// Zigzag with L = 100 on a ring of 4: 8 chunks of 13 or 12 tokens.
shard.grid @ring4(shape = 4)
// CHECK-LABEL: func.func @uneven_zigzag
func.func @uneven_zigzag(%q: tensor<1x2x100x16xf32>, %k: tensor<1x2x100x16xf32>, %v: tensor<1x2x100x16xf32>) -> (tensor<1x2x100x16xf32>, tensor<1x2x100xf32>) {
  %s = shard.sharding @ring4 split_axes = [[], [], [0]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<1x2x100x16xf32>
  %k1 = shard.shard %k to %s : tensor<1x2x100x16xf32>
  %v1 = shard.shard %v to %s : tensor<1x2x100x16xf32>
  // expected-remark @+1 {{plan: batch=1,heads=2,kv_heads=2,seq=100,head_dim=16,dtype=f32,causal=1,balance=zigzag,scale=0.25,grid=[4],axes=[0,-1,-1] ranks=4}}
  %o, %lse = ring.attention %q1, %k1, %v1 mask<causal> : tensor<1x2x100x16xf32>, tensor<1x2x100x16xf32>, tensor<1x2x100x16xf32> -> tensor<1x2x100x16xf32>, tensor<1x2x100xf32>
  return %o, %lse : tensor<1x2x100x16xf32>, tensor<1x2x100xf32>
}
