export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Log {
  (level: LogLevel, message: string): void;
}
