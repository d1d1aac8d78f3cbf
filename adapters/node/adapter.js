#!/usr/bin/env node
// SDK adapter for the official Node SDK (`stripe` on npm, pinned in package.json).
//
// The adapter protocol (see the README, "Gating an SDK build"):
// - `node adapter.js --version` prints {"name", "version", "language", "api_version"}.
// - Otherwise it reads ONE JSON request description on stdin: every key except
//   `idempotency_key` and `api_version` is a create parameter, passed to the SDK
//   exactly as given; it calls Account Session create against $CONFORMANCE_BASE_URL
//   with $CONFORMANCE_API_KEY, with no retries, and prints the SDK's parsed object
//   as JSON, or on an SDK error {"error": {"class", "status", "type", "param", "code"}};
//   exit status 0 either way. Anything else (a crash) exits non-zero.
// - `node adapter.js --serve` does the same for one description per line, one answer
//   per line, until stdin ends ("serve": true in --version says so): node and the SDK
//   start once for a whole run.
'use strict';

const readline = require('node:readline');
const Stripe = require('stripe');

const CONTROL = new Set(['idempotency_key', 'api_version']);

function describe() {
  return {
    name: 'stripe-node',
    version: Stripe.PACKAGE_VERSION,
    language: 'node',
    api_version: Stripe.API_VERSION,
    serve: true,
  };
}

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on('data', (chunk) => chunks.push(chunk));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

function client() {
  const base = new URL(process.env.CONFORMANCE_BASE_URL);
  const protocol = base.protocol.replace(':', '');
  return new Stripe(process.env.CONFORMANCE_API_KEY, {
    host: base.hostname,
    port: Number(base.port || (protocol === 'https' ? 443 : 80)),
    protocol,
    maxNetworkRetries: 0,
    telemetry: false,
  });
}

async function create(description) {
  const params = {};
  for (const [key, value] of Object.entries(description)) {
    if (!CONTROL.has(key)) params[key] = value;
  }
  const options = {};
  if (description.idempotency_key) options.idempotencyKey = description.idempotency_key;
  if (description.api_version) options.apiVersion = description.api_version;
  try {
    // the object the SDK parsed: plain JSON, every field (also those its types do not know)
    return await client().accountSessions.create(params, options);
  } catch (err) {
    if (!(err instanceof Stripe.errors.StripeError)) throw err;
    return {
      error: {
        class: err.type,
        status: err.statusCode ?? null,
        type: err.rawType ?? null,
        param: err.param ?? null,
        code: err.code ?? null,
      },
    };
  }
}

async function main() {
  if (process.argv[2] === '--version') {
    process.stdout.write(JSON.stringify(describe()) + '\n');
    return;
  }
  if (process.argv[2] === '--serve') {
    // one line at a time: the next description is read once this answer is written
    for await (const line of readline.createInterface({ input: process.stdin, crlfDelay: Infinity })) {
      if (line.trim()) process.stdout.write(JSON.stringify(await create(JSON.parse(line))) + '\n');
    }
    return;
  }
  const description = JSON.parse(await readStdin());
  process.stdout.write(JSON.stringify(await create(description)) + '\n');
}

main().catch((err) => {
  process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
