/** Which files the extension offers as foreign models (PyTorch, Keras, TF.js); our own are sniffed by core/model/model-sniff. */

/** File extensions of the foreign formats the diagnostics worker opens with openAnyModel (safetensors aside). */
export const FOREIGN_MODEL_EXTENSIONS = ['pt', 'pth', 'keras', 'h5'] as const;

/** Whether a path may be a foreign model (PyTorch, Keras, TF.js), judged by its name only. */
export function isForeignModelPath(path: string): boolean {
  const lower = path.toLowerCase();
  return FOREIGN_MODEL_EXTENSIONS.some((e) => lower.endsWith(`.${e}`)) || lower.endsWith('model.json') || lower.endsWith('.safetensors');
}
