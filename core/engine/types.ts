/** The compute paths a run or diagnosis may ask for (core/engine/index resolves 'fast' to what is available). */
export type EngineName = 'reference' | 'fast';
