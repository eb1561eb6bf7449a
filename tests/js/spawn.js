// shell.spawn: output streamed in order and complete, stdin, kill, the
// scope's refusals, and (with the Rust side) programs ending with their
// page load and with the app.
const { shell } = window.moat;
const until = async (f, ms = 5000) => { for (let t = 0; t < ms && !f(); t += 10) await sleep(10); return f(); };

if (harness.load === 1) {
  // seq 1 100000: about 600 KB of stdout, in many messages.
  let out = '';
  let messages = 0;
  const seq = shell.spawn('seq', ['100000'], { onOutput: (stream, text) => { if (stream === 'stdout') { out += text; messages += 1; } } });
  const id = await seq.started;
  const exit = await seq.done;
  const lines = out.split('\n');
  let inOrder = lines.length === 100001 && lines[100000] === '';
  for (let i = 0; inOrder && i < 100000; i++) inOrder = lines[i] === String(i + 1);
  check('spawn: stdout arrives complete and in order', inOrder && exit.code === 0 && !exit.killed, { id, lines: lines.length, messages, exit });
  check('spawn: in several messages, as it comes', messages > 1, messages);

  const streams = [];
  const both = shell.spawn('both', ['-c', 'echo to stdout; echo to stderr >&2; exit 3'], { onOutput: (stream, text) => streams.push([stream, text]) });
  const bothExit = await both.done;
  check('spawn: stdout and stderr are told apart', bothExit.code === 3 && streams.some(([s, t]) => s === 'stdout' && t.includes('to stdout')) && streams.some(([s, t]) => s === 'stderr' && t.includes('to stderr')), { streams, bothExit });

  // stdin: cat echoes what the page writes.
  let echoed = '';
  const cat = shell.spawn('cat', [], { stdin: true, onOutput: (s, t) => { echoed += t; } });
  await cat.started;
  await cat.write('héllo ');
  await cat.write('wörld\n');
  check('spawn: writes reach stdin', await until(() => echoed === 'héllo wörld\n'), echoed);
  await cat.closeStdin();
  const catExit = await cat.done;
  check('spawn: closing stdin ends cat', catExit.code === 0 && !catExit.killed, catExit);
  await rejects('spawn: a program that was spawned without stdin cannot be written to', (async () => {
    const s = shell.spawn('sleep', ['5']);
    await s.started;
    try { return await s.write('x'); } finally { await s.kill(); }
  })(), 'io_failed', 'stdin');

  // kill.
  const sleeper = shell.spawn('sleep', ['30']);
  await sleeper.started;
  await sleeper.kill();
  const killed = await sleeper.done;
  check('spawn: kill ends it, and says so', killed.killed === true && killed.code === null, killed);
  await rejects('spawn: a finished program cannot be killed', sleeper.kill(), 'not_found');
  await rejects('spawn: nor an id that was never given', invoke('shell.kill', { id: 987654 }), 'not_found');

  // The scope of shell.execute, for spawn too.
  for (const [what, name, args, code] of [
    ['a program outside the scope', 'rm', ['-rf', '/'], 'scope_denied'],
    ['an argument its validator refuses', 'sleep', ['1; id'], 'scope_denied'],
    ['more arguments than the entry takes', 'sleep', ['1', '2'], 'scope_denied'],
    ['arguments to an entry that takes none', 'cat', ['/etc/passwd'], 'scope_denied'],
  ]) {
    const s = shell.spawn(name, args);
    await rejects(`spawn: ${what} is ${code}`, s.done, code);
    await rejects(`spawn: ${what} never starts`, s.started, code);
  }

  // Programs that must end with this page: the Rust side looks for them
  // (the page cannot: the kernel keeps /proc from its programs).
  const orphan = shell.spawn('sleep', ['3017']);
  await orphan.started;
  check('spawn: a program is running when the page reloads', true);
  location.reload();
} else {
  // The page before started `sleep 3017` and is gone: the Rust side finds
  // that the program ended with it.
  check('spawn: the next page load started', true);
  await sleep(1000);
  // One more, still running when the app exits.
  const atExit = shell.spawn('sleep', ['3018']);
  await atExit.started;
  check('spawn: a program is running when the app exits', true);
  harness.done();
}
