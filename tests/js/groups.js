// Programs and what they fork (T.dir: a directory for the marks the
// grandchildren would leave). Every program forks a grandchild that writes
// a file a second later: when the program is killed, its call ends, its
// page load ends (a reload, a crash) or the app exits, the grandchild must
// die with it, so the Rust test finds no mark. Also: no descriptor of the
// app's reaches a program, pushes that read like JSON stay what they were,
// and stdin writes are bounded.
const { shell, Channel, listen } = window.moat;
const mark = (name) => `${T.dir}/${name}`;

function forker(name) {
  let said = null;
  const started = new Promise((resolve) => { said = resolve; });
  const p = shell.spawn('forker', ['-c', T.forker, 'x', mark(name)], { onOutput: (stream, text) => { if (text.includes('started')) said(); } });
  p.done.catch((e) => said(Promise.reject(e)));
  return { p, started };
}

if (harness.load === 1) {
  // Killed by the page.
  const killed = forker('killed');
  await killed.started;
  await killed.p.kill();
  const exit = await killed.p.done;
  check('groups: kill ends the program', exit.killed === true, exit);

  // A program that returns at once, leaving its child behind.
  const left = await invoke('shell.execute', { name: 'leaver', args: ['-c', T.leaver, 'x', mark('left-by-execute')] });
  check('groups: shell.execute of a program that leaves a child returns', left.code === 0 && left.stdout.includes('started'), left);
  const leftSpawn = await shell.spawn('leaver', ['-c', T.leaver, 'x', mark('left-by-spawn')]).done;
  check('groups: shell.spawn of a program that leaves a child ends', leftSpawn.code === 0 && !leftSpawn.killed, leftSpawn);

  // A child that leaves the group on purpose: the kernel refuses it that.
  const escaped = await invoke('shell.execute', { name: 'escaper', args: ['-c', T.escaper, 'x', mark('escaped-with-setsid')] });
  check('groups: a program\'s child cannot leave its group with setsid', escaped.stdout.includes('started') && escaped.stderr.includes('Operation not permitted'), escaped);

  // Signals: its own children only (the test's process is outside), on a
  // kernel that scopes them (T.scoped); elsewhere both go.
  const signalled = await invoke('shell.execute', { name: 'signaller', args: ['-c', T.signaller, 'x', T.outside] });
  const outside = T.scoped ? /^own\n.*Operation not permitted\s*outside 1\n$/s : /^own\noutside 0\n$/;
  check('signals: a program signals its own child, and nothing outside', outside.test(signalled.stdout), { scoped: T.scoped, ...signalled });

  // Descriptors: only stdin, stdout and stderr.
  const fds = await invoke('shell.execute', { name: 'fds', args: ['-c', T.fds] });
  check('fds: a program has only 0, 1 and 2 open', fds.stdout.trim().split(/\s+/).join(',') === '0,1,2', fds.stdout);
  // All of them, above 9 too: the Rust test lists this one's in /proc while
  // it runs (it ends with its page load).
  const idle = shell.spawn('idle', ['31']);
  await idle.started;
  check('fds: a program is running for the test to look at', true, null);

  // A push that reads like JSON arrives as what was sent.
  let proto = '';
  await shell.spawn('proto', ['__proto__'], { onOutput: (s, t) => { proto += t; } }).done;
  check('push: output that is exactly __proto__ arrives as text', proto === '__proto__', proto);
  const seen = [];
  const off = listen('shape', (p) => seen.push(p));
  const own = JSON.parse('{"__proto__": {"polluted": true}, "n": 1}');
  await invoke('emit', { name: 'shape', payload: own });
  await invoke('emit', { name: 'shape', payload: '{"looks":"like json"}' });
  await invoke('emit', { name: 'shape', payload: '__proto__' });
  for (let i = 0; i < 100 && seen.length < 3; i++) await sleep(10);
  off();
  const [obj, text, word] = seen;
  check('push: an own "__proto__" key arrives as a key, not a prototype', !!obj && typeof obj === 'object' && Object.getPrototypeOf(obj) === Object.prototype && Object.keys(obj).includes('__proto__') && obj.n === 1 && ({}).polluted === undefined, JSON.stringify(seen));
  check('push: a string that looks like JSON stays a string', text === '{"looks":"like json"}', text);
  check('push: the string "__proto__" stays that string', word === '__proto__', word);
  const chan = [];
  await invoke('burst', { count: 1, progress: new Channel((m) => chan.push(m)) });
  check('push: a channel message is a value', chan.length === 1 && chan[0] === 1, chan);

  // stdin: a program that reads nothing; writes wait, then are busy, and
  // memory stays where it was.
  const sink = shell.spawn('sink', ['30'], { stdin: true });
  await sink.started;
  const chunk = 'x'.repeat(4 << 20);
  check('stdin: before', true, null);
  let written = 0;
  let refused = null;
  for (let i = 0; i < 96 && !refused; i++) {
    try { await sink.write(chunk); written += chunk.length; } catch (e) { refused = e; }
  }
  check('stdin: writes to a program that reads nothing become busy', !!refused && refused.code === 'busy' && /already waiting/.test(refused.message), { written, code: refused && refused.code, message: refused && refused.message });
  check('stdin: after', written < (16 << 20), written);
  await sink.kill();
  // A program that reads still gets everything.
  let echoed = 0;
  const cat = shell.spawn('cat', [], { stdin: true, onOutput: (s, t) => { echoed += t.length; } });
  await cat.started;
  for (let i = 0; i < 8; i++) await cat.write('y'.repeat(1 << 20));
  await cat.closeStdin();
  await cat.done;
  check('stdin: a program that reads gets every byte', echoed === 8 << 20, echoed);

  // One more, still running when the web process dies.
  await forker('crashed').started;
  check('ready for crash', true, null);
  await sleep(30000);
} else if (harness.load === 2) {
  check('groups: the page came back after the crash', true);
  await forker('reloaded').started;
  location.reload();
} else {
  await forker('at-exit').started;
  check('groups: a program is running when the app exits', true);
  harness.done();
}
