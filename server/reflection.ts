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
      ([{ ServerReflection }, pb]) => ({
        real: ServerReflection(descriptorSet(), serviceNames) as unknown as RealImplementation,
        // A CommonJS module whose exports Node cannot list: its classes are on the default export.
        decode: (bytes: Uint8Array) => pb.default.ServerReflectionRequest.deserializeBinary(new Uint8Array(bytes)),
      }),
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
