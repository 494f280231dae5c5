/**
 * A leaky tanh RNN: each neuron keeps a learned fraction λ = σ(alpha) of its state and moves the rest of the
 * way toward a tanh candidate,
 *
 *   h_t = λ ⊙ h_{t−1} + (1 − λ) ⊙ tanh(x_t W + h_{t−1} R + b).
 *
 * With alpha large, λ → 1 and the neuron holds its value for a long time (a leaky integrator); there is no
 * input-dependent gate, so the cell cannot choose *when* to hold.
 *
 * Train it:  rnn-memory train --task copy --T 20 --cell examples/cells/leaky-tanh.ts --out runs/leaky
 */
import { defineCell } from 'rnn-memory-lens';

export default defineCell({
  name: 'leaky-tanh',
  params: (inputSize, units) => [
    { name: 'W', shape: [inputSize, units], init: 'glorot_uniform' },
    { name: 'R', shape: [units, units], init: 'orthogonal' },
    { name: 'b', shape: [units], init: 'zeros' },
    // σ(0) = 0.5: every neuron starts halfway between forgetting and holding.
    { name: 'alpha', shape: [units], init: 'zeros' },
  ],
  // The state is h (stateSize defaults to units), so h need not be returned.
  step: (tf, p, x, h) => {
    const keep = tf.sigmoid(p.alpha); // [units], broadcast over the batch
    const candidate = tf.tanh(x.matMul(p.W).add(h.matMul(p.R)).add(p.b));
    return { state: keep.mul(h).add(tf.sub(1, keep).mul(candidate)) };
  },
});
