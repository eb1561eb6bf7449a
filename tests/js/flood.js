// A flood of calls from one page (T.calls, all at once after the first
// 1,000): every promise settles, exactly once, and the UI process's peak
// memory after the flood stays within 20% of where it was after the first
// 1,000 (the Rust test compares the two results' rss_kb).
const N = T.calls;
const settled = new Uint8Array(N);
const codes = {};
const count = (code) => { codes[code] = (codes[code] || 0) + 1; };
function call(i) {
  return invoke('echo', { data: 'call ' + i }).then(
    (r) => { settled[i]++; count(r === 'call ' + i ? 'ok' : 'wrong'); },
    (e) => { settled[i]++; count(e.code); },
  );
}
await Promise.all(Array.from({ length: 1000 }, (_, i) => call(i)));
await sleep(1500); // the app settles after start-up; the rate bucket refills
check('rss: after the first 1,000', codes.ok === 1000, codes);
await Promise.all(Array.from({ length: N - 1000 }, (_, k) => call(1000 + k)));
let once = 0;
for (let i = 0; i < N; i++) if (settled[i] === 1) once++;
check('every promise settled exactly once', once === N && !codes.wrong, { once, codes });
check('rss: after the flood', true, codes);
check('the app still answers', (await invoke('echo', { data: 'after' })) === 'after');
harness.done();
