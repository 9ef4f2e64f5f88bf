

shard.grid @g(shape = 2)
func.func @missing(%x: tensor<1x64x32xf32>, %wq: tensor<32x64xf32>, %wk: tensor<32x32xf32>, %wv: tensor<32x32xf32>, %wo: tensor<64x32xf32>) -> (tensor<1x64x32xf32>, tensor<1x4x64xf32>) {
  %sx = shard.sharding @g split_axes = [[], [0]] : !shard.sharding
  %x1 = shard.shard %x to %sx : tensor<1x64x32xf32>
  // expected-error @+1 {{wq has no shard.shard annotation but other operands have one; annotate every operand of the layer on the same grid (b_o with split_axes = [[]])}}
  %y, %lse = ring.attention_layer %x1, %wq, %wk, %wv, %wo heads = 4 : tensor<1x64x32xf32>, tensor<32x64xf32>, tensor<32x32xf32>, tensor<32x32xf32>, tensor<64x32xf32> -> tensor<1x64x32xf32>, tensor<1x4x64xf32>
  return %y, %lse : tensor<1x64x32xf32>, tensor<1x4x64xf32>
}

