import type { PrinterRecord, ShareRole, Subject } from "./store.js";

// Who may do what with a printer. A user holds a role: OWNER for the printer's owner, or the
// role it was shared with. A device (the printer's own robot, or the connector's robot account
// that registered it) acts for the printer itself and may do everything a device did.

export type Role = ShareRole | "DEVICE";
export const SHARE_ROLES: ShareRole[] = ["USER", "MANAGER", "OWNER"];

const RANK: Record<Role, number> = { USER: 1, MANAGER: 2, OWNER: 3, DEVICE: 4 };

export function roleOf(printer: PrinterRecord, subject: Subject): Role | undefined {
  if (printer.ownerId === undefined) return undefined;
  switch (subject.kind) {
    case "user":
      if (printer.ownerId === subject.email) return "OWNER";
      return printer.shares && Object.hasOwn(printer.shares, subject.email) ? printer.shares[subject.email] : undefined;
    case "robot":
      return printer.id === subject.printerId ? "DEVICE" : undefined;
    case "account":
      // The account's printers carry its JID (they share its XMPP session), and stay its owner's.
      return printer.xmppJid === subject.jid && printer.ownerId === subject.owner ? "DEVICE" : undefined;
  }
}

export function atLeast(role: Role | undefined, needed: Role): boolean {
  return role !== undefined && RANK[role] >= RANK[needed];
}

export function isDevice(subject: Subject): boolean {
  return subject.kind !== "user";
}

// The printer's access list as /printer showed it: the owner first, then the shares.
export function accessList(printer: PrinterRecord): Array<Record<string, string>> {
  const entry = (email: string, role: ShareRole) => ({ scope: email, email, name: email, role, type: "USER" });
  const list = printer.ownerId === undefined ? [] : [entry(printer.ownerId, "OWNER")];
  for (const [email, role] of Object.entries(printer.shares ?? {})) list.push(entry(email, role));
  return list;
}
