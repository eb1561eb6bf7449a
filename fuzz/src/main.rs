//! One AFL++ binary for every target of `moat::fuzz`, chosen by
//! `MOAT_FUZZ_TARGET` (make fuzz sets it).

fn main() {
    let name = std::env::var("MOAT_FUZZ_TARGET").unwrap_or_default();
    let Some((_, target)) = moat::fuzz::TARGETS.iter().find(|(n, _)| *n == name) else {
        eprintln!(
            "MOAT_FUZZ_TARGET must be one of {:?}",
            moat::fuzz::TARGETS
                .iter()
                .map(|(n, _)| n)
                .collect::<Vec<_>>()
        );
        std::process::exit(2);
    };
    afl::fuzz!(|data: &[u8]| target(data));
}
