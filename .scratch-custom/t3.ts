import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
void version_cpu;
(tf.backend() as any).firstUse = false;
for (const [B, H] of [[32, 32], [100, 100]]) {
  const W = tf.randomNormal([H, H]) as tf.Tensor2D; const U = tf.randomNormal([1, H]) as tf.Tensor2D; const h0 = tf.zeros([B, H]) as tf.Tensor2D; const xs = tf.randomNormal([B, 1]) as tf.Tensor2D;
  const step = (h: tf.Tensor2D, W: tf.Tensor2D, U: tf.Tensor2D, xs: tf.Tensor2D) => { const a = tf.sigmoid(tf.add(tf.matMul(xs, U), tf.mul(h, 0.5))); return tf.add(tf.mul(a, h), tf.mul(tf.sub(1, a), tf.tanh(tf.add(tf.matMul(h, W), 0.1)))) as tf.Tensor2D; };
  let t1 = Date.now();
  let h = h0;
  for (let i = 0; i < 300; i++) { const nh = tf.tidy(() => step(h, W, U, xs)); if (h !== h0) h.dispose(); h = nh; }
  console.log(B, H, 'fwd 300 steps ms', Date.now() - t1);
  t1 = Date.now();
  const vjp = tf.grads((h: tf.Tensor, W: tf.Tensor, U: tf.Tensor, xs: tf.Tensor) => tf.sum(tf.mul(step(h as tf.Tensor2D, W as tf.Tensor2D, U as tf.Tensor2D, xs as tf.Tensor2D), h0)));
  for (let i = 0; i < 300; i++) tf.tidy(() => { const gs = vjp([h, W, U, xs]); gs.map((g) => g.dataSync()); });
  console.log(B, H, 'bwd 300 steps ms', Date.now() - t1, tf.memory().numTensors);
}
