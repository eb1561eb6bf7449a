//! The app embeds `frontend/` and `hooks/` with `include_dir!`, which
//! tracks only the files that existed when it last ran: naming the folders
//! here rebuilds the app when a file is added, changed or removed in them.

fn main() {
    for input in ["frontend", "hooks", "moat.json", "build.rs"] {
        println!("cargo:rerun-if-changed={input}");
    }
}
