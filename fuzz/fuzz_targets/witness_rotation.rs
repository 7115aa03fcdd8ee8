#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sijil_fuzz_checks::witness_rotation(data));
