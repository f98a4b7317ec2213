import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatIp, parseInetTable, parseUnixTable, socketInode, socketInodes, tcpStateName } from "./parse-net.js";

// Real tables captured on Linux 6.18 (x86_64, little-endian).
const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     
   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 637 1 000000006e51dc9d 100 0 0 10 0                       
   1: 0100007F:D79F 00000000:0000 0A 00000000:00000001 00:00000000 00000000     0        0 42186 2 00000000777375f1 100 0 0 10 0                     
   2: 0100007F:AC21 0100007F:9196 06 00000000:00000000 03:00000647 00000000     0        0 0 3 0000000077e666ce                                      
  15: 0100007F:E050 0100007F:D79F 01 00000000:00000000 00:00000000 00000000     0        0 42187 2 00000000e9779bae 20 0 0 10 -1                     
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:8CD1 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 42185 1 0000000063938076 100 0 0 10 0
   1: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000100007F:C000 01 00000000:00000000 00:00000000 00000000  1000        0 777 1 0000000063938076 100 0 0 10 0
   2: B80D0120000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 778 1 0000000063938076 100 0 0 10 0
`;
const UDP = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops            
 7547: 0100007F:A18B 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 42188 2 00000000c1f9d9f5 0         
`;
const UNIX = `Num       RefCount Protocol Flags    Type St Inode Path
0000000034b7299c: 00000002 00000000 00010000 0001 01 42191 /tmp/smk/sock with space
0000000057d92a43: 00000003 00000000 00000000 0001 03  1057
00000000128ad2fb: 00000002 00000000 00000000 0002 01  1058 @abstract-name
`;

describe("parseInetTable", () => {
  it("decodes IPv4 little-endian words, hex ports, states and inodes", () => {
    const t = parseInetTable(TCP);
    assert.equal(t.length, 4);
    assert.deepEqual(t[0], {
      family: 4,
      localIp: "0.0.0.0",
      localPort: 2024,
      remoteIp: "0.0.0.0",
      remotePort: 0,
      state: "LISTEN",
      inode: 637,
    });
    assert.equal(t[1]!.localIp, "127.0.0.1");
    assert.equal(t[1]!.localPort, 0xd79f);
    assert.equal(t[2]!.state, "TIME_WAIT");
    assert.equal(t[3]!.state, "ESTABLISHED");
    assert.equal(t[3]!.remotePort, 0xd79f);
  });

  it("decodes IPv6 addresses word by word", () => {
    const t = parseInetTable(TCP6);
    assert.equal(t[0]!.family, 6);
    assert.equal(t[0]!.localIp, "::1");
    assert.equal(t[0]!.localPort, 0x8cd1);
    assert.equal(t[0]!.remoteIp, "::");
    assert.equal(t[1]!.localIp, "::ffff:127.0.0.1");
    assert.equal(t[1]!.state, "ESTABLISHED");
    assert.equal(t[2]!.localIp, "2001:db8::1");
  });

  it("reads words in big-endian order on big-endian hosts", () => {
    const be = TCP.replace("0100007F:D79F", "7F000001:D79F");
    assert.equal(parseInetTable(be, false)[1]!.localIp, "127.0.0.1");
  });

  it("parses udp tables (unconnected sockets are CLOSE)", () => {
    const t = parseInetTable(UDP);
    assert.deepEqual(
      t.map((s) => [s.localIp, s.localPort, s.state, s.inode]),
      [["127.0.0.1", 0xa18b, "CLOSE", 42188]],
    );
  });

  it("an empty table is just the header", () => {
    assert.deepEqual(parseInetTable(TCP.split("\n")[0]! + "\n"), []);
  });
});

describe("parseUnixTable", () => {
  it("reads path (with spaces), inode, type and listening state", () => {
    assert.deepEqual(parseUnixTable(UNIX), [
      { path: "/tmp/smk/sock with space", inode: 42191, type: "stream", state: "LISTEN" },
      { path: "", inode: 1057, type: "stream", state: "CONNECTED" },
      { path: "@abstract-name", inode: 1058, type: "dgram", state: "" },
    ]);
  });
});

describe("addresses and fd links", () => {
  it("compresses IPv6 as RFC 5952 says", () => {
    const v6 = (s: string) => formatIp(Buffer.from(s.replace(/:/g, ""), "hex").toJSON().data);
    assert.equal(v6("2001:0db8:0000:0000:0001:0000:0000:0001"), "2001:db8::1:0:0:1");
    assert.equal(v6("fe80:0000:0000:0000:0000:0000:0000:0000"), "fe80::");
    assert.equal(v6("2001:0db8:0001:0002:0003:0004:0005:0006"), "2001:db8:1:2:3:4:5:6");
    assert.equal(v6("2001:0db8:0000:0001:0002:0003:0004:0005"), "2001:db8:0:1:2:3:4:5");
  });

  it("names TCP states", () => {
    assert.equal(tcpStateName(0x0a), "LISTEN");
    assert.equal(tcpStateName(0x08), "CLOSE_WAIT");
    assert.equal(tcpStateName(0x63), "UNKNOWN(99)");
  });

  it("finds socket inodes among fd links", () => {
    assert.equal(socketInode("socket:[42186]"), 42186);
    assert.equal(socketInode("pipe:[42186]"), undefined);
    assert.equal(socketInode("/tmp/socket:[1]"), undefined);
    assert.deepEqual([...socketInodes(["/dev/null", "socket:[1]", "anon_inode:[eventpoll]", "socket:[2]"])], [1, 2]);
  });
});
