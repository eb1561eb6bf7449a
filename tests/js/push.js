// Push from Rust to the page: channels (in order, before the reply, nothing
// after close) and events (named, to listeners only, until unlistened).
const { Channel, listen } = window.moat;
const until = async (f, ms = 3000) => { for (let t = 0; t < ms && !f(); t += 10) await sleep(10); return f(); };

// A channel through an async command that awaits between messages.
const steps = [];
const done = await invoke('long_work', { steps: 12, step_ms: 5, progress: new Channel((m) => steps.push(m.done)) });
check('channel: every message arrives, in order, before the reply', done === '12 steps done' && steps.join() === [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].join(), { done, steps });

// An async command that finishes in its first poll: its reply rides in the
// answer to the frame's post, its messages in a script.
for (const count of [1, 50]) {
  const got = [];
  const n = await invoke('burst', { count, progress: new Channel((m) => got.push(m)) });
  check(`channel: a reply in the post's answer still comes after its ${count} message(s)`, n === count && got.length === count && got[count - 1] === count, { n, got: got.length });
}
// A large call: its reply is the fetch's response.
for (const count of [1, 50]) {
  const got = [];
  const n = await invoke('burst', { count, pad: big('x'), progress: new Channel((m) => got.push(m)) });
  check(`channel: a reply in a fetch response still comes after its ${count} message(s)`, n === count && got.length === count && got[count - 1] === count, { n, got: got.length });
}

// A sync command that returns (its reply comes in the
// answer to the frame's post), then sends after it returned.
const late = [];
const returned = await invoke('late_send', { progress: new Channel((m) => late.push(m)) });
check('channel: a fast reply still comes after its messages', returned === 'returned' && late.join() === '1', { returned, late });
await sleep(300);
check('channel: a send after the command finished is not delivered', late.join() === '1', late);
check('channel: and is an error in Rust', (await invoke('late_send_result')) === 'closed');

// Several calls with channels at once keep theirs apart.
const a = [], b = [];
const both = await Promise.all([
  invoke('long_work', { steps: 5, step_ms: 3, progress: new Channel((m) => a.push(m.done)) }),
  invoke('long_work', { steps: 3, step_ms: 7, progress: new Channel((m) => b.push(m.done)) }),
]);
check('channel: concurrent calls each get their own messages', a.join() === '1,2,3,4,5' && b.join() === '1,2,3' && both.join() === '5 steps done,3 steps done', { a, b, both });

// A channel marker written by hand names no Channel: the call still settles.
const forged = await invoke('long_work', { steps: 2, step_ms: 1, progress: { __moatChannel: 9999 } });
check('channel: a hand-written marker reaches nothing and the call settles', forged === '2 steps done', forged);

await rejects('channel: a command refused before it ran settles at once', invoke('long_work', { steps: 1, step_ms: 1, progress: new Channel(() => {}), extra: 1 }), 'bad_args');

// Events.
const seen = [];
const off = listen('pinged', (p) => seen.push(p));
await invoke('emit', { name: 'pinged', payload: { n: 1 } });
check('event: a listener gets the payload', await until(() => seen.length === 1) && seen[0].n === 1, seen);
const seen2 = [];
const off2 = listen('pinged', (p) => seen2.push(p));
await invoke('emit', { name: 'pinged', payload: { n: 2 } });
check('event: every listener of the name gets it', await until(() => seen.length === 2 && seen2.length === 1), { seen, seen2 });
off();
off2();
await invoke('emit', { name: 'pinged', payload: { n: 3 } });
await sleep(200);
check('event: after unlisten, nothing more', seen.length === 2 && seen2.length === 1, { seen, seen2 });
await invoke('emit', { name: 'nobody-listens', payload: 1 });
check('event: an event with no listener is dropped quietly', (await invoke('echo', { data: 'still fine' })) === 'still fine');
let badName = null;
try { listen('bad name', () => {}); } catch (e) { badName = e; }
check('event: listen checks the name', badName instanceof MoatError && badName.code === 'bad_call', badName && badName.message);
await rejects('event: emit checks the name in Rust', invoke('emit', { name: 'bad name', payload: 1 }), 'app');
const ticks = [];
const offClock = listen('clock', (t) => ticks.push(t));
check('event: the background clock ticks', await until(() => ticks.length >= 1, 3000) && /^\d\d:\d\d:\d\d$/.test(ticks[0]), ticks);
offClock();
harness.done();
