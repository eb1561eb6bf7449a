// Run with --harness-call-timeout-ms 500: a call that outlives the timeout
// rejects with `timeout`, its late reply is ignored, and the app goes on.
// The slow command does answer, after 2 s; the code `timeout` can only come
// from the bridge's timer, so the call was settled by it, not by the reply.
await rejects('a call that never returns in time rejects with timeout', invoke('slow', { ms: 2000 }), 'timeout', '500 ms');
await sleep(2000); // the late reply arrives now, for a call nobody waits for
check('calls work after a late reply', (await invoke('greet', { name: 'later' })) === 'Hello, later! (from Rust)');
// One timer serves every call, due at the earliest deadline: a call with a
// shorter timeout, made after one with a longer timeout, still times out
// first, and a call that answers in time is not touched.
const order = [];
const late = invoke('slow', { ms: 1500 }, { timeoutMs: 1000 }).catch((e) => { order.push('long:' + e.code); });
const early = invoke('slow', { ms: 1500 }, { timeoutMs: 100 }).catch((e) => { order.push('short:' + e.code); });
const inTime = invoke('slow', { ms: 300 }, { timeoutMs: 5000 }).then(() => { order.push('ok'); });
await Promise.all([late, early, inTime]);
check('each call times out at its own deadline, the earliest first', order.join() === 'short:timeout,ok,long:timeout', order.join());
await rejects('a timeoutMs that is not a number of milliseconds is refused', invoke('greet', { name: 'x' }, { timeoutMs: 'soon' }), 'bad_call', 'timeoutMs');
// A timeout longer than a timer can wait (2^31-1 ms, past which a browser
// fires a timer at once) does not fire early.
let huge = 'pending';
invoke('slow', { ms: 200 }, { timeoutMs: 1e12 }).then(() => { huge = 'ok'; }, (e) => { huge = e.code; });
await sleep(400);
check('a timeout longer than a timer can wait does not fire early', huge === 'ok', huge);
await sleep(1000); // the late replies arrive, for calls nobody waits for
// A call made while the page was loading was queued and answered.
check('a call made before the frame was ready is queued and answered', document.getElementById('startup').textContent === 'Hello, startup! (from Rust)', document.getElementById('startup').textContent);
harness.done();
