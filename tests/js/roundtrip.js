// Every demo command round-trips through the isolation frame; arguments
// arrive intact; hooks reject and rewrite; errors carry stable codes.

check('greet: hook trims, Rust greets', (await invoke('greet', { name: '  Ada  ' })) === 'Hello, Ada! (from Rust)');

const text = 'line one\nline two — ünïcødé ✓ 🚀';
check('write_report returns byte count', (await invoke('write_report', { contents: text })) === new TextEncoder().encode(text).length);
check('read_report returns what was written', (await invoke('read_report')) === text);

const unicode = '\u0000 nul, "quotes", \\ backslash, \u2028\u2029, 𝒳, 😀, \uFFFD, ' + String.fromCharCode(0xe9);
check('unicode args round-trip intact', (await invoke('echo', { data: unicode })) === unicode);

const mib = 'abcdefghijklmnop'.repeat(65536);
const back = await invoke('echo', { data: mib });
check('1 MiB round-trips intact', back.length === mib.length && back === mib, back.length);
// Text whose UTF-8 outgrows its length in UTF-16 units: the frame's
// encoder guesses ASCII and grows, never splitting a surrogate pair.
const wide = 'a' + 'ü€😀x'.repeat(200000);
const wideBack = await invoke('echo', { data: wide });
check('large non-ASCII text round-trips intact', wideBack === wide, wideBack.length);

await rejects('hook rejects oversized report', invoke('write_report', { contents: 'x'.repeat(65 * 1024) }), 'rejected_by_hook', 'over 64 KiB');
await rejects('hook rejects NUL in report', invoke('write_report', { contents: 'a\0b' }), 'rejected_by_hook', 'NUL');
await rejects('hook returning false rejects', invoke('forbidden', {}), 'rejected_by_hook');
check('rejected report did not change the file', (await invoke('read_report')) === text);

await rejects('unknown command', invoke('format_disk', {}), 'unknown_command', 'format_disk');
await rejects('keys are not case-converted', invoke('greet', { Name: 'x' }), 'bad_args', 'missing field `name`');
await rejects('extra key names the field and expected ones', invoke('greet', { name: 'x', admin: true }), 'bad_args', 'unknown field `admin`, expected one of `name`');
await rejects('no-arg command refuses arguments', invoke('read_report', { path: '/etc/passwd' }), 'bad_args', 'unknown field `path`');
await rejects('wrong type', invoke('greet', { name: 5 }), 'bad_args', 'invalid type');

try {
  await invoke('fail');
  check('app error: code app with data', false, 'resolved');
} catch (e) {
  check('app error: code app with data', e.code === 'app' && e.cmd === 'fail' && e.data && e.data.kind === 'no_report', { code: e.code, data: e.data });
}

await rejects('panicking handler gives handler_failed', invoke('panic'), 'handler_failed');
await rejects('panicking async handler gives handler_failed', invoke('panic_async'), 'handler_failed');
check('app keeps running after a panic', (await invoke('greet', { name: 'again' })) === 'Hello, again! (from Rust)');

await rejects('non-cloneable args are refused', invoke('echo', { data: () => 1 }), 'bad_args');

// A slow command does not hold up others.
const order = [];
const slow = invoke('slow', { ms: 1500 }).then(() => order.push('slow'));
const fast = invoke('greet', { name: 'fast' }).then(() => order.push('fast'));
await Promise.all([slow, fast]);
check('slow command does not block other calls', order[0] === 'fast', order);

// 200 concurrent calls, each answered with its own value.
const values = Array.from({ length: 200 }, (_, i) => `call-${i}-` + 'z'.repeat(i));
const replies = await Promise.all(values.map((v) => invoke('echo', { data: v })));
check('200 concurrent calls resolve correctly', replies.every((r, i) => r === values[i]), replies.filter((r, i) => r !== values[i]).length);

// JSON semantics, not object-literal ones: a "__proto__" key is a key.
const value = JSON.parse('{"__proto__": {"polluted": true}, "safe": 1}');
const tricky = await invoke('echo_json', { value });
check('reply objects keep JSON semantics ("__proto__" is an ordinary key)',
  Object.getPrototypeOf(tricky) === Object.prototype && tricky.polluted === undefined &&
  Object.prototype.hasOwnProperty.call(tricky, '__proto__') && tricky.safe === 1, Object.keys(tricky));
// The same for a reply too large to come back inline: it comes as a
// script the core writes (src/ipc/transport/reply.rs), as JSON text.
const bigTricky = await invoke('echo_json', { value: JSON.parse('{"__proto__": {"polluted": true}, "pad": "' + 'p'.repeat(100 * 1024) + '"}') });
check('large reply objects keep JSON semantics too',
  Object.getPrototypeOf(bigTricky) === Object.prototype && bigTricky.polluted === undefined &&
  Object.prototype.hasOwnProperty.call(bigTricky, '__proto__') && bigTricky.pad.length === 100 * 1024, Object.keys(bigTricky));

// Leave a known report for the Rust side to check.
await invoke('write_report', { contents: 'final report' });
harness.done();
