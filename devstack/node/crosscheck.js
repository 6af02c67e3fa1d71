#!/usr/bin/env node
// crosscheck.js computes Pusher signatures with the official `pusher` npm SDK
// (pusher-http-node) so Go tests can compare devstack's signing byte for byte.
//
// Input (stdin): a JSON array of cases; output (stdout): a JSON array of
// results in the same order. A case that throws gives {"error": "..."}.
//
//   {"op":"channel", "key","secret","socket_id","channel", "presence": {...}|null}
//       -> {"auth", "channel_data"}           pusher.authorizeChannel()
//   {"op":"query", "key","secret","method","path","params":{}, "body": "..."|null, "timestamp": 1700000000}
//       -> {"query", "auth_signature"}        the SDK's createSignedQueryString()
//   {"op":"sign", "key","secret","string"}
//       -> {"signature"}                      the SDK's Token.sign()
//   {"op":"trigger", "base_url","app_id","key","secret","channels":[],"event","data", "socket_id"|null, "timestamp"}
//       -> {"ok": true}                       pusher.trigger() against base_url (a Go recorder)
//
// Run: node devstack/node/crosscheck.js < cases.json
"use strict"

const Pusher = require("pusher")
const Token = require("pusher/lib/token")
const requests = require("pusher/lib/requests")

const realNow = Date.now

// withClock runs fn with Date.now fixed at timestamp seconds (the SDK reads
// the clock for auth_timestamp), restoring it afterwards.
async function withClock(timestamp, fn) {
  if (timestamp === undefined || timestamp === null) return fn()
  Date.now = () => timestamp * 1000
  try {
    return await fn()
  } finally {
    Date.now = realNow
  }
}

async function runCase(c) {
  switch (c.op) {
    case "channel": {
      const pusher = new Pusher({ appId: "1", key: c.key, secret: c.secret })
      const res = pusher.authorizeChannel(c.socket_id, c.channel, c.presence || undefined)
      return { auth: res.auth, channel_data: res.channel_data || "" }
    }
    case "query": {
      const token = new Token(c.key, c.secret)
      const query = await withClock(c.timestamp, () =>
        requests.createSignedQueryString(token, {
          method: c.method,
          path: c.path,
          params: c.params || undefined,
          body: c.body || undefined,
        })
      )
      const sig = new URLSearchParams(query).get("auth_signature")
      return { query, auth_signature: sig }
    }
    case "sign":
      return { signature: new Token(c.key, c.secret).sign(c.string) }
    case "trigger": {
      const u = new URL(c.base_url)
      const pusher = new Pusher({
        appId: c.app_id,
        key: c.key,
        secret: c.secret,
        host: u.hostname,
        port: u.port,
        useTLS: false,
        timeout: 10000,
      })
      const params = c.socket_id ? { socket_id: c.socket_id } : undefined
      await withClock(c.timestamp, () => pusher.trigger(c.channels, c.event, c.data, params))
      return { ok: true }
    }
    default:
      throw new Error("unknown op " + JSON.stringify(c.op))
  }
}

async function main() {
  let input = ""
  for await (const chunk of process.stdin) input += chunk
  const cases = JSON.parse(input)
  if (!Array.isArray(cases)) throw new Error("stdin must be a JSON array of cases")
  const out = []
  for (const c of cases) {
    try {
      out.push(await runCase(c))
    } catch (e) {
      out.push({ error: String((e && e.message) || e) })
    }
  }
  process.stdout.write(JSON.stringify(out) + "\n")
}

main().catch((e) => {
  process.stderr.write("crosscheck: " + ((e && e.stack) || e) + "\n")
  process.exit(1)
})
