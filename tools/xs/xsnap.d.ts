// The part of @agoric/xsnap's JavaScript API that tools/xs/run.ts uses.
declare module "@agoric/xsnap" {
  export interface XsnapWorker {
    evaluate(code: string): Promise<unknown>;
    close(): Promise<void>;
  }
  export function xsnap(options: {
    os: string;
    spawn: typeof import("node:child_process").spawn;
    name?: string;
    fs: object;
    meteringLimit?: number;
    stdout?: "inherit" | "ignore";
    stderr?: "inherit" | "ignore";
    handleCommand?: (message: Uint8Array) => Promise<Uint8Array>;
  }): Promise<XsnapWorker>;
}
