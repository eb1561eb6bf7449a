// limits.maxCallsPerSecond = 20 (set by the Rust test): a burst of 60 calls
// gets at most the bucket's worth through, the rest are refused with
// rate_limited, and calls pass again once the bucket refills.
const burst = await Promise.allSettled(Array.from({ length: 60 }, (_, i) => invoke('echo', { data: 'b' + i })));
const ok = burst.filter((r) => r.status === 'fulfilled').length;
const limited = burst.filter((r) => r.status === 'rejected' && r.reason.code === 'rate_limited');
check('a burst past the limit is partly refused with rate_limited', ok >= 1 && ok <= 25 && limited.length === 60 - ok,
  { ok, limited: limited.length, message: limited[0] && limited[0].reason.message });
check('the refusal says the limit', !!limited[0] && limited[0].reason.message === 'more than 20 calls per second; try again later',
  limited[0] && limited[0].reason.message);
await sleep(1100);
check('calls pass again after the bucket refills', (await invoke('echo', { data: 'after' })) === 'after');
harness.done();
