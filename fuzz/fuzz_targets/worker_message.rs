//! Fuzzes threadkit's multiprocessing worker message (see `threadkit::multiprocessing::fuzzing`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    threadkit::multiprocessing::fuzzing::worker_message(data);
});
