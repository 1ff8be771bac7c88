//! Fuzzes threadkit's multiprocessing connection recv path (see `threadkit::multiprocessing::fuzzing`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    threadkit::multiprocessing::fuzzing::connection_recv(data);
});
