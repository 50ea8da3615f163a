// The part of @agoric/xsnap's JavaScript API that tools/xs/run.ts and tools/bench/xs-driver.ts use.
declare module "@agoric/xsnap" {
  export interface XsnapWorker {
    evaluate(code: string): Promise<unknown>;
    issueCommand(message: Uint8Array): Promise<{ reply: Uint8Array }>;
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
