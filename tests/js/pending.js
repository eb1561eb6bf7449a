// limits.maxPendingCalls = 3 and a 600 ms call timeout (set by the Rust
// test): calls past the limit are refused with `busy`, and a handler that
// outlives its caller's timeout keeps its slot until it finishes.
await sleep(500); // the demo page's own start-up calls are done
const burst = await Promise.allSettled(Array.from({ length: 10 }, () => invoke('slow', { ms: 300 })));
const ran = burst.filter((r) => r.status === 'fulfilled' && r.value === 300).length;
const busy = burst.filter((r) => r.status === 'rejected' && r.reason.code === 'busy').length;
check('a burst past the limit: 3 run, 7 are busy', ran === 3 && busy === 7, { ran, busy });
check('the refusal says why', burst.some((r) => r.status === 'rejected' && /3 calls are still running/.test(r.reason.message)));
await rejects('the page stops waiting for a slow handler', Promise.all([invoke('slow', { ms: 2500 }), invoke('slow', { ms: 2500 }), invoke('slow', { ms: 2500 })]), 'timeout');
await rejects('handlers that outlived their callers still hold their slots', invoke('echo', { data: 'x' }), 'busy');
await sleep(2600);
check('once they finish, calls pass again', (await invoke('echo', { data: 'y' })) === 'y');
harness.done();
