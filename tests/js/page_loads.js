// What a page load leaves behind when it goes (limits.maxPendingCalls = 3,
// set by the Rust test): its hung calls do not lock the next page out, and
// an event its command emits later reaches no one.
const { listen } = window.moat;
if (harness.load === 1) {
  await sleep(300); // the demo page's own start-up calls are done
  // Three calls that hold every slot: two slow ones, and one that emits
  // after the page is gone.
  invoke('slow', { ms: 4000 }).catch(() => {});
  invoke('slow', { ms: 4000 }).catch(() => {});
  invoke('emit_later', { name: 'late', after_ms: 2500 }).catch(() => {});
  await sleep(100);
  await rejects('pending: a fourth call of this page is busy', invoke('echo', { data: 'x' }), 'busy', '3 calls are still running');
  location.reload();
} else {
  const heard = [];
  listen('late', (p) => heard.push(p));
  check('pending: the next page load is not locked out by the calls of the one before', (await invoke('echo', { data: 'at once' })) === 'at once');
  // The command emits 2.5 s after it started (well after this page load
  // began, however slow the machine): wait for it to have tried.
  let result = null;
  for (let i = 0; i < 100 && result === null; i++) {
    await sleep(100);
    result = await invoke('emit_later_result');
  }
  await sleep(200);
  check('event: a command of the page before emits into nothing', heard.length === 0, heard);
  check('event: and is told its page is gone', result === 'page_gone', result);
  harness.done();
}
