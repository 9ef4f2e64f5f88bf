

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

