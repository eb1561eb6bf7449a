// Types for pages and isolation hooks running under Moat.

/** Stable error codes. Codes are added over time, never renamed. */
export type MoatErrorCode =
  // bridge and isolation frame
  | 'rejected_by_hook' | 'no_key' | 'hook_failed' | 'isolation_failed' | 'timeout' | 'transport' | 'bad_reply'
  // core
  | 'bad_origin' | 'not_an_envelope' | 'decrypt_failed' | 'replayed' | 'bad_call' | 'unknown_command'
  | 'not_allowed' | 'bad_args' | 'handler_failed'
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
   */
  invoke<T = unknown>(cmd: string, args?: Record<string, unknown>): Promise<T>;
  /** Settles when the isolation frame has its key and hooks (rejects with a MoatError if it never will). */
  readonly ready: Promise<void>;
  readonly MoatError: typeof MoatError;
}

declare global {
  interface Window {
    readonly moat: Moat;
  }
}

/** What a hook receives and may return. */
export interface Call {
  cmd: string;
  args: Record<string, unknown>;
}

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
