// Small persistent key/value state (identity, settings, later registration).
// A host must make each write atomic: after a power cut a key holds either its
// old or its new value, never a torn one.
export interface Storage {
  read(key: string): string | undefined;
  write(key: string, value: string): void;
  remove(key: string): void;
}
