// Request bodies as sources the client pulls from when the connection can
// take more, so an upload is produced as fast as TCP drains it and never
// collected whole. Shared by the client and the form encoders.

export interface BodySink {
  // Returns false when the connection's buffer is full: stop writing and
  // wait for the next pull.
  write(bytes: Uint8Array): boolean;
  // The body is complete.
  end(): void;
  // Give up: the request fails with this reason.
  abort(reason: string): void;
}

export interface BodySource {
  // Bytes the source will write in all, when known (sent as Content-Length;
  // otherwise the body is sent chunked).
  readonly length: number | undefined;
  // Called when the connection can take more: write until write() returns
  // false or the body ends. A source with nothing ready yet may return and
  // write later from its own callback.
  pull(sink: BodySink): void;
}

// A source over bytes already in memory (they are written as they are, not copied).
export function bytesSource(bytes: Uint8Array): BodySource {
  let sent = false;
  return {
    length: bytes.length,
    pull(sink) {
      if (sent) return;
      sent = true;
      if (bytes.length > 0) sink.write(bytes);
      sink.end();
    },
  };
}
