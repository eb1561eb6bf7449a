// The app's commands, generated from their Rust types (`<app> types`).
// Do not edit: the app's tests check that this file is current.

/** A `moat.Channel` passed as an argument: its messages are `T`. */
export type Channel<T> = { readonly id: number; readonly __message?: T };

export type Greet = { name: string, };

/** The app's commands: what each takes, answers, and fails with (`MoatError.data` when its `code` is `'app'`). */
export interface Commands {
  "greet": { args: Greet; result: string; error: null };
}

/** `window.moat.invoke`, typed by the app's commands. */
export type Invoke = <K extends keyof Commands>(
  cmd: K,
  args: Commands[K]['args'],
  options?: { timeoutMs?: number | null },
) => Promise<Commands[K]['result']>;
