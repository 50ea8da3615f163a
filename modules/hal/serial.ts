// A byte stream to a device on a UART (the thermal printer's TTL serial).

export interface SerialEvents {
  // Bytes from the device (status answers).
  data(bytes: Uint8Array): void;
  // Room in the transmit buffer again after write() returned false.
  writable(): void;
}

export interface SerialPort {
  setEvents(events: SerialEvents): void;
  // Queues bytes; returns false when the transmit buffer is above its
  // high-water mark (the bytes are still taken): wait for writable().
  write(bytes: Uint8Array): boolean;
  // Calls done once everything written so far has left the transmit buffer.
  flush(done: () => void): void;
}
