/**
 * The compute paths a run or diagnosis may ask for: `native` (the C++ addon), `wasm` (the same kernels as
 * WebAssembly), `reference` (float64 TypeScript) or `fast`, the best of them available in that order
 * (core/engine/index resolves it).
 */
export type EngineName = 'fast' | 'native' | 'wasm' | 'reference';

/** The engines that actually run (what `fast` resolves to). */
export type ResolvedEngine = Exclude<EngineName, 'fast'>;

/** Every accepted engine name, in the order help texts list them. */
export const ENGINE_NAMES: readonly EngineName[] = ['fast', 'native', 'wasm', 'reference'];
