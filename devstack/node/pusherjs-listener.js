#!/usr/bin/env node
// pusherjs-listener.js subscribes the official pusher-js client (Node build,
// the one Laravel Echo wraps) to public channels and prints one JSON line
// per event, for bench/latency's side-by-side comparison with EchoTray's Go
// client. Receive times are wall-clock milliseconds with sub-millisecond
// precision (performance.timeOrigin + performance.now()), comparable with Go's
// time.Now() on the same machine.
//
// Usage: node devstack/node/pusherjs-listener.js HOST PORT KEY CHANNEL...
//
// Output lines (stdout):
//   {"type":"state","previous":"connecting","current":"connected"}
//   {"type":"ready","socket_id":"123.456"}       every channel subscribed
//   {"type":"event","channel":"c","event":"E","seq":1,"recv":1700000000123.456}
//   {"type":"done"}                              stdin closed; exiting
// Closing stdin disconnects and exits.
"use strict"

const { performance } = require("perf_hooks")
const Pusher = require("pusher-js")

const [host, port, key, ...channels] = process.argv.slice(2)
if (!host || !port || !key || channels.length === 0) {
  process.stderr.write("usage: pusherjs-listener.js HOST PORT KEY CHANNEL...\n")
  process.exit(2)
}

const out = (o) => process.stdout.write(JSON.stringify(o) + "\n")

const pusher = new Pusher(key, {
  cluster: "mt1", // required by pusher-js 8; ignored with wsHost
  wsHost: host,
  wsPort: Number(port),
  forceTLS: false,
  enabledTransports: ["ws"],
  disableStats: true,
})

pusher.connection.bind("state_change", (s) => out({ type: "state", previous: s.previous, current: s.current }))

let pending = channels.length
for (const name of channels) {
  const ch = pusher.subscribe(name)
  ch.bind("pusher:subscription_succeeded", () => {
    if (--pending === 0) out({ type: "ready", socket_id: pusher.connection.socket_id })
  })
  ch.bind_global((event, data) => {
    if (event.startsWith("pusher:") || event.startsWith("pusher_internal:")) return
    const recv = performance.timeOrigin + performance.now()
    out({ type: "event", channel: name, event, seq: data && data.seq, recv })
  })
}

process.stdin.on("end", () => {
  pusher.disconnect()
  out({ type: "done" })
  process.exit(0)
})
process.stdin.resume()
