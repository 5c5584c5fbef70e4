// One subscription through the npm clients a frontend uses: graphql-ws (WebSocket,
// graphql-transport-ws) or graphql-sse (distinct connections mode).
// Usage: node live_client.mjs ws|sse <url> <token|-> <query | sha256:<document id>> [variables JSON]
// Prints one JSON line per happening: {"ready"} once subscribed (ws: acknowledged),
// {"next": payload}, {"error": ...}, {"complete": true}, {"closed": {code, reason}}; then exits.
import { createClient as createWsClient } from 'graphql-ws';
import { createClient as createSseClient } from 'graphql-sse';
import WebSocket from 'ws';

const [transport, url, token, query, variables] = process.argv.slice(2);
if (!transport || !url || !token || !query) {
  console.error('usage: node live_client.mjs ws|sse <url> <token|-> <query> [variables]');
  process.exit(2);
}
const say = (line) => process.stdout.write(JSON.stringify(line) + '\n');
const authorization = token === '-' ? {} : { Authorization: `Bearer ${token}` };
// A persisted document goes by id, with the empty query graphql-ws insists on.
const request = query.startsWith('sha256:')
  ? { query: '', documentId: query, variables: variables ? JSON.parse(variables) : {} }
  : { query, variables: variables ? JSON.parse(variables) : {} };

let client;
if (transport === 'ws') {
  client = createWsClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: authorization,
    retryAttempts: 0,
    lazy: false,
    on: {
      connected: () => say({ ready: true }),
      closed: (event) => say({ closed: { code: event.code, reason: event.reason } }),
    },
  });
} else {
  client = createSseClient({ url, headers: authorization, retryAttempts: 0 });
}

const done = () => {
  Promise.resolve(client.dispose()).finally(() => process.exit(0));
};
client.subscribe(request, {
  next: (payload) => say({ next: payload }),
  error: async (error) => {
    if (Array.isArray(error)) say({ error });
    else if (error && error.response) {
      // graphql-sse: refused before the stream began, with the GraphQL errors as JSON
      const body = await error.response.json().catch(() => ({}));
      say({ error: body.errors ?? [], status: error.response.status });
    }
    else if (error && typeof error.code === 'number') say({ error: { code: error.code, reason: error.reason } });
    else say({ error: { message: String(error && error.message ? error.message : error) } });
    done();
  },
  complete: () => {
    say({ complete: true });
    done();
  },
});
if (transport === 'sse') say({ ready: true });
process.stdin.on('end', done); // the test closes stdin to end the subscription
process.stdin.resume();
