// Page-controlled text in the log: a command name and a path with a newline,
// a terminal escape and a bidi override, and a 1 MiB command name. The Rust
// test reads the log.
const evil = 'x\nFORGED moat: all good\r\x1b[2J\u202e';
await rejects('a command name with control characters is unknown_command', invoke(evil), 'unknown_command');
await rejects('a 1 MiB command name is unknown_command', invoke(evil + 'A'.repeat(1 << 20)), 'unknown_command');
await rejects('a path with control characters is not_found', window.moat.fs.readTextFile('$APPDATA/' + evil), 'not_found');
harness.done();
