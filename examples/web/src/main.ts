// The frontend's flows, each printing one JSON line per step (the gateway's tests read them):
//   node dist/main.js walk <http url> <token> <IR> <IR answered>  every query and mutation, by id
//   node dist/main.js live <ws url> <token> [session id]    live events: one session's, or all mine
//   node dist/main.js live-text <ws url> <token>            a subscription sent as text
//   node dist/main.js apollo <http url> <token>              Apollo Client's persisted queries
import {
  AbandonSessionDocument,
  AddDraftDocument,
  AddRevisionDocument,
  CompareDraftsDocument,
  CreateSessionDocument,
  DashboardDocument,
  DeleteSessionDocument,
  DraftAtVersionDocument,
  FinalizeSessionDocument,
  GetSessionDocument,
  ListSessionsDocument,
  MySessionsLiveDocument,
  ResolveHoleDocument,
  RevertToDraftDocument,
  SessionActivityDocument,
  SessionHistoryDocument,
  SessionLiveDocument,
  SessionScreenDocument,
  ViewerDocument,
} from './gql/graphql.js';
import { apolloClient } from './apollo.js';
import { execute, executeText, GraphQLRequestError, type Endpoint } from './client.js';
import { liveClient, subscribeById, subscribeByText, type Sink } from './live.js';

const say = (line: Record<string, unknown>): void => {
  process.stdout.write(JSON.stringify(line) + '\n');
};

async function refusal(attempt: () => Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    return { ran: await attempt() };
  } catch (error) {
    if (!(error instanceof GraphQLRequestError)) throw error;
    return { status: error.status, codes: error.codes };
  }
}

/** Every query and mutation of the frontend, by id, in the order a user meets them. */
async function walk(endpoint: Endpoint, ir: unknown, answeredIr: unknown): Promise<void> {
  const viewer = await execute(endpoint, ViewerDocument, {});
  say({ step: 'viewer', id: viewer.viewer.id });
  const created = await execute(endpoint, CreateSessionDocument, {
    input: { prompt: 'Create a calculate_discount function', initialDraft: { ir, validationStatus: 'INCOMPLETE' } },
  });
  const session = created.createSession.session;
  say({ step: 'create', id: session.id, version: session.version });
  const list = await execute(endpoint, ListSessionsDocument, { first: 10 });
  say({ step: 'list', ids: list.sessions.edges.map((edge) => edge.node.id) });
  const got = await execute(endpoint, GetSessionDocument, { id: session.id }, 'GET');
  say({ step: 'get', version: got.session?.version, status: got.session?.status });
  const screen = await execute(endpoint, SessionScreenDocument, { id: session.id });
  const holes = screen.session?.openHoles ?? [];
  say({ step: 'screen', holes: holes.map((hole) => hole.identifier) });
  const [first] = holes;
  if (first === undefined) throw new Error('the session screen shows no open hole');
  const resolved = await execute(endpoint, ResolveHoleDocument, {
    input: { sessionId: session.id, holeId: first.identifier, text: 'float', expectedVersion: session.version },
  });
  let version = resolved.resolveHole.session.version;
  say({ step: 'resolve', version });
  const after = await execute(endpoint, SessionScreenDocument, { id: session.id });
  say({ step: 'screen again', holes: (after.session?.openHoles ?? []).map((hole) => hole.identifier) });
  const drafted = await execute(endpoint, AddDraftDocument, {
    input: { sessionId: session.id, ir, validationStatus: 'INCOMPLETE', expectedVersion: version },
  });
  version = drafted.addDraft.session.version;
  say({ step: 'add draft', draft: drafted.addDraft.draft.version, version });
  const revised = await execute(endpoint, AddRevisionDocument, {
    input: { sessionId: session.id, content: 'a note' },
  });
  version = revised.addRevision.session.version;
  say({ step: 'add revision', number: revised.addRevision.revision.number, version });
  const history = await execute(endpoint, SessionHistoryDocument, { id: session.id });
  say({ step: 'history', drafts: history.session?.drafts.totalCount });
  const atOne = await execute(endpoint, DraftAtVersionDocument, { id: session.id, version: 1 }, 'GET');
  say({ step: 'draft at 1', holes: (atOne.session?.draft?.holes ?? []).map((hole) => hole.status) });
  const compared = await execute(endpoint, CompareDraftsDocument, { id: session.id, from: 1, to: 2 });
  say({ step: 'compare', similarity: compared.session?.draft?.compare?.similarity });
  const reverted = await execute(endpoint, RevertToDraftDocument, {
    input: { sessionId: session.id, version: 1, expectedVersion: version },
  });
  version = reverted.revertToDraft.session.version;
  say({ step: 'revert', draft: reverted.revertToDraft.draft.version, version });
  // The revert's draft has the target's holes again: answer them, then the translator's
  // next draft (an IR without holes) applies the answers and the session may finalize.
  const reopened = reverted.revertToDraft.session.unresolvedHoles;
  for (const holeId of reopened) {
    const answered = await execute(endpoint, ResolveHoleDocument, {
      input: { sessionId: session.id, holeId, text: 'answered', expectedVersion: version },
    });
    version = answered.resolveHole.session.version;
  }
  const complete = await execute(endpoint, AddDraftDocument, {
    input: { sessionId: session.id, ir: answeredIr, validationStatus: 'VALID', appliedHoleIds: reopened, expectedVersion: version },
  });
  version = complete.addDraft.session.version;
  say({ step: 'answer the rest', unresolved: complete.addDraft.session.unresolvedHoles, version });
  const finalized = await execute(endpoint, FinalizeSessionDocument, {
    input: { id: session.id, expectedVersion: version },
  });
  say({ step: 'finalize', status: finalized.finalizeSession.session.status });
  const dashboard = await execute(endpoint, DashboardDocument, { first: 20, activity: 3 });
  const timeline = await execute(endpoint, SessionActivityDocument, { id: session.id, first: 100 });
  say({
    step: 'dashboard',
    stats: dashboard.viewer.stats,
    latest: dashboard.viewer.activity.edges.map((edge) => edge.node.kind),
    counts: dashboard.sessions.edges.map(({ node }) => [node.openHoleCount, node.revisionCount, node.draftCount]),
    events: timeline.session?.activity.totalCount,
  });
  const other = await execute(endpoint, CreateSessionDocument, { input: { prompt: 'another' } });
  const otherId = other.createSession.session.id;
  const abandoned = await execute(endpoint, AbandonSessionDocument, { input: { id: otherId } });
  say({ step: 'abandon', status: abandoned.abandonSession.session.status });
  const deleted = await execute(endpoint, DeleteSessionDocument, { input: { id: otherId } });
  say({ step: 'delete', deleted: deleted.deleteSession.deletedId === otherId });
  say({ step: 'free text', ...(await refusal(() => executeText(endpoint, '{ viewer { id } }'))) });
}

function printing<Result>(done: () => void): Sink<Result> {
  return {
    next: (data) => say({ next: data }),
    error: (errors) => {
      say({ error: errors instanceof Error ? { message: errors.message } : errors });
      done();
    },
    complete: () => {
      say({ complete: true });
      done();
    },
  };
}

function live(url: string, token: string, sessionId: string | undefined, byText = false): void {
  const client = liveClient(url, token);
  const done = (): void => {
    void Promise.resolve(client.dispose()).finally(() => process.exit(0));
  };
  const sink = printing(done);
  if (byText) subscribeByText(client, 'subscription { mySessionEvents { kind sessionId } }', sink);
  else if (sessionId === undefined) subscribeById(client, MySessionsLiveDocument, {}, sink);
  else subscribeById(client, SessionLiveDocument, { id: sessionId }, sink);
  process.stdin.on('end', done); // the test closes stdin to end the subscription
  process.stdin.resume();
}

async function apollo(endpoint: Endpoint): Promise<void> {
  const seen: Record<string, unknown>[] = [];
  const recording: typeof fetch = async (input, init) => {
    const body = JSON.parse(String(init?.body ?? '{}')) as { query?: string; extensions?: unknown };
    const response = await fetch(input, init);
    const answer = (await response.clone().json()) as { errors?: { extensions?: { code?: string } }[] };
    seen.push({
      text: typeof body.query === 'string',
      persistedQuery: body.extensions !== undefined,
      status: response.status,
      codes: (answer.errors ?? []).map((error) => error.extensions?.code),
    });
    return response;
  };
  const client = apolloClient(endpoint, recording);
  for (const attempt of [1, 2]) {
    const result = await client.query({ query: ViewerDocument, fetchPolicy: 'network-only' });
    say({ step: `query ${attempt}`, viewer: result.data?.viewer.id, requests: seen.splice(0) });
  }
}

async function main(): Promise<void> {
  const [scenario, url, token, argument, another] = process.argv.slice(2);
  if (!scenario || !url || !token) throw new Error('usage: main.js <scenario> <url> <token> [argument]');
  const endpoint = { url, token };
  if (scenario === 'walk') await walk(endpoint, JSON.parse(argument ?? 'null'), JSON.parse(another ?? 'null'));
  else if (scenario === 'live') live(url, token, argument);
  else if (scenario === 'live-text') live(url, token, undefined, true);
  else if (scenario === 'apollo') await apollo(endpoint);
  else throw new Error(`unknown scenario ${scenario}`);
}

main().catch((error: unknown) => {
  say({ failed: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
