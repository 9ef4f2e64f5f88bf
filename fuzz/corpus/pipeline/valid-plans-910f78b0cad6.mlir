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
