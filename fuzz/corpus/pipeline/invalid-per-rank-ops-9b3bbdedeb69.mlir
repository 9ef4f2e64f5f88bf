

func.func @wait_without_start(%t: !ring.transfer) {
  // expected-error @+1 {{waits for a transfer that no ring.shift_start in this function produced}}
  ring.shift_wait %t
  return
}

