import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { GopsError, Status } from "../common/errors.js";
import { PROFILE_MAX_BYTES, decodeProfile } from "./profile.js";

describe("decodeProfile: a gzip bomb (issue 17 item 2)", () => {
  it("stops inflating past PROFILE_MAX_BYTES with a one-line INVALID_ARGUMENT", () => {
    // 1 MiB of zeros compresses to ~1 KiB; gunzip reads concatenated members as one stream: 129 of them
    // (~130 KiB) expand to 129 MiB, one more than the limit.
    const member = gzipSync(Buffer.alloc(1 << 20), { level: 9 });
    const bomb = Buffer.concat(Array.from({ length: (PROFILE_MAX_BYTES >> 20) + 1 }, () => member));
    assert.ok(bomb.length < 256 << 10);
    assert.throws(
      () => decodeProfile(bomb),
      (e: unknown) =>
        e instanceof GopsError &&
        e.code === Status.INVALID_ARGUMENT &&
        e.message === "not a pprof profile: it decompresses to more than 128 MiB (the limit for a profile)",
    );
  });

  it("corrupt gzip is still a corrupt-gzip error", () => {
    const gz = gzipSync(Buffer.from("hello"));
    assert.throws(() => decodeProfile(gz.subarray(0, gz.length - 6)), /gzip data is corrupt/);
  });
});
