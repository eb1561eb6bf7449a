//! The demo embeds `../demo-frontend` (`include_dir!`, which tracks only the
//! files that existed at its last run) and `../moat.json`: naming them here
//! rebuilds the demo when a file is added, changed or removed there.

fn main() {
    println!("cargo:rerun-if-changed=../demo-frontend");
    println!("cargo:rerun-if-changed=../moat.json");
    println!("cargo:rerun-if-changed=build.rs");
}
