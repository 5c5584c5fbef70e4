// Persisted documents over HTTP: the request names its document by id (GraphQL over HTTP,
// appendix "Persisted Documents"); the text stays on the server, in its manifest.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';

/** A document from codegen's client preset with `persistedDocuments`: it carries its id. */
export type PersistedDocument<Result, Variables> = TypedDocumentNode<Result, Variables> & {
  __meta__?: { hash?: string };
};

export interface Endpoint {
  url: string; // http://host/graphql
  token: string; // the user's JWT
}

export interface GraphQLErrorShape {
  message: string;
  extensions?: { code?: string; [key: string]: unknown };
}

export class GraphQLRequestError extends Error {
  constructor(
    readonly status: number,
    readonly errors: GraphQLErrorShape[],
  ) {
    super(errors.map((error) => `${error.extensions?.code ?? '?'}: ${error.message}`).join('; '));
  }

  get codes(): string[] {
    return this.errors.map((error) => error.extensions?.code ?? '');
  }
}

export function documentId(document: PersistedDocument<unknown, unknown>): string {
  const hash = document.__meta__?.hash;
  if (!hash) throw new Error('the document has no id: run codegen with persistedDocuments');
  return hash;
}

/** Runs a document by id: POST, or GET for a query a CDN may cache. */
export async function execute<Result, Variables>(
  endpoint: Endpoint,
  document: PersistedDocument<Result, Variables>,
  variables: Variables,
  method: 'POST' | 'GET' = 'POST',
): Promise<Result> {
  const id = documentId(document as PersistedDocument<unknown, unknown>);
  const headers = {
    authorization: `Bearer ${endpoint.token}`,
    accept: 'application/graphql-response+json, application/json',
  };
  let response: Response;
  if (method === 'GET') {
    const url = new URL(endpoint.url);
    url.searchParams.set('documentId', id);
    url.searchParams.set('variables', JSON.stringify(variables ?? {}));
    response = await fetch(url, { headers });
  } else {
    response = await fetch(endpoint.url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ documentId: id, variables }),
    });
  }
  return result<Result>(response);
}

/** Sends a text the server may refuse (a trusted-only server runs ids only). */
export async function executeText(endpoint: Endpoint, query: string): Promise<unknown> {
  const response = await fetch(endpoint.url, {
    method: 'POST',
    headers: { authorization: `Bearer ${endpoint.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  return result<unknown>(response);
}

async function result<Result>(response: Response): Promise<Result> {
  const body = (await response.json()) as { data?: Result | null; errors?: GraphQLErrorShape[] };
  if (body.errors?.length || body.data == null) {
    throw new GraphQLRequestError(response.status, body.errors ?? []);
  }
  return body.data;
}
