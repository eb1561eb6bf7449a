// Lab runs of large calls (docs/bench.md), not part of make bench: two
// warm-up calls, then five 10 MiB text and five 10 MiB bytes echoes,
// alternated, reported as MB/s. Run the release demo with
// --harness-script benches/big.js and the bench's config (rate raised).
const { invoke } = window.moat;
await new Promise((r) => setTimeout(r, 800));
const s = 'abcdefghijklmnop'.repeat((10 << 20) / 16);
const data = new Uint8Array(10 << 20);
for (let i = 0; i < data.length; i += 4093) data[i] = i & 255;
await invoke('echo', { data: s });
await invoke('bytes_echo', { data });
let tt = 0, tb = 0;
for (let i = 0; i < 5; i++) {
  let t0 = performance.now(); const r = await invoke('echo', { data: s }); tt += performance.now() - t0;
  if (r.length !== s.length) throw new Error('wrong');
  t0 = performance.now(); const b = await invoke('bytes_echo', { data }); tb += performance.now() - t0;
  if (b.length !== data.length) throw new Error('wrong');
}
const mb = (10 << 20) / 1e6;
harness.result('big', true, { text: +(mb / (tt / 5 / 1000)).toFixed(1), bytes: +(mb / (tb / 5 / 1000)).toFixed(1) });
harness.done();
