// gRPC server reflection (grpc.reflection.v1), loaded at its first call. nice-grpc-server-reflection and the
// google-protobuf runtime it is built on cost gopsd ~10 MB of its idle RSS, for a service an operator asks once in a
// while (grpcurl). gopsd registers this definition at start-up (same method, same wire format): requests reach the
// handler as raw bytes, and the first call imports the real implementation, decodes each request with the real
// message class and serializes the real responses (google-protobuf messages serialize themselves).
import type { MethodDefinition } from "@grpc/grpc-js";
import type { CallContext, ServiceImplementation } from "nice-grpc";
import type { ServerReflectionRequest, ServerReflectionResponse } from "nice-grpc-server-reflection/lib/proto/grpc/reflection/v1/reflection_pb.js";

const METHOD_PATH = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";

/** The reflection service as grpc-js defines it, with the request left as bytes until the implementation is loaded. */
export const LazyServerReflectionService: { serverReflectionInfo: MethodDefinition<Buffer, ServerReflectionResponse> & { requestStream: true; responseStream: true } } = {
  serverReflectionInfo: {
    path: METHOD_PATH,
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

type Implementation = ServiceImplementation<typeof LazyServerReflectionService>;
type RealImplementation = { serverReflectionInfo(requests: AsyncIterable<ServerReflectionRequest>, context: CallContext): AsyncIterable<ServerReflectionResponse> };

/** Reflection over the FileDescriptorSet that `descriptorSet` reads (at the first call) for `serviceNames`. */
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
