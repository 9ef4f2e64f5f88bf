// A causal GQA layer as long-context LLMs use it: 32 query heads sharing 8
// key/value heads (4 query heads per K/V head), head_dim 128, 8192 tokens,
// on a ring of 4 x 2 head groups = 8 devices. The zigzag layout gives every
// rank the same causal work at every stage.
shard.grid @cluster(shape = 4x2)

func.func @causal_gqa(%q: tensor<1x32x8192x128xbf16>,
                      %k: tensor<1x8x8192x128xbf16>,
                      %v: tensor<1x8x8192x128xbf16>)
    -> (tensor<1x32x8192x128xbf16>, tensor<1x32x8192xf32>) {
  %s = shard.sharding @cluster split_axes = [[], [1], [0]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<1x32x8192x128xbf16>
  %k1 = shard.shard %k to %s : tensor<1x8x8192x128xbf16>
  %v1 = shard.shard %v to %s : tensor<1x8x8192x128xbf16>
  %o, %lse = ring.attention %q1, %k1, %v1 mask<causal> balance<zigzag>
      : tensor<1x32x8192x128xbf16>, tensor<1x8x8192x128xbf16>,
        tensor<1x8x8192x128xbf16>
      -> tensor<1x32x8192x128xbf16>, tensor<1x32x8192xf32>
  return %o, %lse : tensor<1x32x8192x128xbf16>, tensor<1x32x8192xf32>
}
