//! {{TITLE}}: a page, a hook and one command, on Moat.
//!
//! The page (`frontend/`) calls Rust only through `window.moat.invoke`;
//! every call passes the hook in `hooks/` inside Moat's isolation frame,
//! then the checks of `moat.json` (only the commands it lists are
//! callable), before it reaches a command registered here.

use moat::{Builder, Commands, Config};
use serde::Deserialize;
use ts_rs::TS;

static FRONTEND: moat::Dir = moat::include_dir!("$CARGO_MANIFEST_DIR/frontend");
static HOOKS: moat::Dir = moat::include_dir!("$CARGO_MANIFEST_DIR/hooks");

/// The arguments of `greet`: the page's `{ name }`, and nothing else
/// (an unknown key is refused with `bad_args`). `TS`: its TypeScript form
/// goes to `frontend/commands.d.ts` (`make types`).
#[derive(Deserialize, TS)]
struct Greet {
    name: String,
}

/// The app's commands. Add one: a typed struct for its arguments, a
/// function, a line here, its name in `moat.json`'s allowlist, and
/// `make types`.
fn commands() -> Commands {
    Commands::new().sync_typed("greet", |a: Greet, _| {
        Ok::<_, ()>(format!("Hello, {}!", a.name))
    })
}

fn main() {
    let result = Config::from_json(include_str!("../moat.json"))
        .map_err(moat::Error::from)
        .and_then(|config| {
            let app = Builder::new(config)
                .about(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
                .sources("moat.json", "frontend", "hooks")
                .frontend(&FRONTEND)
                .hooks(&HOOKS)
                .commands(commands());
            // `--help`, `--version` and `audit` answer and exit.
            if let Some(code) = app.answer_command_line() {
                std::process::exit(code);
            }
            app.run()
        });
    if let Err(e) = result {
        eprintln!("{}: {e}", env!("CARGO_PKG_NAME"));
        std::process::exit(2);
    }
}
