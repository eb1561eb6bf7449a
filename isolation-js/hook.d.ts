// Types for isolation hooks: the modules listed in `isolation.hooks`, which
// run in the sandboxed isolation frame. A hook is not page script: it has
// no `window.moat` (declared `never` here), no access to the page, no
// network, no storage, no `eval` or `new Function`, and it imports other
// files only by a relative path inside the hooks folder. Its module state
// lasts one page load. See "Writing a hook" in docs/guide.md.
//
//   /** @type {import('./hook').Hook} */
//   export default function validate({ cmd, args }, ctx) { … }

/**
 * What a hook receives and may return. The arguments a hook receives are
 * plain JSON data (what `JSON.stringify` would write of the caller's value,
 * copied in the frame) and deeply frozen: exactly what is sealed if the call
 * passes. To change them, return a new `Call`; it is made JSON again before
 * the next hook sees it. `args` is always an object with named keys, never
 * an array. Every string in it, and `cmd`, is well-formed Unicode (no lone
 * surrogates). Names starting with `moat.` are Moat's and cannot be
 * returned. The frame's built-ins are frozen before hooks load.
 */
export interface Call {
  readonly cmd: string;
  readonly args: { readonly [key: string]: JsonValue };
}

/** A JSON value, as a hook sees one. */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** Trusted facts about the call, set by Moat, not by the page. */
export interface HookContext {
  /** The label of the window the call came from. */
  readonly window: string;
  /** The app's origin, `app://localhost`. */
  readonly origin: string;
}

/**
 * An isolation hook: the default export of a module listed in
 * `isolation.hooks`. Hooks run in the order listed, each on what the one
 * before returned, and may be async. Return nothing (or `true`) to let the
 * call through, a rewritten `Call` to change it, or `false` / throw /
 * reject to refuse it (the caller gets `rejected_by_hook` with the thrown
 * message). Anything else is refused too, with a message naming the hook.
 */
export type Hook = (call: Call, ctx: HookContext) => void | boolean | Call | Promise<void | boolean | Call>;

declare global {
  interface Window {
    /** Page script only: there is no `window.moat` inside a hook. */
    readonly moat?: never;
  }
}
