/** WebSocket close codes the server sends (RFC 6455 §7.4.1); docs/protocol.md lists when. */
/** The server is full or not ready: try again later. */
export const CLOSE_TRY_AGAIN = 1013;
/** The client broke a rule it was told about: its token expired, or it sent faster than allowed. */
export const CLOSE_POLICY_VIOLATION = 1008;
