// A small workload through ioredis's Cluster client: every step must succeed, or the
// process exits non-zero with the reason. Usage: node cluster_workload.js HOST PORT
"use strict";
const Redis = require("ioredis");

const [host, port] = [process.argv[2] || "127.0.0.1", Number(process.argv[3] || 7000)];

function check(ok, what) {
  if (!ok) throw new Error(`check failed: ${what}`);
}

async function main() {
  const cluster = new Redis.Cluster([{ host, port }], {
    scaleReads: "master",
    redisOptions: { connectTimeout: 5000 },
    clusterRetryStrategy: (times) => (times > 20 ? null : 200),
  });
  const subscriber = new Redis.Cluster([{ host, port }]);
  try {
    // Keys spread over every master: each SET is routed by its slot.
    for (let i = 0; i < 300; i++) await cluster.set(`io:key:${i}`, `value-${i}`);
    for (let i = 0; i < 300; i++) {
      check((await cluster.get(`io:key:${i}`)) === `value-${i}`, `GET io:key:${i}`);
    }
    // Multi-key commands within one hash tag, a pipeline and a transaction in one slot.
    await cluster.mset("{user:1}:a", "1", "{user:1}:b", "2");
    const both = await cluster.mget("{user:1}:a", "{user:1}:b");
    check(both[0] === "1" && both[1] === "2", "MGET in one hash tag");
    const piped = await cluster.pipeline().incr("{p}:n").incr("{p}:n").get("{p}:n").exec();
    check(piped[2][1] === "2", "pipeline INCR INCR GET");
    const tx = await cluster.multi().set("{t}:x", "1").incrby("{t}:x", 41).exec();
    check(tx[1][1] === 42, "MULTI/EXEC");
    // A cross-slot command is refused by the server, as Redis does.
    let crossslot = "";
    try {
      await cluster.mget("io:key:1", "io:key:2");
    } catch (err) {
      crossslot = String(err.message);
    }
    check(crossslot.startsWith("CROSSSLOT"), `cross-slot MGET refused (${crossslot})`);
    // Classic pub/sub crosses nodes over the cluster bus: publish (through whichever node
    // the client picks) until the subscriber, connected elsewhere, has the message.
    let got = null;
    subscriber.on("message", (_channel, message) => { got = message; });
    await subscriber.subscribe("io:news");
    for (let tries = 0; got === null && tries < 50; tries++) {
      await cluster.publish("io:news", "hello");
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    check(got === "hello", "PUBLISH reached a subscriber");
    const nodes = cluster.nodes("master");
    console.log(JSON.stringify({ ok: true, masters: nodes.length }));
  } finally {
    cluster.disconnect();
    subscriber.disconnect();
  }
}

main().catch((err) => {
  console.error(String(err && err.stack ? err.stack : err));
  process.exit(1);
});
