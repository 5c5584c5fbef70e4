// The graphql-http audit suite against a running gateway, as a caller with a valid token.
// Usage: node graphql_http_audit.mjs <url> <token>; prints one JSON array of results.
import { auditServer } from 'graphql-http';

const [url, token] = process.argv.slice(2);
if (!url || !token) {
  console.error('usage: node graphql_http_audit.mjs <url> <token>');
  process.exit(2);
}
const fetchFn = (input, init = {}) =>
  fetch(input, { ...init, headers: { ...init.headers, authorization: `Bearer ${token}` } });

const results = await auditServer({ url, fetchFn });
console.log(
  JSON.stringify(
    results.map(({ id, name, status, reason }) => ({ id, name, status, reason: reason ?? null })),
  ),
);
