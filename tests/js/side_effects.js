// The demo's own config: side effects are rate limited by default.
const { shell } = window.moat;
const opens = await Promise.allSettled(Array.from({ length: 200 }, () => shell.open('https://github.com/moat-demo')));
const opened = opens.filter((r) => r.status === 'fulfilled').length;
const limited = opens.filter((r) => r.status === 'rejected' && r.reason.code === 'rate_limited').length;
check('open: a burst of 200 opens launches the opener 10 times', opened === 10 && limited === 190, { opened, limited });
const refusal = opens.find((r) => r.status === 'rejected');
check('open: the refusal says the limit', /more than 10 shell.open calls per minute/.test(refusal && refusal.reason.message), refusal && refusal.reason.message);
await sleep(1100); // the opens above took tokens from the same bucket
const calls = await Promise.allSettled(Array.from({ length: 1600 }, (_, i) => invoke('echo', { data: 'x' + i })));
const ok = calls.filter((r) => r.status === 'fulfilled').length;
const rate = calls.filter((r) => r.status === 'rejected' && r.reason.code === 'rate_limited').length;
check('calls: a burst past 1000 per second is partly refused', ok >= 1000 && rate > 0 && ok + rate === 1600, { ok, rate });
harness.done();
