// Apollo Client with automatic persisted queries: a hash first, the text only when the
// server answers PersistedQueryNotFound, then the hash alone again.
import { createHash } from 'node:crypto';

import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';

import type { Endpoint } from './client.js';

export function apolloClient(endpoint: Endpoint, fetchImpl: typeof fetch = fetch): ApolloClient {
  const persisted = new PersistedQueryLink({
    sha256: (text: string) => createHash('sha256').update(text).digest('hex'),
  });
  const http = new HttpLink({
    uri: endpoint.url,
    headers: { authorization: `Bearer ${endpoint.token}` },
    fetch: fetchImpl,
  });
  return new ApolloClient({ link: ApolloLink.from([persisted, http]), cache: new InMemoryCache() });
}
