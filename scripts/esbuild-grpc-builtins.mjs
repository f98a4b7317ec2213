// An esbuild plugin shared by the npm bins (scripts/bundle.mjs) and the single executables (scripts/release.mjs).
/**
 * For the CLI's bundled grpc-js, two built-ins as the CLI's start-up needs them (node:http2, which a call needs, loads
 * net, tls, crypto and http itself; these come on top):
 * - zlib and dns, required at load by grpc-js's compression filter (for messages the CLI never compresses) and DNS
 *   resolver (a host name's lookup; an IP address goes to grpc-js's IP resolver, client/connect.ts): proxies that
 *   load the module at its first use;
 * - net, whose isIPv6 grpc-js asks of every address it resolves: Node's IPv6 pattern is compiled at its first use,
 *   ~5-10 ms of one remote call; an address without a colon is not IPv6, so it answers those without the pattern.
 */
export const grpcBuiltins = {
  name: "grpc-builtins",
  setup(b) {
    b.onResolve({ filter: /^(node:)?(zlib|dns|net)$/ }, (args) =>
      /node_modules\/@grpc\/grpc-js\//.test(args.importer) ? { path: args.path.replace(/^node:/, ""), namespace: "grpc-builtin" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "grpc-builtin" }, (args) => ({
      loader: "js",
      contents:
        args.path !== "net"
          ? `let m; const load = () => (m ??= process.getBuiltinModule("node:${args.path}"));
module.exports = new Proxy({}, { get: (_, k) => load()[k], has: (_, k) => k in load() });`
          : `const net = process.getBuiltinModule("node:net");
const isIPv6 = (s) => typeof s === "string" && s.includes(":") && net.isIPv6(s);
module.exports = new Proxy(net, { get: (t, k) => (k === "isIPv6" ? isIPv6 : t[k]) });`,
    }));
  },
};
