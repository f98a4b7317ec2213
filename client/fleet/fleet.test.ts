import assert from "node:assert/strict";
import { createServer as createNetServer, connect as netConnect, type Server as NetServer } from "node:net";
import { after, before, describe, it } from "node:test";
import { ServerCredentials } from "@grpc/grpc-js";
import { createServer, type Server } from "nice-grpc";
import { DiagnosticsServiceDefinition } from "../../proto/index.js";
import { scriptedService } from "../scripted-service.testkit.js";
import { createFleet } from "./fleet.js";
import type { FleetHost } from "./inventory.js";

/** Each host is its own TCP port relaying to one gRPC server, counting the connections made to it. */
interface CountingHost {
  name: string;
  port: number;
  accepted: number;
  open: number;
}

describe("fleet connections", () => {
  let server: Server;
  const relays: NetServer[] = [];
  const hosts: CountingHost[] = [];

  before(async () => {
    server = createServer();
    server.add(
      DiagnosticsServiceDefinition,
      scriptedService({
        async version() {
          return { goVersion: "go1.22" };
        },
      }),
    );
    const backend = await server.listen("127.0.0.1:0", ServerCredentials.createInsecure());
    for (let i = 1; i <= 4; i++) {
      const host: CountingHost = { name: `h${i}`, port: 0, accepted: 0, open: 0 };
      const relay = createNetServer((socket) => {
        host.accepted++;
        host.open++;
        const upstream = netConnect({ host: "127.0.0.1", port: backend });
        socket.pipe(upstream).pipe(socket);
        socket.on("error", () => upstream.destroy());
        upstream.on("error", () => socket.destroy());
        socket.once("close", () => {
          host.open--;
          upstream.destroy();
        });
      });
      await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
      host.port = (relay.address() as { port: number }).port;
      relays.push(relay);
      hosts.push(host);
    }
  });

  after(async () => {
    for (const r of relays) r.close();
    server.forceShutdown();
  });

  const fleetHosts = (): FleetHost[] => hosts.map((h) => ({ name: h.name, address: `127.0.0.1:${h.port}`, labels: {}, source: "fleet" }));
  const reset = () => hosts.forEach((h) => (h.accepted = 0));
  const openConnections = async (want: number) => {
    // A closed channel's socket closes on the next turns of the event loop.
    for (let i = 0; i < 100 && hosts.reduce((n, h) => n + h.open, 0) !== want; i++) await new Promise((r) => setTimeout(r, 20));
    return hosts.reduce((n, h) => n + h.open, 0);
  };
  const answers = async (fleet: ReturnType<typeof createFleet>) => {
    const out: string[] = [];
    for await (const r of fleet.version({ pid: 1 })) out.push(r.value?.goVersion ?? `${r.host}: ${r.error?.message}`);
    return out;
  };

  it("keeps every connection of a small fleet for the next fan-out (one connection per host, reused)", async () => {
    reset();
    const fleet = createFleet(fleetHosts(), { concurrency: 4 });
    try {
      assert.deepEqual(await answers(fleet), ["go1.22", "go1.22", "go1.22", "go1.22"]);
      assert.deepEqual(await answers(fleet), ["go1.22", "go1.22", "go1.22", "go1.22"]);
      assert.deepEqual(hosts.map((h) => h.accepted), [1, 1, 1, 1]);
      assert.equal(await openConnections(4), 4);
    } finally {
      fleet.close();
    }
    assert.equal(await openConnections(0), 0);
  });

  it("closes the least recently used idle connections beyond maxIdleConnections; those hosts reconnect when asked again", async () => {
    reset();
    const fleet = createFleet(fleetHosts(), { concurrency: 1, maxIdleConnections: 1 });
    try {
      assert.deepEqual(await answers(fleet), ["go1.22", "go1.22", "go1.22", "go1.22"]);
      // One host at a time: the last one answered is the one idle connection kept.
      assert.equal(await openConnections(1), 1);
      assert.equal(hosts[3]!.open, 1);
      // h4's connection served until h1 took the one idle place: every host connected again, and h4 is kept again.
      assert.deepEqual(await answers(fleet), ["go1.22", "go1.22", "go1.22", "go1.22"]);
      assert.deepEqual(hosts.map((h) => h.accepted), [2, 2, 2, 2]);
      assert.equal(await openConnections(1), 1);
      assert.equal(hosts[3]!.open, 1);
    } finally {
      fleet.close();
    }
  });

  it("with maxIdleConnections 0 no connection outlives its host's task; a client taken with client() is kept", async () => {
    reset();
    const fleet = createFleet(fleetHosts(), { concurrency: 2, maxIdleConnections: 0 });
    try {
      assert.deepEqual(await answers(fleet), ["go1.22", "go1.22", "go1.22", "go1.22"]);
      assert.equal(await openConnections(0), 0);
      const pinned = await fleet.client("h2");
      assert.equal((await pinned.version({ pid: 1 })).goVersion, "go1.22");
      assert.deepEqual(await answers(fleet), ["go1.22", "go1.22", "go1.22", "go1.22"]);
      assert.equal(await openConnections(1), 1);
      assert.equal(hosts[1]!.open, 1);
      assert.equal((await pinned.version({ pid: 1 })).goVersion, "go1.22");
    } finally {
      fleet.close();
    }
  });
});
