// Types for pages and isolation hooks running under Moat.

/** Stable error codes. Codes are added over time, never renamed. */
export type MoatErrorCode =
  // bridge and isolation frame
  | 'rejected_by_hook' | 'no_key' | 'hook_failed' | 'isolation_failed' | 'timeout' | 'transport' | 'bad_reply'
  // core
  | 'bad_origin' | 'rate_limited' | 'busy' | 'not_an_envelope' | 'decrypt_failed' | 'replayed' | 'bad_call' | 'unknown_command'
  | 'not_allowed' | 'bad_args' | 'handler_failed'
  // built-in modules
  | 'path_invalid' | 'scope_denied' | 'not_found' | 'io_failed' | 'url_invalid' | 'http_failed'
  // the command's own error, serialised in `data`
  | 'app';

/** The rejection of every failed `invoke`. */
export declare class MoatError extends Error {
  readonly name: 'MoatError';
  readonly code: MoatErrorCode;
  /** The command that was called. */
  readonly cmd: string | null;
  /** With `code: 'app'`: the command's error value as the Rust side serialised it. */
  readonly data?: unknown;
}

export interface Moat {
  /**
   * Calls a Rust command through the isolation frame. Argument keys are sent
   * verbatim (no case conversion); unknown keys are refused with `bad_args`.
   * `args` travels as JSON and must be an object with named keys (an array
   * is refused with `bad_args`).
   */
  invoke<T = unknown>(cmd: string, args?: Record<string, unknown>): Promise<T>;
  /** Settles when the isolation frame has its key and hooks (rejects with a MoatError if it never will). */
  readonly ready: Promise<void>;
  readonly MoatError: typeof MoatError;
  /** `fs.*`: paths are absolute or start with a base-directory variable (`$APPDATA/notes.txt`). */
  readonly fs: {
    readTextFile(path: string): Promise<string>;
    /** Atomic: the old contents or the new, never half. Resolves with the bytes written. */
    writeTextFile(path: string, contents: string): Promise<number>;
    /** Only entries inside the scope are listed. */
    readDir(path: string): Promise<{ name: string; isDir: boolean; isFile: boolean; isSymlink: boolean }[]>;
    removeFile(path: string): Promise<null>;
  };
  readonly shell: {
    /** Runs the `scope.shell` entry `name` (no shell in between). */
    execute(name: string, args?: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
    /** Hands an https/http/mailto/tel URL inside `scope.open` to the system. */
    open(url: string): Promise<null>;
  };
  readonly http: {
    /** Redirects are followed only inside `scope.http`. */
    fetch(url: string, init?: { method?: string; headers?: Record<string, string>; body?: string }):
      Promise<{ status: number; url: string; headers: Record<string, string>; body: string }>;
  };
  /** `asset://localhost/…` for an absolute path inside `scope.asset`. */
  assetUrl(path: string): string;
}

declare global {
  interface Window {
    readonly moat: Moat;
  }
}

/**
 * What a hook receives and may return. The arguments a hook receives are
 * plain JSON data (what `JSON.stringify` would write of the caller's value,
 * copied in the frame) and deeply frozen: exactly what is sealed if the call
 * passes. To change them, return a new `Call`; it is made JSON again before
 * the next hook sees it. `args` is always an object with named keys, never
 * an array. Every string in it, and `cmd`, is well-formed Unicode (no lone
 * surrogates). The frame's built-ins are frozen before hooks load.
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
 * `isolation.hooks`. Return nothing (or `true`) to let the call through,
 * a rewritten `Call` to change it, or `false` / throw / reject to refuse it
 * (the caller gets `rejected_by_hook` with the thrown message).
 */
export type Hook = (call: Call, ctx: HookContext) => void | boolean | Call | Promise<void | boolean | Call>;
