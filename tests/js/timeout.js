// Run with --harness-call-timeout-ms 500: a call that outlives the timeout
// rejects with `timeout`, its late reply is ignored, and the app goes on.
// The slow command does answer, after 2 s; the code `timeout` can only come
// from the bridge's timer, so the call was settled by it, not by the reply.
await rejects('a call that never returns in time rejects with timeout', invoke('slow', { ms: 2000 }), 'timeout', '500 ms');
await sleep(2000); // the late reply arrives now, for a call nobody waits for
check('calls work after a late reply', (await invoke('greet', { name: 'later' })) === 'Hello, later! (from Rust)');
// A call made while the page was loading was queued and answered.
check('a call made before the frame was ready is queued and answered', document.getElementById('startup').textContent === 'Hello, startup! (from Rust)', document.getElementById('startup').textContent);
harness.done();
