//! Fuzzes what a hostile Redis stream entry reaches in threadkit-cluster: a
//! worker's task-entry checks and argument decoding (and the registered
//! task below, for entries that pass them), and a caller's result-payload
//! decoding (see `threadkit_cluster::__private::fuzz_stream_entry`).
#![no_main]

fn square(x: u64) -> u64 {
    assert!(x != 13, "unlucky");
    x.wrapping_mul(x)
}

threadkit_cluster::task! { SQUARE: fn(u64) -> u64 = square, "fuzz.square"; }

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    threadkit_cluster::__private::fuzz_stream_entry(data);
});
