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

// -----

// Valid: pure Ulysses, MQA (the key/value head is replicated).
shard.grid @g(shape = 4)
func.func @mqa(%q: tensor<1x4x64x16xf32>, %k: tensor<1x1x64x16xf32>, %v: tensor<1x1x64x16xf32>) -> (tensor<1x4x64x16xf32>, tensor<1x4x64xf32>) {
  %s = shard.sharding @g split_axes = [[], [], [0]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<1x4x64x16xf32>
  %k1 = shard.shard %k to %s : tensor<1x1x64x16xf32>
  %v1 = shard.shard %v to %s : tensor<1x1x64x16xf32>
  %o, %lse = ring.attention %q1, %k1, %v1 a2a_axis(0) : tensor<1x4x64x16xf32>, tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32> -> tensor<1x4x64x16xf32>, tensor<1x4x64xf32>
  return %o, %lse : tensor<1x4x64x16xf32>, tensor<1x4x64xf32>
}

// -----

shard.grid @g(shape = 4)
func.func @heads(%q: tensor<1x6x64x16xf32>, %k: tensor<1x6x64x16xf32>, %v: tensor<1x6x64x16xf32>) -> (tensor<1x6x64x16xf32>, tensor<1x6x64xf32>) {
  %s = shard.sharding @g split_axes = [[], [], [0]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<1x6x64x16xf32>
  %k1 = shard.shard %k to %s : tensor<1x6x64x16xf32>
  %v1 = shard.shard %v to %s : tensor<1x6x64x16xf32>
  // expected-error @+1 {{a2a = 4 does not divide the 6 query heads of a head group (heads 6 / head_groups 1); the all-to-all gives each rank whole heads. Valid a2a degrees: 1, 2, 3, 6}}
  %o, %lse = ring.attention %q1, %k1, %v1 a2a_axis(0) : tensor<1x6x64x16xf32>, tensor<1x6x64x16xf32>, tensor<1x6x64x16xf32> -> tensor<1x6x64x16xf32>, tensor<1x6x64xf32>
  return %o, %lse : tensor<1x6x64x16xf32>, tensor<1x6x64xf32>
}

// -----

shard.grid @g(shape = 4)
func.func @kv(%q: tensor<1x12x64x16xf32>, %k: tensor<1x6x64x16xf32>, %v: tensor<1x6x64x16xf32>) -> (tensor<1x12x64x16xf32>, tensor<1x12x64xf32>) {
  %s = shard.sharding @g split_axes = [[], [], [0]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<1x12x64x16xf32>
  %k1 = shard.shard %k to %s : tensor<1x6x64x16xf32>
  %v1 = shard.shard %v to %s : tensor<1x6x64x16xf32>
  // expected-error @+1 {{a2a = 4 neither divides the 6 key/value heads of a head group nor is a multiple of them, so an a2a rank's query heads would need parts of two key/value heads; valid a2a degrees: 1, 2, 3, 6, 12}}
  %o, %lse = ring.attention %q1, %k1, %v1 a2a_axis(0) : tensor<1x12x64x16xf32>, tensor<1x6x64x16xf32>, tensor<1x6x64x16xf32> -> tensor<1x12x64x16xf32>, tensor<1x12x64xf32>
  return %o, %lse : tensor<1x12x64x16xf32>, tensor<1x12x64xf32>
}

// -----

// Valid: a local block of 32 rows over a2a = 3 splits into shares of 11,
// 11 and 10 rows (no divisibility wall).
shard.grid @g(shape = 2x3)
func.func @seq(%q: tensor<1x6x64x16xf32>, %k: tensor<1x6x64x16xf32>, %v: tensor<1x6x64x16xf32>) -> (tensor<1x6x64x16xf32>, tensor<1x6x64xf32>) {
  %s = shard.sharding @g split_axes = [[], [], [0, 1]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<1x6x64x16xf32>
  %k1 = shard.shard %k to %s : tensor<1x6x64x16xf32>
  %v1 = shard.shard %v to %s : tensor<1x6x64x16xf32>
  %o, %lse = ring.attention %q1, %k1, %v1 a2a_axis(1) : tensor<1x6x64x16xf32>, tensor<1x6x64x16xf32>, tensor<1x6x64x16xf32> -> tensor<1x6x64x16xf32>, tensor<1x6x64xf32>
  return %o, %lse : tensor<1x6x64x16xf32>, tensor<1x6x64xf32>
}

// -----

shard.grid @g(shape = 2x2)
func.func @notsplit(%q: tensor<1x4x64x16xf32>, %k: tensor<1x4x64x16xf32>, %v: tensor<1x4x64x16xf32>) -> (tensor<1x4x64x16xf32>, tensor<1x4x64xf32>) {
  %s = shard.sharding @g split_axes = [[], [1], [0]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<1x4x64x16xf32>
  %k1 = shard.shard %k to %s : tensor<1x4x64x16xf32>
  %v1 = shard.shard %v to %s : tensor<1x4x64x16xf32>
  // expected-error @+1 {{a2a_axis(1) names the all-to-all axis, but the sequence dimension is not split over it; split it over [ring axis, 1] or [1]}}
  %o, %lse = ring.attention %q1, %k1, %v1 a2a_axis(1) : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32> -> tensor<1x4x64x16xf32>, tensor<1x4x64xf32>
  return %o, %lse : tensor<1x4x64x16xf32>, tensor<1x4x64xf32>
}

// -----

shard.grid @g(shape = 2x2)
func.func @order(%q: tensor<1x4x64x16xf32>, %k: tensor<1x4x64x16xf32>, %v: tensor<1x4x64x16xf32>) -> (tensor<1x4x64x16xf32>, tensor<1x4x64xf32>) {
  %s = shard.sharding @g split_axes = [[], [], [1, 0]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<1x4x64x16xf32>
  %k1 = shard.shard %k to %s : tensor<1x4x64x16xf32>
  %v1 = shard.shard %v to %s : tensor<1x4x64x16xf32>
  // expected-error @+1 {{the sequence dimension of query is split over grid axes [1, 0]; with a2a_axis(1) it splits over [ring axis, 1] or [1] (the a2a axis last)}}
  %o, %lse = ring.attention %q1, %k1, %v1 a2a_axis(1) : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32> -> tensor<1x4x64x16xf32>, tensor<1x4x64xf32>
  return %o, %lse : tensor<1x4x64x16xf32>, tensor<1x4x64xf32>
}

// -----

shard.grid @g(shape = 2x2)
func.func @twoaxes(%q: tensor<1x4x64x16xf32>, %k: tensor<1x4x64x16xf32>, %v: tensor<1x4x64x16xf32>) -> (tensor<1x4x64x16xf32>, tensor<1x4x64xf32>) {
  %s = shard.sharding @g split_axes = [[], [], [0, 1]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<1x4x64x16xf32>
  %k1 = shard.shard %k to %s : tensor<1x4x64x16xf32>
  %v1 = shard.shard %v to %s : tensor<1x4x64x16xf32>
  // expected-error @+1 {{the sequence dimension of query is split over 2 grid axes; ringc splits each dimension over at most one grid axis (or the sequence over [ring axis, a2a axis] when ring.attention names its all-to-all axis with a2a_axis(A))}}
  %o, %lse = ring.attention %q1, %k1, %v1 : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32> -> tensor<1x4x64x16xf32>, tensor<1x4x64xf32>
  return %o, %lse : tensor<1x4x64x16xf32>, tensor<1x4x64xf32>
}
