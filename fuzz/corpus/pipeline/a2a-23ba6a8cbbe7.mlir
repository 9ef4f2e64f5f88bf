// RUN: ring-opt %s -split-input-file -ring-verify-shardings -verify-diagnostics
// The all-to-all (Ulysses) axis: a2a_axis(A) on ring.attention, the
// sequence split over [ring axis, A] or [A]; the degree must divide the
// query heads of a head group, and the key/value heads must split over it
// or be replicated on it.

// Valid: hierarchical ring 2 x a2a 2, GQA with Hkv = U.
shard.grid @g(shape = 2x2)
func.func @hier(%q: tensor<1x4x64x16xf32>, %k: tensor<1x2x64x16xf32>, %v: tensor<1x2x64x16xf32>) -> (tensor<1x4x64x16xf32>, tensor<1x4x64xf32>) {
  %s = shard.sharding @g split_axes = [[], [], [0, 1]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<1x4x64x16xf32>
  %k1 = shard.shard %k to %s : tensor<1x2x64x16xf32>
  %v1 = shard.shard %v to %s : tensor<1x2x64x16xf32>
  %o, %lse = ring.attention %q1, %k1, %v1 mask<causal> a2a_axis(1) : tensor<1x4x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32> -> tensor<1x4x64x16xf32>, tensor<1x4x64xf32>
  return %o, %lse : tensor<1x4x64x16xf32>, tensor<1x4x64xf32>
}

