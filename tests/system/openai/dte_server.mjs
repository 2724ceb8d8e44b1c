// Starts a real `dte serve` on a free port for a test file, and stops it after.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '../../..');
export const dteBinary = process.env.DTE_BINARY ?? path.join(repo, 'build', 'dte');
export const demoModel = path.join(repo, 'models', 'tiny-rwkv-5v2-730K-FP16.bin');

export async function startServer(extraArgs = []) {
  const child = spawn(dteBinary, ['serve', '--model', demoModel, '--model-name', 'demo', '--port', '0',
                                  '--threads', '1', ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`dte serve did not start:\n${stderr}`)), 30000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/[0-9.]+:\d+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`dte serve exited ${code}:\n${stderr}`)); });
  });
  return {
    url,
    child,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      return exited;
    },
  };
}
