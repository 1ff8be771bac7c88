//! Fuzzes threadkit's multiprocessing frame reader (see `threadkit::multiprocessing::fuzzing`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    threadkit::multiprocessing::fuzzing::frame_reader(data);
});
