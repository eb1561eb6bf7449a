// Reply bytes the page never fetches (T.path: a 33 MiB file in scope, made
// by the Rust test;
// limits.callTimeoutMs = 4000, so they may wait 4 s): bounded while they
// wait, gone on their own after it, and gone at once with their page load.
// The Rust test compares the results' rss_now_kb. Then probes for reply
// bytes: rate limited and logged in bursts.
const reads = 8;
async function unfetched(att) {
  // Sealed through the frame straight to the core: the replies go to the
  // bridge, which knows none of these ids and fetches no bytes.
  for (let i = 0; i < reads; i++) att.seal('fs.read_file', { path: T.path });
}
if (harness.load === 1) {
  await sleep(1000);
  check('bytes: before', true, null);
  const att = await connectTo(isolationFrame());
  await unfetched(att);
  await sleep(2500);
  check('bytes: while unfetched', true, null);
  await sleep(4000);
  check('bytes: after they expire', true, null);
  await unfetched(att);
  await sleep(50);
  location.reload();
} else {
  await sleep(3000);
  check('bytes: after their page load is gone', true, null);
  // Probes for reply bytes nobody is owed.
  const statuses = await Promise.all(Array.from({ length: 1500 }, (_, i) => fetch(`ipc://localhost/blobs/${1000 + i}`, { cache: 'no-store' }).then((r) => r.status, () => 0)));
  const count = (s) => statuses.filter((x) => x === s).length;
  check('probes: reply bytes nobody is owed are not found', count(404) > 0, { 404: count(404), 429: count(429) });
  check('probes: past the call rate they are rate_limited', count(429) > 0 && count(404) + count(429) === 1500, { 404: count(404), 429: count(429) });
  await sleep(1100); // the next log window says what was left out
  check('probes: the app still answers', (await invoke('echo', { data: 'ok' })) === 'ok');
  harness.done();
}
