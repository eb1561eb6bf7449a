// A default Vite build of a React, Vue or Svelte app (tests/frontends/),
// served unchanged as the app's frontend (--harness-frontend): it renders,
// loads its CSS, lazy chunk, image and inlined data: font, calls Rust, and a
// client-side route survives a reload. The React app also styles with
// styled-components (CSS-in-JS injecting <style> at run time).
const $ = (sel) => document.querySelector(sel);

async function until(what, f, ms = 5000) {
  for (let waited = 0; waited < ms; waited += 20) {
    const v = f();
    if (v) return v;
    await sleep(20);
  }
  return null;
}

const framework = document.title.replace(/^Vite \+ (\w+) under Moat$/, '$1');
const greeting = await until('greeting', () => $('#greeting') && $('#greeting').textContent.startsWith('Hello') && $('#greeting'));
check(`${framework}: renders and calls Rust`, !!greeting && greeting.textContent === `Hello, ${framework}! (from Rust)`, greeting && greeting.textContent);

if (harness.load === 1) {
  check(`${framework}: its stylesheet applies`, !!greeting && getComputedStyle(greeting).letterSpacing === '3px', greeting && getComputedStyle(greeting).letterSpacing);
  const lazy = await until('lazy', () => $('#lazy'));
  check(`${framework}: a lazy chunk loads, with its own stylesheet`, !!lazy && getComputedStyle(lazy).borderLeftWidth === '7px' && getComputedStyle(lazy).borderLeftColor === 'rgb(1, 2, 3)', lazy && getComputedStyle(lazy).borderLeft);
  const logo = await until('logo', () => $('#logo') && $('#logo').complete && $('#logo'));
  check(`${framework}: an image loads`, !!logo && logo.naturalWidth > 0, logo && logo.src);
  const fonts = await document.fonts.load('16px MoatTiny', 'Moat');
  check(`${framework}: a font inlined as data: loads`, fonts.length === 1 && fonts[0].status === 'loaded' && document.fonts.check('16px MoatTiny', 'Moat'), fonts.map((f) => f.status));
  const meta = $('meta[property="csp-nonce"]');
  check(`${framework}: the response's nonce is in <meta property="csp-nonce">`, !!meta && meta.nonce.length >= 16, meta && meta.outerHTML);
  check(`${framework}: and only where CSS cannot read it`, !!meta && !meta.hasAttribute('content') && meta.getAttribute('nonce') === '' && !document.querySelector(`meta[nonce="${meta.nonce}"]`), meta && meta.outerHTML);
  // The README's recipe for a style added at run time.
  const style = document.createElement('style');
  style.nonce = $('meta[property="csp-nonce"]').nonce;
  style.textContent = '#route { outline: 2px solid rgb(9, 8, 7); }';
  document.head.append(style);
  const unnonced = document.createElement('style');
  unnonced.textContent = '#route { word-spacing: 11px; }';
  document.head.append(unnonced);
  await sleep(50);
  check(`${framework}: a <style> added with the meta's nonce applies`, getComputedStyle($('#route')).outlineColor === 'rgb(9, 8, 7)', getComputedStyle($('#route')).outline);
  check(`${framework}: one without it does not`, getComputedStyle($('#route')).wordSpacing !== '11px', getComputedStyle($('#route')).wordSpacing);
  if (framework === 'React') {
    const styled = $('#styled');
    check('React: styled-components styles apply (nonce from the meta)', !!styled && getComputedStyle(styled).color === 'rgb(4, 5, 6)', styled && getComputedStyle(styled).color);
  }
  // A client-side route, then a reload on it.
  $('#go').click();
  await until('route', () => location.pathname === '/settings/profile');
  check(`${framework}: the router moved to /settings/profile`, $('#route').textContent === '/settings/profile', $('#route').textContent);
  location.reload();
} else {
  check(`${framework}: a reload on a client-side route serves the app`, location.pathname === '/settings/profile' && $('#route').textContent === '/settings/profile', location.href);
  harness.done();
}
