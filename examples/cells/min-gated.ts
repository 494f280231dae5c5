/**
 * A minimal gated cell (the Minimal Gated Unit of Zhou et al., 2016): one forget gate f decides, per neuron
 * and per step, how much of the state to replace, and also masks the state inside the candidate,
 *
 *   f_t = σ(x_t W_f + h_{t−1} R_f + b_f)
 *   c_t = tanh(x_t W + (f_t ⊙ h_{t−1}) R + b)
 *   h_t = (1 − f_t) ⊙ h_{t−1} + f_t ⊙ c_t
 *
 * f_t ≈ 0 holds the state exactly, which is what the copy task needs. Returning `gates` records f_t for
 * `rnn-memory trace`.
 *
 * Train it:  rnn-memory train --task copy --T 20 --cell examples/cells/min-gated.ts --out runs/mgu
 */
import { defineCell } from 'rnn-memory-lens';

export default defineCell({
  name: 'min-gated',
  params: (inputSize, units) => [
    { name: 'W_f', shape: [inputSize, units], init: 'glorot_uniform' },
    { name: 'R_f', shape: [units, units], init: 'orthogonal' },
    { name: 'b_f', shape: [units], init: 'zeros' },
    { name: 'W', shape: [inputSize, units], init: 'glorot_uniform' },
    { name: 'R', shape: [units, units], init: 'orthogonal' },
    { name: 'b', shape: [units], init: 'zeros' },
  ],
  step: (tf, p, x, h) => {
    const f = tf.sigmoid(tf.add(tf.add(tf.matMul(x, p.W_f), tf.matMul(h, p.R_f)), p.b_f));
    const c = tf.tanh(tf.add(tf.add(tf.matMul(x, p.W), tf.matMul(tf.mul(f, h), p.R)), p.b));
    const next = tf.add(tf.mul(tf.sub(1, f), h), tf.mul(f, c));
    return { state: next, gates: { f } };
  },
});
