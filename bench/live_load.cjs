// The live benchmark's subscribers: one graphql-ws client (one WebSocket) per user, one
// sessionEvents subscription per session of theirs. Reads one JSON line on stdin:
// {"url", "query", "users": [{"token", "sessions": [id, ...]}]}; prints {"subscribed": n}
// once every subscription is sent; on a second stdin line ("stop") prints
// {"received": [[sessionId, version, epochMs], ...], "errors": n} and exits.
// CommonJS, so that NODE_PATH (tests/js/node_modules, `make js-clients`) finds the clients.
const { createInterface } = require('node:readline');
const { createClient } = require('graphql-ws');
const WebSocket = require('ws');

const lines = createInterface({ input: process.stdin });
const received = [];
let errors = 0;
let clients = [];

lines.once('line', (text) => {
  const config = JSON.parse(text);
  let subscribed = 0;
  clients = config.users.map((user) => {
    const client = createClient({
      url: config.url,
      webSocketImpl: WebSocket,
      connectionParams: { Authorization: `Bearer ${user.token}` },
      retryAttempts: 0,
    });
    for (const id of user.sessions) {
      client.subscribe({ query: config.query, variables: { id } }, {
        next: (result) => {
          const event = result.data && result.data.sessionEvents;
          if (event) received.push([event.sessionId, event.version, Date.now()]);
          if (result.errors) errors += 1;
        },
        error: () => { errors += 1; },
        complete: () => {},
      });
      subscribed += 1;
    }
    return client;
  });
  process.stdout.write(JSON.stringify({ subscribed }) + '\n');
  lines.once('line', async () => {
    await Promise.all(clients.map((client) => client.dispose()));
    // exit once the pipe has taken it all (a large write is flushed asynchronously)
    process.stdout.write(JSON.stringify({ received, errors }) + '\n', () => process.exit(0));
  });
});
