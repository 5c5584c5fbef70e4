// graphql-codegen's client preset: typed documents for the frontend's operations
// (../operations.graphql) and the trusted-documents manifest the gateway serves
// (src/gql/persisted-documents.json, GRAPH_TRUSTED_DOCUMENTS).
//   SCHEMA: schema.graphql (default) or a running gateway's /graphql URL (introspection)
//   OUT:    where to write (default src/gql/)
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: process.env.SCHEMA ?? '../../schema.graphql',
  documents: ['../operations.graphql'],
  ignoreNoDocuments: false,
  generates: {
    [process.env.OUT ?? 'src/gql/']: {
      preset: 'client',
      presetConfig: {
        fragmentMasking: false,
        persistedDocuments: { hashAlgorithm: 'sha256' },
      },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { JSON: 'unknown' },
        importExtension: '.js', // ES modules under Node: imports name their file
      },
    },
  },
};

export default config;
