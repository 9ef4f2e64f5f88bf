// The layer of the Ring Attention paper (Liu, Zaharia, Abbeel 2023):
// 32 heads x 128, a 100,000-token sequence spread over a ring of 16 devices,
// bf16. Each device holds 6,250 tokens of Q, K and V; K/V blocks travel
// around the ring in 16 stages.
shard.grid @ring16(shape = 16)

func.func @ring_attention_paper(%q: tensor<1x32x100000x128xbf16>,
                                %k: tensor<1x32x100000x128xbf16>,
                                %v: tensor<1x32x100000x128xbf16>)
    -> (tensor<1x32x100000x128xbf16>, tensor<1x32x100000xf32>) {
  // The sequence (dim 2) is split over grid axis 0: the ring.
  %s = shard.sharding @ring16 split_axes = [[], [], [0]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<1x32x100000x128xbf16>
  %k1 = shard.shard %k to %s : tensor<1x32x100000x128xbf16>
  %v1 = shard.shard %v to %s : tensor<1x32x100000x128xbf16>
  %o, %lse = ring.attention %q1, %k1, %v1
      : tensor<1x32x100000x128xbf16>, tensor<1x32x100000x128xbf16>,
        tensor<1x32x100000x128xbf16>
      -> tensor<1x32x100000x128xbf16>, tensor<1x32x100000xf32>
  return %o, %lse : tensor<1x32x100000x128xbf16>, tensor<1x32x100000xf32>
}
