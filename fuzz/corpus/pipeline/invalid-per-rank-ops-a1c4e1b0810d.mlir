

// expected-error @+1 {{'ring.plan' must be a #ring.plan attribute}}
func.func @not_a_plan() attributes {ring.plan = 3 : i64} {
  return
}

