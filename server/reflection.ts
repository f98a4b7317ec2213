// gRPC server reflection, grpc.reflection.v1 and grpc.reflection.v1alpha (which older grpcurl, grpc_cli and GUI
// clients speak), loaded at its first call. nice-grpc-server-reflection implements v1 only; v1alpha's messages are
// the same on the wire (same fields, same numbers: proto/std/grpc/reflection/), so one implementation answers
// both paths. It and the google-protobuf runtime it is built on cost gopsd ~10 MB of its idle RSS, for a service an
// operator asks once in a while (grpcurl). gopsd registers these definitions at start-up (same methods, same wire
// format): requests reach the handler as raw bytes, and the first call imports the real implementation, decodes each
// request with the real message class and serializes the real responses (google-protobuf messages serialize
// themselves). The descriptor set it serves holds every listed service's file (gops, health, reflection itself).
import type { MethodDefinition } from "@grpc/grpc-js";
import type { CallContext, ServiceImplementation } from "nice-grpc";
import type { ServerReflectionRequest, ServerReflectionResponse } from "nice-grpc-server-reflection/lib/proto/grpc/reflection/v1/reflection_pb.js";

type ReflectionDefinition = {
  serverReflectionInfo: MethodDefinition<Buffer, ServerReflectionResponse> & { requestStream: true; responseStream: true };
};

/** The reflection service of one protocol version as grpc-js defines it, with the request left as bytes until the implementation is loaded. */
function lazyDefinition(version: "v1" | "v1alpha"): ReflectionDefinition {
  return {
    serverReflectionInfo: {
      path: `/grpc.reflection.${version}.ServerReflection/ServerReflectionInfo`,
      requestStream: true,
      responseStream: true,
      requestSerialize: (bytes: Buffer): Buffer => bytes,
      requestDeserialize: (bytes: Buffer): Buffer => bytes,
      responseSerialize: (message: ServerReflectionResponse): Buffer => Buffer.from(message.serializeBinary()),
      responseDeserialize: () => {
        throw new Error("gopsd's reflection definition serves; it is no client");
      },
    },
  };
}

/** grpc.reflection.v1.ServerReflection. */
export const LazyServerReflectionService: ReflectionDefinition = lazyDefinition("v1");
/** grpc.reflection.v1alpha.ServerReflection: the same implementation answers it. */
export const LazyServerReflectionV1AlphaService: ReflectionDefinition = lazyDefinition("v1alpha");
/** The names reflection lists for itself. */
export const REFLECTION_SERVICE_NAMES = ["grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"] as const;

type Implementation = ServiceImplementation<ReflectionDefinition>;
type RealImplementation = { serverReflectionInfo(requests: AsyncIterable<ServerReflectionRequest>, context: CallContext): AsyncIterable<ServerReflectionResponse> };

/** Reflection (either version) over the FileDescriptorSet that `descriptorSet` reads (at the first call) for `serviceNames`. */
export function lazyServerReflection(descriptorSet: () => Uint8Array, serviceNames: readonly string[]): Implementation {
  let loaded: Promise<{ real: RealImplementation; decode: (bytes: Uint8Array) => ServerReflectionRequest }> | undefined;
  const load = () =>
    (loaded ??= Promise.all([import("nice-grpc-server-reflection"), import("nice-grpc-server-reflection/lib/proto/grpc/reflection/v1/reflection_pb.js")]).then(
      ([index, pb]) => {
        const { ServerReflection } = commonJs(index, "ServerReflection");
        const { ServerReflectionRequest } = commonJs(pb, "ServerReflectionRequest");
        return {
          real: ServerReflection(descriptorSet(), serviceNames) as unknown as RealImplementation,
          decode: (bytes: Uint8Array) => ServerReflectionRequest.deserializeBinary(new Uint8Array(bytes)),
        };
      },
    ));
  return {
    async *serverReflectionInfo(requests: AsyncIterable<Buffer>, context: CallContext) {
      const { real, decode } = await load();
      async function* decoded() {
        for await (const bytes of requests) yield decode(bytes);
      }
      yield* real.serverReflectionInfo(decoded(), context);
    },
  };
}

/**
 * The exports of a CommonJS module loaded with import(): Node lists some as named exports and puts all on `default`;
 * a bundle's interop may do either. Returns the object that has `key`.
 */
function commonJs<M extends object, K extends string>(m: M, key: K): Record<K, any> {
  if (key in m) return m as unknown as Record<K, any>;
  const d = (m as { default?: unknown }).default;
  if (typeof d === "object" && d !== null && key in d) return d as Record<K, any>;
  throw new Error(`${key} not found in the loaded module`);
}
