

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

