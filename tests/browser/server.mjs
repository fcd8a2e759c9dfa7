// Starts a real Dzong server for the browser tests: a fresh data directory,
// `migrate`, `seed --demo`, then `serve` on a free local port, and waits for
// GET /readyz to answer 200. stop() sends SIGTERM and removes the directory.
//
// Environment:
//   DZONG_BIN          the server binary (default build/release/src/dzong)
//   TEST_POSTGRES_URL  run on this PostgreSQL database instead of a fresh
//                      SQLite file (migrate and seed are idempotent; note that
//                      TOTP enrolments made by one run stay in the database)
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function serverBinary() {
  const bin = process.env.DZONG_BIN || 'build/release/src/dzong';
  return path.resolve(repoRoot, bin);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function run(bin, args, env) {
  try {
    return await execFileAsync(bin, args, { env, cwd: repoRoot, timeout: 120_000 });
  } catch (e) {
    throw new Error(`\`${path.basename(bin)} ${args.join(' ')}\` failed (${e.code ?? e.signal}):\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts a server. Returns { baseURL, dataDir, operatorToken, output(), stop() }.
 */
export async function startServer({ readyTimeoutMs = 20_000 } = {}) {
  const bin = serverBinary();
  if (!existsSync(bin)) throw new Error(`server binary not found: ${bin} (set DZONG_BIN)`);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'dzong-browser-'));
  const port = await freePort();
  const env = { ...process.env };
  // The platform operator's token, for tests that set the scene through the API.
  const operatorToken = randomBytes(32).toString('hex');
  // Only this file's settings: a developer's own DZONG_* (an operator token, a
  // database) must not leak in. DZONG_CONFIG (a TOML file, e.g. for another
  // server.assets_dir) is passed on; the variables below override it.
  for (const k of Object.keys(env)) if (k.startsWith('DZONG_') && k !== 'DZONG_CONFIG') delete env[k];
  Object.assign(env, {
    DZONG_DATABASE_URL: process.env.TEST_POSTGRES_URL || `sqlite://${dataDir}/dzong.db`,
    DZONG_LISTEN: `127.0.0.1:${port}`,
    DZONG_DATA_DIR: dataDir,
    DZONG_LOG_LEVEL: 'warn',
    // One PostgreSQL database serves every test file of a run, so its sealed
    // signing key must open with the same key-encryption key each time.
    DZONG_KEY_ENCRYPTION_KEY: process.env.TEST_POSTGRES_URL
      ? createHash('sha256').update(`dzong browser tests ${process.env.TEST_POSTGRES_URL}`).digest('hex')
      : randomBytes(32).toString('hex'),
    DZONG_OPERATOR_TOKEN: operatorToken,
  });

  let child;
  let log = '';
  const cleanup = async () => {
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await run(bin, ['migrate'], env);
    await run(bin, ['seed', '--demo', '--population', '300'], env);

    child = spawn(bin, ['serve'], { env, cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => { log += d; });
    child.stderr.on('data', (d) => { log += d; });
    let exited = null;
    child.on('exit', (code, signal) => { exited = { code, signal }; });

    const baseURL = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      if (exited) throw new Error(`dzong serve exited early (${exited.code ?? exited.signal}):\n${log}`);
      try {
        const res = await fetch(`${baseURL}/readyz`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.status === 200) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`dzong serve not ready after ${readyTimeoutMs} ms:\n${log}`);
      await sleep(100);
    }

    return {
      baseURL,
      dataDir,
      operatorToken,
      /** Runs the dzong command on this server's database (as an operator on its host would). */
      cli: async (...args) => (await run(bin, args, env)).stdout,
      output: () => log,
      async stop() {
        if (!exited) {
          const done = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          const timer = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 10_000);
          await done;
          clearTimeout(timer);
        }
        await cleanup();
        return exited;
      },
    };
  } catch (e) {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await cleanup();
    throw e;
  }
}
