/**
 * TensorFlow.js for custom cells: tfjs-core with its gradients and chained tensor methods, on the pure-JS
 * CPU backend (float32, portable). The npm "main" build of tfjs-core registers neither gradients nor chained
 * ops, so both come from tfjs-core's ES-module files; tfjs keeps its engine, registries and Tensor class on
 * globalThis, so those files patch the same engine. Only loaded (lazily) where user cells run: workers, CLI.
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import type { Tf } from './api';

let ready: { tf: Tf; backend: string } | undefined;

/**
 * The tfjs namespace with a backend chosen: tfjs-node ('tensorflow', native) when that optional package
 * loads, else 'cpu'. RNN_MEMORY_TFJS_NODE=0 skips tfjs-node. (tfjs-node is an optional dependency that is not
 * installed in this repository's environment, so the native branch is untested here.)
 */
export function loadTf(): { tf: Tf; backend: string } {
  if (ready) return ready;
  if (process.env.RNN_MEMORY_TFJS_NODE !== '0') {
    try {
      // Registers the 'tensorflow' backend (priority above 'cpu') on the shared global engine. Not bundled.
      createRequire(__filename)('@tensorflow/tfjs-node');
    } catch {
      // Not installed or no native binary for this platform: the CPU backend it is.
    }
  }
  const backend = tf.findBackendFactory('tensorflow') ? 'tensorflow' : 'cpu';
  if (tf.getBackend() !== backend) void tf.setBackend(backend); // synchronous for both backends' factories
  if (tf.getBackend() !== backend) throw new Error(`TensorFlow.js backend "${backend}" failed to initialise`);
  // The CPU backend prints a "install tfjs-node" banner on first use; the message is not for our users.
  if (backend === 'cpu') (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
  ready = { tf, backend: backend === 'cpu' ? `tfjs-cpu ${version_cpu}` : `tfjs-node ${tf.version_core}` };
  return ready;
}
