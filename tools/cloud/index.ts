// What an embedder needs (the printer simulator will start the emulator as its default cloud):
// importing this starts nothing.
export { startCloudService, DEFAULT_OPTIONS, DELETION_SHAPES, type CloudService, type CloudServiceConfig } from "./service.js";
export { EMULATOR_USER_GRANT } from "./oauth.js";
export type { DeletionShape, ServiceOptions } from "./context.js";
export { DEFAULT_XMPP_LIMITS, type XmppConfig, type XmppEndpoints, type XmppLimits } from "./xmpp-server.js";
export { CLOUD_PRINT_CHANNEL, MECHANISMS as XMPP_MECHANISMS } from "./xmpp-session.js";
