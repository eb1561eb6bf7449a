// The page script of benches/cpu-per-call.sh: a long run of sequential
// 16-byte echo calls (after 500 warm-up calls), with the page held still
// as in workload.js, so per-thread CPU can be sampled in its middle.
const { invoke } = window.moat;
const clock = document.getElementById('clock');
if (clock) clock.style.display = 'none';
const s16 = '0123456789abcdef';
for (let i = 0; i < 500; i++) await invoke('echo', { data: s16 });
const N = 60000;
const t = performance.now();
for (let i = 0; i < N; i++) await invoke('echo', { data: s16 });
harness.result('figures', true, { seq_16b_us: (performance.now() - t) * 1000 / N });
harness.done();
