

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

