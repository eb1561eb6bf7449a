// The page script of `make bench` (docs/bench.md), run as is by every
// subject: Moat (window.moat.invoke through the isolation frame), the
// bare-wry baseline (the same names over window.ipc) and the floor (the
// pattern's shape without Moat's code).
const { invoke } = window.moat;
let wrong = 0;

async function echo(s) {
  const r = await invoke('echo', { data: s });
  if (typeof r !== 'string' || r.length !== s.length || r !== s) wrong++;
}

// startup_ms: process start to this reply, timed by Rust when it hears it.
await echo('first');
harness.result('first_reply', wrong === 0, null);

// The page holds still while it is measured, in every subject alike: the
// demo's clock (a push event each second, shown live) repaints the page
// each second, a cost of the demo's content, not of the IPC path (2-4% of
// a sequential call's CPU with llvmpipe).
const clock = document.getElementById('clock');
if (clock) clock.style.display = 'none';

const s16 = '0123456789abcdef';
const s1k = 'x'.repeat(1024);
for (let i = 0; i < 200; i++) await echo(s16);

async function seq(s, n) {
  const t = performance.now();
  for (let i = 0; i < n; i++) await echo(s);
  return ((performance.now() - t) * 1000) / n;
}
const seq_16b_us = await seq(s16, 2000);
const seq_1k_us = await seq(s1k, 2000);

const batches = [];
for (let b = 0; b < 100; b++) batches.push(await seq(s16, 20));
batches.sort((a, b) => a - b);
const batch_p99_us = batches[Math.ceil(0.99 * batches.length) - 1];

let nextCall = 0;
const t = performance.now();
await Promise.all(Array.from({ length: 64 }, async () => {
  while (nextCall < 4000) {
    const i = nextCall++;
    await echo(s16 + i);
  }
}));
const concurrent_per_s = 4000 / ((performance.now() - t) / 1000);

async function throughput(bytes) {
  const s = 'abcdefghijklmnop'.repeat(bytes / 16);
  let total = 0;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await echo(s);
    total += performance.now() - t0;
  }
  return bytes / 1e6 / (total / 5 / 1000);
}
const mb_per_s_1m = await throughput(1 << 20);
const mb_per_s_10m = await throughput(10 << 20);

// Bytes, where the subject has them (Moat and the ceiling: a Uint8Array in,
// the same back).
async function bytesThroughput(bytes) {
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i += 4093) data[i] = i & 255;
  let total = 0;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const back = await invoke('bytes_echo', { data });
    total += performance.now() - t0;
    if (!(back instanceof Uint8Array) || back.length !== bytes || back[4093] !== (4093 & 255) || back[bytes - 1] !== data[bytes - 1]) wrong++;
  }
  return bytes / 1e6 / (total / 5 / 1000);
}
const mb_per_s_10m_bytes = (window.moat.Channel || window.moat.bytes === true) ? await bytesThroughput(10 << 20) : null;

harness.result('figures', wrong === 0, {
  seq_16b_us, seq_1k_us, batch_p99_us, concurrent_per_s, mb_per_s_1m, mb_per_s_10m, mb_per_s_10m_bytes, wrong,
});

// cpu_us_per_call: benches/ipc.rs reads the CPU time of the subject's
// processes (its own and WebKit's) when it hears each of these two results;
// between them, only sequential 16-byte calls run.
const cpu_calls = 15000;
harness.result('cpu_start', true, null);
for (let i = 0; i < cpu_calls; i++) await echo(s16);
harness.result('cpu_end', wrong === 0, { calls: cpu_calls });
harness.done();
