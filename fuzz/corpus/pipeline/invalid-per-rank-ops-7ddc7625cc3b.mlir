

func.func @empty_stage() {
  // An empty region (generic form) is refused by ODS (SizedRegion<1>).
  // expected-error @+1 {{region #0 ('body') failed to verify constraint: region with 1 blocks}}
  "ring.stage"() ({}) {index = 0 : i64} : () -> ()
  return
}

