// PostGraphile 4.14 on the same Postgres, data and RLS as the gateway: the peer the
// benchmark measures against. Configured as its users would run it in production.
"use strict";
const cluster = require("cluster");
const http = require("http");
const crypto = require("crypto");
const { postgraphile } = require("postgraphile");
const jwt = require("jsonwebtoken");

const [databaseUrl, port, secret] = process.argv.slice(2);
// A KeyObject: jsonwebtoken re-parses a plain string secret on every request.
const key = crypto.createSecretKey(Buffer.from(secret, "utf8"));

const options = {
  graphqlRoute: "/graphql",
  disableQueryLog: true,
  ignoreRBAC: true,
  setofFunctionsContainNulls: false,
  enableQueryBatching: false,
  retryOnInitFail: false,
  // The same per-request role and claims as the gateway; jwtSecret would put the
  // claims in jwt.claims.*, where our auth.uid() does not look.
  pgSettings: async (req) => {
    const header = req.headers.authorization || "";
    const token = header.startsWith("Bearer ") ? header.slice(7) : null;
    if (!token) throw new Error("a bearer token is required");
    const claims = jwt.verify(token, key, { algorithms: ["HS256"], audience: "authenticated" });
    return { role: "authenticated", "request.jwt.claims": JSON.stringify(claims) };
  },
};

// WORKERS > 1: that many processes under Node's cluster, sharing the port, as PostGraphile's
// users scale it on one machine.
const workers = Number(process.env.WORKERS || "1");
if (workers > 1 && cluster.isPrimary) {
  for (let i = 0; i < workers; i += 1) cluster.fork();
} else {
  const middleware = postgraphile(databaseUrl, "public", options);
  http.createServer(middleware).listen(Number(port), "127.0.0.1", () => {
    console.log(`postgraphile listening on ${port}`);
  });
}
