//! Declares the folders embedded with `include_dir!` as inputs of the build.
//! `include_dir!` tracks only the files that existed when it last ran, so a
//! file added to one of these folders was not embedded until the crate was
//! rebuilt for another reason (and the app answered it with a 404). Cargo
//! watches a directory named here recursively: any file added, changed or
//! removed in it reruns this script, which rebuilds the crate.

fn main() {
    for dir in [
        "isolation-js",
        "demo-frontend",
        "tests/pages",
        "tests/hooks",
        "tests/frontends/react/dist",
        "tests/frontends/vue/dist",
        "tests/frontends/svelte/dist",
    ] {
        println!("cargo:rerun-if-changed={dir}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
