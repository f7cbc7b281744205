/*
 * "Did you mean" for a mistyped command, subcommand or option, as git and kubectl offer: candidates
 * the word is a prefix of, or within a small edit distance that grows with the word's length.
 */

/** How many candidates a message lists at most. */
const MAX_SUGGESTIONS = 3;

/**
 * Damerau–Levenshtein distance in its optimal-string-alignment form (what git's help.c uses, with
 * unit costs): insertions, deletions, substitutions and swaps of two adjacent characters cost 1.
 */
export function editDistance(a: string, b: string): number {
  // Three rows: the one before last (for swaps), the last, and the one being filled.
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (before[j - 2] as number) + 1);
      }
      current[j] = best;
    }
    before = previous;
    previous = current;
  }
  return previous[b.length] as number;
}

/**
 * The typos a word of this length may hold: none up to 2 characters (`lz` for `ls` is as likely
 * another word), 1 up to 5 (`confg`, `shw`), 2 beyond (`dedletter`). Leading dashes do not count.
 */
function allowedDistance(word: string): number {
  const length = word.replace(/^-+/, "").length;
  if (length <= 2) return 0;
  return length <= 5 ? 1 : 2;
}

/**
 * Up to three `candidates` close to `typed`, closest first (ties in the candidates' order):
 * case is ignored, and a candidate that `typed` begins counts as one edit away.
 */
export function similarWords(typed: string, candidates: readonly string[]): string[] {
  const word = typed.toLowerCase();
  const limit = allowedDistance(typed);
  const scored: { candidate: string; distance: number }[] = [];
  for (const candidate of new Set(candidates)) {
    const other = candidate.toLowerCase();
    const isPrefix = word.replace(/^-+/, "") !== "" && other.startsWith(word);
    const distance = word === other ? 0 : isPrefix ? 1 : editDistance(word, other);
    if (isPrefix || distance <= limit) scored.push({ candidate, distance });
  }
  // Array.prototype.sort is stable: equal distances keep the candidates' order.
  return scored
    .sort((x, y) => x.distance - y.distance)
    .slice(0, MAX_SUGGESTIONS)
    .map((s) => s.candidate);
}

/** ` Did you mean 'config'?` (or `one of 'a', 'b'`) to end an error message; `""` when none is close. */
export function didYouMean(typed: string, candidates: readonly string[]): string {
  const similar = similarWords(typed, candidates);
  if (similar.length === 0) return "";
  const quoted = similar.map((word) => `'${word}'`).join(", ");
  return similar.length === 1 ? ` Did you mean ${quoted}?` : ` Did you mean one of ${quoted}?`;
}
