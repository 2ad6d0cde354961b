// A small CPU task: SHA-256 of a generated block, as hex.
import { createHash } from "node:crypto";

export default function checksum({ seed, size }) {
  const block = Buffer.alloc(size, seed % 256);
  return createHash("sha256").update(block).digest("hex").slice(0, 16);
}
