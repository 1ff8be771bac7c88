//! Fuzzes threadkit's multiprocessing queue get path (see `threadkit::multiprocessing::fuzzing`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    threadkit::multiprocessing::fuzzing::queue_get(data);
});
