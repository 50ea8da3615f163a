// The few Moddable SDK modules hosts/moddable uses, declared from the SDK's
// documentation (documentation/network/network.md, io/io.md, base/timer,
// files/preference) so CI can type-check this host without the SDK. A real
// build uses the SDK's own typings instead (and hosts/moddable/ssl-session.d.ts
// for the TLS session, which has none in the SDK).

declare function trace(...values: unknown[]): void;

// Only the UDP side of the older socket module is used (hosts/moddable/udp.ts,
// which casts to the UDP shape its typings lack).
declare module "socket" {
  export class Socket {
    constructor(options: { listener: never });
  }
}

declare module "timer" {
  class Timer {
    private constructor();
    static set(callback: (timer: Timer) => void, interval?: number, repeat?: number): Timer;
    static clear(timer: Timer | undefined): void;
  }
  export { Timer as default };
}

declare module "time" {
  // set takes Unix seconds (documentation/base/base.md).
  const Time: { readonly ticks: number; set(seconds: number): void };
  export { Time as default };
}

declare module "preference" {
  const Preference: {
    set(domain: string, key: string, value: string | boolean | number | ArrayBuffer): void;
    get(domain: string, key: string): string | boolean | number | ArrayBuffer | undefined;
    delete(domain: string, key: string): void;
  };
  export { Preference as default };
}

declare module "mc/config" {
  // The manifest's "config" section, per platform.
  const config: Record<string, any>;
  export { config as default };
}

declare module "embedded:io/serial" {
  class Serial {
    constructor(options: {
      receive: number;
      transmit: number;
      baud: number;
      port: number;
      format: "number" | "buffer";
      onReadable?: (this: Serial, bytes: number) => void;
      onWritable?: (this: Serial, bytes: number) => void;
    });
    read(): number | ArrayBuffer | undefined;
    write(value: number | ArrayBuffer | Uint8Array): void;
    close(): void;
  }
  export default Serial;
}

declare module "net" {
  // "IP" is a string; "DNS" the servers DHCP gave the board (lwIP platforms).
  const Net: { get(property: string, ...args: unknown[]): string | number | string[] | undefined };
  export default Net;
}

// documentation/network/network.md (and the SDK's typings/wifi.d.ts): scan,
// a station connection with its monitor callback, the access point.
declare module "wifi" {
  export type WiFiCallback = (message: "connect" | "gotIP" | "lostIP" | "disconnect" | "station_connect" | "station_disconnect") => void;
  export type AccessPointOptions = { ssid: string; password?: string; channel?: number; hidden?: boolean; interval?: number; max?: number };
  class WiFi {
    static readonly gotIP: "gotIP";
    static readonly lostIP: "lostIP";
    static readonly connected: "connect";
    static readonly disconnected: "disconnect";
    static readonly Mode: { off: -5; none: 0; station: 1; accessPoint: 2 };
    constructor(options?: { ssid: string; password?: string; bssid?: ArrayBuffer }, callback?: WiFiCallback);
    close(): void;
    static scan(options: { hidden?: boolean; channel?: number }, callback: (item: { ssid: string; authentication: string; rssi: number; bssid: ArrayBuffer } | null) => void): void;
    static mode: -5 | 0 | 1 | 2 | 3;
    static connect(options?: { ssid: string; password?: string }): void;
    static disconnect(): void;
    static accessPoint(options: AccessPointOptions): void;
  }
  export { WiFi as default };
}

declare module "embedded:io/socket/tcp" {
  class TCP {
    // Either take over a socket (from), or connect to an IPv4 address and port.
    constructor(options: ({ from: TCP } | { address: string; port: number }) & {
      format?: "buffer" | "number";
      onReadable?: (this: TCP, bytes: number) => void;
      onWritable?: (this: TCP, bytes: number) => void;
      onError?: (this: TCP) => void;
      // Kept as the socket's target property, for callbacks shared by every socket.
      target?: unknown;
    });
    readonly remoteAddress: string | undefined;
    readonly remotePort: number | undefined;
    read(): ArrayBuffer | number | undefined;
    // Fills the whole view; it must not be longer than what is readable.
    read(into: Uint8Array): void;
    write(data: ArrayBuffer | Uint8Array): void;
    close(): void;
  }
  export default TCP;
}

declare module "embedded:io/socket/udp" {
  class UDP {
    constructor(options: {
      port?: number;
      format?: "buffer";
      onReadable?: (this: UDP, packets: number) => void;
      onError?: (this: UDP) => void;
      target?: unknown;
    });
    // One datagram, with the sender's address and port.
    read(): (ArrayBuffer & { address: string; port: number }) | undefined;
    write(data: ArrayBuffer | Uint8Array, address: string, port: number): void;
  }
  export default UDP;
}

declare module "embedded:io/socket/listener" {
  class Listener {
    constructor(options: { port: number; address?: string; target?: unknown; onReadable?: (this: Listener, count: number) => void });
    read(): import("embedded:io/socket/tcp").default | undefined;
  }
  export default Listener;
}

// ECMA-419 digital pins (documentation/io/io.md): the panel's buttons and LED.
declare module "embedded:io/digital" {
  class Digital {
    static readonly Input: number;
    static readonly InputPullUp: number;
    static readonly InputPullDown: number;
    static readonly Output: number;
    static readonly Rising: number;
    static readonly Falling: number;
    constructor(options: { pin: number; mode: number; edge?: number; onReadable?: (this: Digital) => void });
    read(): number;
    write(value: 0 | 1): void;
    close(): void;
  }
  export default Digital;
}

// The MCU bench (main_bench.ts): its pages are linked in as data resources,
// and the heap figures come from the SDK's instrumentation counters.
declare module "Resource" {
  class Resource extends ArrayBuffer {
    constructor(path: string);
    static exists(path: string): boolean;
  }
  export default Resource;
}

declare module "instrumentation" {
  const Instrumentation: {
    get(index: number): number | undefined;
    map(name: string): number | undefined;
  };
  export default Instrumentation;
}
