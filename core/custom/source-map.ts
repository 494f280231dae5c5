/**
 * Just enough of Source Map v3 to turn a position in transpiled code back into the user's source: VLQ
 * decoding of `mappings` (single source, as TypeScript's transpileModule emits) and a lookup.
 */

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_VALUE = new Map([...B64].map((c, i) => [c, i]));

/** Per generated line (0-based): segments [generatedColumn, sourceLine, sourceColumn], all 0-based, by column. */
export type LineMappings = number[][][];

export function decodeMappings(mappings: string): LineMappings {
  const lines: LineMappings = [];
  let srcLine = 0;
  let srcCol = 0;
  for (const line of mappings.split(';')) {
    const segs: number[][] = [];
    let genCol = 0;
    for (const seg of line.split(',')) {
      if (!seg) continue;
      const v = decodeVlq(seg);
      genCol += v[0];
      if (v.length >= 4) {
        // v[1] (source index) stays 0 for one source; v[4] (name index) is not needed.
        srcLine += v[2];
        srcCol += v[3];
        segs.push([genCol, srcLine, srcCol]);
      }
    }
    segs.sort((a, b) => a[0] - b[0]);
    lines.push(segs);
  }
  return lines;
}

function decodeVlq(s: string): number[] {
  const out: number[] = [];
  let value = 0;
  let shift = 0;
  for (const c of s) {
    const d = B64_VALUE.get(c);
    if (d === undefined) throw new Error(`invalid base64 digit "${c}" in source map`);
    value += (d & 31) << shift;
    if (d & 32) {
      shift += 5;
    } else {
      out.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return out;
}

/**
 * The source position (1-based line and column) of a generated position (1-based, as in stack traces):
 * the last segment at or before the column on that line, else the line's first segment; null when the line
 * has no mapping.
 */
export function originalPosition(map: LineMappings, line: number, column: number): { line: number; column: number } | null {
  const segs = map[line - 1];
  if (!segs || segs.length === 0) return null;
  const col = column - 1;
  let best = segs[0];
  for (const s of segs) {
    if (s[0] <= col) best = s;
    else break;
  }
  // Within a mapped token the offset carries over (TypeScript maps tokens, not every character).
  const offset = best[0] <= col ? col - best[0] : 0;
  return { line: best[1] + 1, column: best[2] + offset + 1 };
}
