// weaviate-client's graphql-request imports cross-fetch, whose types pull in the whole DOM library
// (`/// <reference lib="dom" />`) and change Node's own types project-wide (ReadableStream, Blob).
// tsconfig maps cross-fetch here: Node 20's global fetch types instead.
declare const crossFetch: typeof fetch;
export default crossFetch;
export { crossFetch as fetch };
export type Headers = globalThis.Headers;
export type Request = globalThis.Request;
export type Response = globalThis.Response;
