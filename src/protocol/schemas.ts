/**
 * Every frame and body of the protocol (docs/protocol.md) as zod schemas, in
 * one import: the model (limits, keys, messages, anchors, pages), the
 * WebSocket frames, the HTTP bodies and queries, the simulator's settings.
 * The server parses all input with these; clients import the inferred types
 * (and may parse server frames with the same schemas).
 */
export * from "./frames.ts";
export * from "./http.ts";
export * from "./model.ts";
export * from "./simulator.ts";
