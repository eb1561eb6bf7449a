// A test hook (hooks/__test__/) that plays a hook gone bad, or code running
// in the isolation frame: for `echo` with `data: "escape"` it tries every
// way out of the frame's sandbox (no allow-popups, allow-top-navigation or
// allow-downloads) and rejects the call with what happened, as JSON.
export default async function escape({ cmd, args }) {
  if (cmd !== 'echo' || args.data !== 'escape') return undefined;
  const out = {};
  const attempt = (name, f) => { try { out[name] = f(); } catch (e) { out[name] = 'threw ' + (e && e.name); } };
  const clickOn = (attrs) => () => {
    const a = document.createElement('a');
    for (const [k, v] of Object.entries(attrs)) a.setAttribute(k, v);
    document.body.append(a);
    a.click();
    return 'clicked';
  };
  attempt('open', () => (window.open('app://localhost/?opened', '_blank') === null ? 'null' : 'opened'));
  attempt('openNamed', () => (window.open('app://localhost/?named', 'moat-named') === null ? 'null' : 'opened'));
  attempt('linkBlank', clickOn({ href: 'app://localhost/?link', target: '_blank' }));
  attempt('linkNamed', clickOn({ href: 'app://localhost/?linknamed', target: 'moat-named' }));
  attempt('form', () => {
    const f = document.createElement('form');
    f.action = 'app://localhost/?form';
    f.target = '_blank';
    document.body.append(f);
    f.submit();
    return 'submitted';
  });
  attempt('top', () => { top.location.href = 'app://localhost/?top'; return 'assigned'; });
  attempt('download', clickOn({ href: 'data:text/plain,secret', download: 'secret.txt' }));
  await new Promise((r) => setTimeout(r, 300));
  throw new Error(JSON.stringify(out));
}
