// A test hook that merges page data into its own objects the naive way
// (every key, "__proto__" and "constructor" included), as hooks copied from
// a tutorial do. In the isolation frame the built-ins are frozen before any
// hook loads, so the merge cannot reach Object.prototype: it throws, and
// `writesAllowed` below stays unset.
function merge(target, source) {
  for (const k in source) {
    const v = source[k];
    if (v !== null && typeof v === 'object') {
      if (target[k] === undefined || target[k] === null) target[k] = {};
      merge(target[k], v);
    } else {
      target[k] = v;
    }
  }
  return target;
}

/** What a hook can and cannot do in the frame (the README's rules). */
async function rules() {
  const attempt = (f) => { try { f(); return 'allowed'; } catch (e) { return e.name; } };
  return {
    eval: attempt(() => eval('1')),
    newFunction: attempt(() => new Function('return 1')),
    localStorage: attempt(() => localStorage.length),
    indexedDB: attempt(() => indexedDB.open('x')),
    page: attempt(() => parent.document.title),
    moat: typeof window.moat,
    push: typeof window.__moatPush,
    reply: typeof window.__moatReply,
    fetch: await fetch('isolation://localhost/hooks/__test__/merge.js').then(() => 'allowed', (e) => e.name),
  };
}

function realm() {
  class HookError extends Error {
    constructor(message) {
      super(message);
      this.name = 'HookError';
    }
  }
  const own = {};
  own.toString = () => 'own toString';
  return {
    objectFrozen: Object.isFrozen(Object.prototype),
    arrayFrozen: Object.isFrozen(Array.prototype),
    promiseFrozen: Object.isFrozen(Promise.prototype),
    subtleFrozen: Object.isFrozen(SubtleCrypto.prototype),
    polluted: ({}).writesAllowed !== undefined,
    errorName: new HookError('x').name,
    ownToString: String(own),
  };
}

export default function mergeHook({ cmd, args }) {
  if (cmd === 'echo_json' && args.value !== null && typeof args.value === 'object') {
    merge({ theme: 'light' }, args.value); // the page's preferences
  }
  if (cmd === 'fs.write_text_file') {
    const settings = merge({}, { theme: 'light' });
    if (settings.writesAllowed !== true) throw new Error('merge: file writes are off');
  }
  if (cmd === 'echo' && args.data === 'report-realm') throw new Error(JSON.stringify(realm()));
  if (cmd === 'echo' && args.data === 'report-rules') {
    return rules().then((r) => { throw new Error(JSON.stringify(r)); });
  }
  return undefined;
}
