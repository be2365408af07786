// Solves one ALTCHA challenge (classic format): the number n, 0 <= n <= maxNumber, for which
// hex(SHA-256(salt + n)) equals the challenge. Posts {number, took} or {number: null}.

// Digests started together: the browser's hashing is asynchronous, and awaiting each one
// alone would spend most of the time waiting rather than hashing.
const BATCH = 64;

function toBytes(hex) {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i += 1) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

function same(buffer, target) {
  const bytes = new Uint8Array(buffer);
  if (bytes.length !== target.length) return false;
  for (let i = 0; i < bytes.length; i += 1) if (bytes[i] !== target[i]) return false;
  return true;
}

async function solve({ algorithm, challenge, salt, maxNumber }) {
  if (algorithm !== "SHA-256" || typeof challenge !== "string" || !/^[0-9a-f]{64}$/.test(challenge)) return null;
  if (typeof salt !== "string" || !Number.isInteger(maxNumber) || maxNumber < 0) return null;
  const target = toBytes(challenge);
  const encoder = new TextEncoder();
  for (let base = 0; base <= maxNumber; base += BATCH) {
    const last = Math.min(maxNumber, base + BATCH - 1);
    const pending = [];
    for (let n = base; n <= last; n += 1) pending.push(crypto.subtle.digest("SHA-256", encoder.encode(salt + n)));
    const digests = await Promise.all(pending);
    const found = digests.findIndex((digest) => same(digest, target));
    if (found !== -1) return base + found;
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
  self.postMessage({ number, took: performance.now() - started });
});
