// Solves one ALTCHA challenge (classic format): the number n, 0 <= n <= maxNumber, for which
// hex(SHA-256(salt + n)) equals the challenge. Posts {number (null if none), took, hasher}.
//
// The browser's own SHA-256 (crypto.subtle) is asynchronous, and its per-call overhead dwarfs
// hashing a few dozen bytes; a plain synchronous SHA-256 here is many times faster. It is
// checked against crypto.subtle before use and left aside if they ever disagree.

const PRIMES = [];
for (let n = 2; PRIMES.length < 64; n += 1) if (PRIMES.every((p) => n % p)) PRIMES.push(n);
const fraction32 = (x) => Math.floor((x - Math.floor(x)) * 2 ** 32) >>> 0;
const K = Uint32Array.from(PRIMES, (p) => fraction32(Math.cbrt(p)));
const H0 = Uint32Array.from(PRIMES.slice(0, 8), (p) => fraction32(Math.sqrt(p)));
const W = new Uint32Array(64);
const scratch = new Map(); // padded input buffers by block count, reused across the hashes of a solve

function sha256(bytes) {
  const blocks = Math.ceil((bytes.length + 9) / 64);
  if (!scratch.has(blocks)) scratch.set(blocks, new Uint8Array(blocks * 64));
  const padded = scratch.get(blocks);
  padded.fill(0);
  padded.set(bytes);
  padded[bytes.length] = 0x80;
  const bits = bytes.length * 8;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bits / 2 ** 32));
  view.setUint32(padded.length - 4, bits >>> 0);
  const h = H0.slice();
  for (let block = 0; block < blocks; block += 1) {
    for (let i = 0; i < 16; i += 1) W[i] = view.getUint32(block * 64 + i * 4);
    for (let i = 16; i < 64; i += 1) {
      const a = W[i - 15];
      const b = W[i - 2];
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let i = 0; i < 64; i += 1) {
      const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (hh + s1 + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
      const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
  }
  return h;
}

function toWords(hex) {
  return Uint32Array.from({ length: 8 }, (_, i) => parseInt(hex.slice(i * 8, i * 8 + 8), 16));
}

function sameWords(a, b) {
  for (let i = 0; i < 8; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

async function plainHashAgrees() {
  const sample = new TextEncoder().encode("alienmeet proof of work self-check, long enough for two blocks of input....");
  const expected = new Uint32Array(8);
  const view = new DataView(await crypto.subtle.digest("SHA-256", sample));
  for (let i = 0; i < 8; i += 1) expected[i] = view.getUint32(i * 4);
  return sameWords(sha256(sample), expected);
}

async function solveWithSubtle(target, salt, maxNumber, encoder) {
  const BATCH = 64; // digests started together, so the asynchronous calls overlap
  for (let base = 0; base <= maxNumber; base += BATCH) {
    const last = Math.min(maxNumber, base + BATCH - 1);
    const pending = [];
    for (let n = base; n <= last; n += 1) pending.push(crypto.subtle.digest("SHA-256", encoder.encode(salt + n)));
    const digests = await Promise.all(pending);
    for (let i = 0; i < digests.length; i += 1) {
      const view = new DataView(digests[i]);
      if (target.every((word, w) => view.getUint32(w * 4) === word)) return base + i;
    }
  }
  return null;
}

let hasher = "plain";

async function solve({ algorithm, challenge, salt, maxNumber }) {
  if (algorithm !== "SHA-256" || typeof challenge !== "string" || !/^[0-9a-f]{64}$/.test(challenge)) return null;
  if (typeof salt !== "string" || !Number.isInteger(maxNumber) || maxNumber < 0) return null;
  const target = toWords(challenge);
  const encoder = new TextEncoder();
  if (!(await plainHashAgrees())) {
    hasher = "subtle";
    return solveWithSubtle(target, salt, maxNumber, encoder);
  }
  // The salt is the same for every try: encode it once and write only the digits after it.
  const prefix = encoder.encode(salt);
  const input = new Uint8Array(prefix.length + 16);
  input.set(prefix);
  for (let n = 0; n <= maxNumber; n += 1) {
    const digits = String(n);
    for (let i = 0; i < digits.length; i += 1) input[prefix.length + i] = digits.charCodeAt(i);
    if (sameWords(sha256(input.subarray(0, prefix.length + digits.length)), target)) return n;
  }
  return null;
}

self.addEventListener("message", async (event) => {
  const started = performance.now();
  let number = null;
  try {
    number = await solve(event.data || {});
  } catch {
    number = null;
  }
  self.postMessage({ number, took: performance.now() - started, hasher });
});
