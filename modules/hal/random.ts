export interface Random {
  // Fills with cryptographically strong random bytes where the platform has
  // them (the ESP32's hardware RNG, crypto.getRandomValues on Node).
  fill(bytes: Uint8Array): void;
}
