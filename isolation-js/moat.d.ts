// Types for pages running under Moat: `window.moat`. Hooks have their own
// (`hook.d.ts`): `window.moat` does not exist inside a hook.

/** Stable error codes. Codes are added over time, never renamed. */
export type MoatErrorCode =
  // bridge and isolation frame
  | 'rejected_by_hook' | 'no_key' | 'hook_failed' | 'isolation_failed' | 'timeout' | 'transport' | 'bad_reply'
  // core
  | 'bad_origin' | 'rate_limited' | 'busy' | 'not_an_envelope' | 'decrypt_failed' | 'replayed' | 'bad_call' | 'unknown_command'
  | 'not_allowed' | 'bad_args' | 'handler_failed'
  // built-in modules
  | 'path_invalid' | 'scope_denied' | 'not_found' | 'io_failed' | 'url_invalid' | 'http_failed'
  | 'limit_exceeded' | 'unavailable'
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

/**
 * A stream from one Rust command to the page. Pass it as an argument value
 * (`invoke('export', { progress: new moat.Channel((m) => …) })`); the
 * command's `Channel<T>` argument sends messages, which arrive in order and
 * before the call's promise settles. It closes when the command finishes.
 */
export declare class Channel<T = unknown> {
  constructor(onMessage: (message: T) => void);
  readonly id: number;
}

/** Offered in the file chooser: `{ name: 'Images', extensions: ['png', 'jpg'] }`. */
export interface DialogFilter {
  name: string;
  extensions: string[];
}

export interface InvokeOptions {
  /** Milliseconds before the promise rejects with `timeout` (default: `limits.callTimeoutMs`); `null`: never. */
  timeoutMs?: number | null;
}

/** A program started with `shell.spawn`. */
export interface Spawned {
  /** Resolves with its id once it runs; rejects if it could not start (`scope_denied`, …). */
  readonly started: Promise<number>;
  /** Resolves when it has ended. `killed`: by `kill()`, or because its page went away. */
  readonly done: Promise<{ code: number | null; killed: boolean }>;
  /** Writes to its stdin (spawned with `stdin: true`). */
  write(data: string): Promise<null>;
  closeStdin(): Promise<null>;
  kill(): Promise<null>;
}

export interface Moat {
  /**
   * Calls `handler(payload)` for every event `name` the app emits
   * (`ctx.emit`, `AppHandle::emit`), until the returned function is called.
   * Names: 1 to 64 ASCII letters, digits, `_`, `-` or `:`, starting with a
   * letter (otherwise it throws a MoatError `bad_call`). An event with no
   * listener is dropped.
   */
  listen<T = unknown>(name: string, handler: (payload: T) => void): () => void;
  readonly Channel: typeof Channel;
  /**
   * Calls a Rust command through the isolation frame. Argument keys are sent
   * verbatim (no case conversion); unknown keys are refused with `bad_args`.
   * `args` travels as JSON and must be an object with named keys (an array
   * is refused with `bad_args`). An `ArrayBuffer` or typed array anywhere in
   * it travels as bytes (a `moat::Bytes` in Rust), and bytes in a result
   * arrive as a `Uint8Array`.
   */
  invoke<T = unknown>(cmd: string, args?: Record<string, unknown>, options?: InvokeOptions): Promise<T>;
  /** Settles when the isolation frame has its key and hooks (rejects with a MoatError if it never will). */
  readonly ready: Promise<void>;
  readonly MoatError: typeof MoatError;
  /** `fs.*`: paths are absolute or start with a base-directory variable (`$APPDATA/notes.txt`). */
  readonly fs: {
    readTextFile(path: string): Promise<string>;
    /** Atomic: the old contents or the new, never half. Resolves with the bytes written. */
    writeTextFile(path: string, contents: string): Promise<number>;
    /** The file's bytes (same allowlist key as readTextFile). */
    readFile(path: string): Promise<Uint8Array>;
    /** Atomic, like writeTextFile (same allowlist key). */
    writeFile(path: string, contents: Uint8Array | ArrayBuffer): Promise<number>;
    /** Only entries inside the scope are listed. */
    readDir(path: string): Promise<{ name: string; isDir: boolean; isFile: boolean; isSymlink: boolean }[]>;
    removeFile(path: string): Promise<null>;
  };
  readonly shell: {
    /**
     * Starts the `scope.shell` entry `name` (same rules as `execute`), its
     * output streamed to `onOutput` as it comes. It ends with this page.
     */
    spawn(name: string, args?: string[], options?: {
      onOutput?: (stream: 'stdout' | 'stderr', text: string) => void;
      stdin?: boolean;
    }): Spawned;
    /** Runs the `scope.shell` entry `name` (no shell in between). */
    execute(name: string, args?: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
    /** Hands an https/http/mailto/tel URL inside `scope.open` to the system. */
    open(url: string): Promise<null>;
  };
  readonly http: {
    /** Redirects are followed only inside `scope.http`. */
    fetch(url: string, init?: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array | ArrayBuffer; responseType?: 'text' }):
      Promise<{ status: number; url: string; headers: Record<string, string>; body: string }>;
    fetch(url: string, init: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array | ArrayBuffer; responseType: 'bytes' }):
      Promise<{ status: number; url: string; headers: Record<string, string>; body: Uint8Array }>;
  };
  /**
   * The system's file chooser. What the user picks joins `scope.fs` for this
   * page load (a file as itself, a directory as its tree).
   */
  readonly dialog: {
    open(options?: { multiple?: false; directory?: boolean; filters?: DialogFilter[]; defaultPath?: string }): Promise<string | null>;
    open(options: { multiple: true; directory?: boolean; filters?: DialogFilter[]; defaultPath?: string }): Promise<string[] | null>;
    save(options?: { filters?: DialogFilter[]; defaultPath?: string }): Promise<string | null>;
  };
  /**
   * The app's settings: JSON values by key, kept durably in the app's data
   * directory, shared by its windows; each window reaches the keys its
   * `allowlist.store` names. A change is the event `moat:store-changed`
   * (`{ key }`) in every window that may read the key.
   */
  readonly store: {
    /** The value, or null when there is none. */
    get<T = unknown>(key: string): Promise<T | null>;
    /** Over `store.maxValueBytes` (64 KiB), `store.maxKeys` (1000) or `store.maxTotalBytes` (1 MiB): `limit_exceeded`. */
    set(key: string, value: unknown): Promise<null>;
    /** Whether it was there. */
    delete(key: string): Promise<boolean>;
    /** The keys this window may read. */
    keys(): Promise<string[]>;
  };
  /**
   * Named secrets in the user's keyring (the Secret Service), which
   * `allowlist.secrets` lists; `unavailable` with no keyring. Never in
   * plain text on disk.
   */
  readonly secrets: {
    /** As it was set (text or bytes), or null. */
    get(name: string): Promise<string | Uint8Array | null>;
    set(name: string, value: string | Uint8Array | ArrayBuffer): Promise<null>;
    /** Whether it was there. */
    delete(name: string): Promise<boolean>;
  };
  /** `asset://localhost/…` for an absolute path inside `scope.asset`. */
  assetUrl(path: string): string;
}

declare global {
  interface Window {
    readonly moat: Moat;
  }
}
