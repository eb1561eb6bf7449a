// A command with no scope at all (harness_unscoped, a buggy command as the
// test plays it) and a program the scope lets through with a path: only
// the kernel's confinement stands between them and the disk. `T` holds the
// paths (prepended by the Rust test).
const unscoped = (op, path, data) => invoke('harness_unscoped', { op, path, data });
const denied = 'permission denied';
const { fs, shell, dialog } = window.moat;

await rejects('kernel: a key under $HOME outside every scope is not read', unscoped('read', T.key), 'io_failed', denied);
await rejects('kernel: nor $HOME listed', unscoped('list', T.home), 'io_failed', denied);
check('kernel: a file inside scope.fs is read', (await unscoped('read', T.doc)).data === 'doc');
await rejects('kernel: no write beside a read-only scope', unscoped('write', T.docsNew, 'x'), 'io_failed', denied);
check('kernel: the app\'s own data directory is written', (await unscoped('write', T.own, 'own')).ok === true);
await rejects('kernel: a program not in scope.shell is not run', unscoped('exec', '/usr/bin/id'), 'io_failed', denied);
check('kernel: a program in scope.shell is run', (await unscoped('exec', T.truePath)).ok === true);

// An async command runs its first poll on the thread posted calls hop to
// (`moat-call`, src/ipc/hop.rs), not on the blocking pool: that thread is
// confined as well.
const inline = (op, path, data) => invoke('harness_unscoped_inline', { op, path, data });
const ran = await inline('read', T.doc);
check('kernel: an async command runs on the moat-call thread', ran.data === 'doc' && ran.thread === 'moat-call', ran);
await rejects('kernel: which cannot read outside every scope either', inline('read', T.key), 'io_failed', denied);
await rejects('kernel: nor write beside a read-only scope', inline('write', T.docsNew, 'x'), 'io_failed', denied);
await rejects('kernel: nor run a program outside scope.shell', inline('exec', '/usr/bin/id'), 'io_failed', denied);

// The scope lets `cat` take any absolute path; the kernel does not.
let errors = '';
const catting = shell.spawn('cat', [T.key], { onOutput: (stream, text) => { if (stream === 'stderr') errors += text; } });
const catExit = await catting.done;
check('kernel: a spawned program cannot read outside either', catExit.code !== 0 && /Permission denied/.test(errors), { catExit, errors });

// What the user picks is granted through the broker, and only that.
const picked = await dialog.open();
check('kernel: a picked file is readable through fs', picked === T.granted && (await fs.readTextFile(T.granted)) === 'granted', picked);
await rejects('kernel: its sibling is not, through fs', fs.readTextFile(T.sibling), 'scope_denied');
await rejects('kernel: nor by a command that skips the scope check', unscoped('read', T.sibling), 'io_failed', denied);
await rejects('kernel: nor is the grant itself a right of command threads', unscoped('read', T.granted), 'io_failed', denied);
harness.done();
