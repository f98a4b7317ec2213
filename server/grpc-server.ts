// A nice-grpc Server whose listening socket is ours: a net.Server accepts each connection, the connection
// guard admits it (total and per-source caps, set-up and idle timers) and only then hands it to grpc-js
// through Server#createConnectionInjector (public grpc-js API). nice-grpc's own createServer binds inside
// grpc-js, where no cap on connections and no handshake timeout can be set; the middleware, services and call
// handling are nice-grpc's unchanged (its handler factories, imported by path: nice-grpc does not re-export
// them and its typings hide them, hence the casts; the lock file pins the version). Static imports, so the gopsd
// bundle holds them with the one grpc-js it bundles: a require() at run time loaded nice-grpc, nice-grpc-common
// and a second grpc-js (~90 files) from node_modules beside the bundled copies.
import net from "node:net";
import { Server as GrpcServer, type ChannelOptions, type ServerCredentials, type UntypedServiceImplementation } from "@grpc/grpc-js";
import type { CompatServiceDefinition, Server, ServerAddBuilder, ServiceImplementation } from "nice-grpc";
import { composeServerMiddleware, type CallContext, type ServerMiddleware } from "nice-grpc-common";
import * as bidiCall from "nice-grpc/lib/server/handleBidiStreamingCall.js";
import * as clientStreamingCall from "nice-grpc/lib/server/handleClientStreamingCall.js";
import * as serverStreamingCall from "nice-grpc/lib/server/handleServerStreamingCall.js";
import * as unaryCall from "nice-grpc/lib/server/handleUnaryCall.js";
import * as serviceDefinitions from "nice-grpc/lib/service-definitions/index.js";
import { createConnectionGuard, type ConnectionGuard, type ConnectionLimits } from "./connection-guard.js";

type AnyMiddleware = ServerMiddleware<any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type AnyFn = (...args: any[]) => any; // eslint-disable-line @typescript-eslint/no-explicit-any
interface NormalizedMethod {
  requestStream: boolean;
  responseStream: boolean;
}

const handlers = {
  unary: (unaryCall as unknown as { createUnaryMethodHandler: AnyFn }).createUnaryMethodHandler,
  serverStreaming: (serverStreamingCall as unknown as { createServerStreamingMethodHandler: AnyFn }).createServerStreamingMethodHandler,
  clientStreaming: (clientStreamingCall as unknown as { createClientStreamingMethodHandler: AnyFn }).createClientStreamingMethodHandler,
  bidi: (bidiCall as unknown as { createBidiStreamingMethodHandler: AnyFn }).createBidiStreamingMethodHandler,
};
const definitions = serviceDefinitions as unknown as {
  normalizeServiceDefinition(d: CompatServiceDefinition): Record<string, NormalizedMethod>;
  toGrpcJsServiceDefinition(d: Record<string, NormalizedMethod>): Parameters<GrpcServer["addService"]>[0];
};

export interface GuardedServer<CallContextExt = object> extends Server<CallContextExt> {
  /** The guard of the listening socket (for tests and logs); undefined before listen(). */
  readonly guard: ConnectionGuard | undefined;
}

interface Entry {
  definition: Record<string, NormalizedMethod>;
  middleware: AnyMiddleware | undefined;
  implementation: Record<string, AnyFn>;
}

/**
 * Like nice-grpc's createServer(options), plus `limits` on connections. The first middleware of every call
 * tells the guard that the call's connection is busy, so its idle timer only runs between calls.
 */
export function createGuardedServer(options: ChannelOptions, limits: ConnectionLimits): GuardedServer {
  const services: Entry[] = [];
  const guard = createConnectionGuard(limits);
  let state: { grpc: GrpcServer; listener: net.Server } | undefined;

  const busy: AnyMiddleware = async function* (call, context: CallContext) {
    const done = guard.callStarted(context.peer);
    try {
      return yield* call.next(call.request, context);
    } finally {
      done();
    }
  };

  function addBuilder(middleware: AnyMiddleware | undefined): ServerAddBuilder<object> {
    return {
      with: (mw: AnyMiddleware) => addBuilder(composeServerMiddleware(middleware ?? busy, mw)),
      add(definition: CompatServiceDefinition, implementation: ServiceImplementation<CompatServiceDefinition, object>) {
        if (state) throw new Error("add() must be used before listen()");
        services.push({
          definition: definitions.normalizeServiceDefinition(definition),
          middleware: middleware ?? busy,
          implementation: implementation as unknown as Record<string, AnyFn>,
        });
      },
    } as ServerAddBuilder<object>;
  }

  function withMiddleware(middleware: AnyMiddleware | undefined): GuardedServer {
    return {
      get guard() {
        return state ? guard : undefined;
      },
      use(mw: AnyMiddleware) {
        if (services.length > 0) throw new Error("use() must be used before adding any services");
        return withMiddleware(composeServerMiddleware(middleware ?? busy, mw));
      },
      ...addBuilder(middleware),
      async listen(address: string, credentials?: ServerCredentials) {
        if (state) throw new Error("listen() has already been called");
        if (credentials === undefined) throw new Error("listen() needs credentials");
        const grpc = new GrpcServer(options);
        for (const { definition, middleware: mw, implementation } of services) {
          const impl: UntypedServiceImplementation = {};
          for (const [name, method] of Object.entries(definition)) {
            const fn = implementation[name]!.bind(implementation);
            const make = method.requestStream
              ? method.responseStream
                ? handlers.bidi
                : handlers.clientStreaming
              : method.responseStream
                ? handlers.serverStreaming
                : handlers.unary;
            impl[name] = make(method, fn, mw);
          }
          grpc.addService(definitions.toGrpcJsServiceDefinition(definition), impl);
        }
        const injector = grpc.createConnectionInjector(credentials);
        const listener = net.createServer({ noDelay: true }, (socket) => {
          socket.on("error", () => {}); // resets by the peer; grpc-js reports what it needs
          if (guard.admit(socket)) injector.injectConnection(socket);
        });
        state = { grpc, listener };
        await new Promise<void>((resolve, reject) => {
          listener.once("error", reject);
          const unix = address.startsWith("unix:") ? address.slice(5) : undefined;
          const cb = () => {
            listener.off("error", reject);
            resolve();
          };
          if (unix !== undefined) listener.listen(unix, cb);
          else {
            const m = /^\[?(.*?)\]?:(\d+)$/.exec(address);
            if (!m) return reject(new Error(`cannot listen on "${address}": not host:port or unix:/path`));
            listener.listen({ host: m[1], port: Number(m[2]) }, cb);
          }
        }).catch((e: unknown) => {
          state = undefined;
          throw e;
        });
        const bound = listener.address();
        return typeof bound === "object" && bound !== null ? bound.port : 1;
      },
      async shutdown() {
        if (!state) return;
        const { grpc, listener } = state;
        listener.close();
        await new Promise<void>((resolve, reject) => grpc.tryShutdown((e) => (e ? reject(e) : resolve())));
      },
      forceShutdown() {
        if (!state) return;
        state.listener.close();
        state.grpc.forceShutdown();
        guard.destroyAll();
      },
    } as GuardedServer;
  }

  return withMiddleware(undefined);
}
