// Live events by document id over graphql-ws: the subscribe message carries `documentId`
// (graphql-ws wants a `query` string, so it is empty).
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

import { documentId, type GraphQLErrorShape, type PersistedDocument } from './client.js';

export function liveClient(url: string, token: string): Client {
  return createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
}

export interface Sink<Result> {
  next(data: Result): void;
  error(errors: GraphQLErrorShape[] | Error): void;
  complete(): void;
}

export function subscribeById<Result, Variables>(
  client: Client,
  document: PersistedDocument<Result, Variables>,
  variables: Variables,
  sink: Sink<Result>,
): () => void {
  const payload = {
    query: '',
    documentId: documentId(document as PersistedDocument<unknown, unknown>),
    variables: variables as Record<string, unknown>,
  };
  return subscribe<Result>(client, payload, sink);
}

/** A subscription by text, as a client without ids would send it. */
export function subscribeByText<Result>(client: Client, query: string, sink: Sink<Result>): () => void {
  return subscribe<Result>(client, { query }, sink);
}

function subscribe<Result>(
  client: Client,
  payload: { query: string; variables?: Record<string, unknown> },
  sink: Sink<Result>,
): () => void {
  return client.subscribe<Result>(payload, {
    next: (message) => {
      if (message.errors?.length) sink.error(message.errors as GraphQLErrorShape[]);
      else if (message.data) sink.next(message.data as Result);
    },
    error: (error) =>
      sink.error(Array.isArray(error) ? (error as GraphQLErrorShape[]) : new Error(String(error))),
    complete: () => sink.complete(),
  });
}
