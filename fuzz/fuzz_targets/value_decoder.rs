//! Fuzzes threadkit's multiprocessing value decoder (see `threadkit::multiprocessing::fuzzing`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    threadkit::multiprocessing::fuzzing::value_decoder(data);
});
