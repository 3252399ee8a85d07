"""Train/valid/test split by track (paper §3.2: music about 70/20/10).

Whole tracks go to one split, so no track, and hence no overlapping window, is in
two splits. The split depends only on the sorted track ids, the fractions and the
seed, not on file-system order.
"""

from typing import Dict, Iterable, Optional, Sequence

import numpy as np

SPLITS = ('train', 'valid', 'test')


def split_counts(n: int, fractions: Sequence[float]) -> tuple:
  """Tracks per split: cumulative rounding, so the counts add up to n."""
  fractions = np.asarray(fractions, np.float64)
  if len(fractions) != len(SPLITS) or np.any(fractions < 0) or fractions.sum() <= 0:
    raise ValueError(f'split fractions must be three non-negative numbers, got {list(fractions)}')
  edges = np.round(np.cumsum(fractions) / fractions.sum() * n).astype(int)
  return tuple(int(c) for c in np.diff(np.concatenate([[0], edges])))


def split_by_track(track_ids: Iterable[str], fractions: Sequence[float], seed: int,
                   groups: Optional[Dict[str, str]] = None) -> Dict[str, str]:
  """track id -> split; with `groups` (track -> group, e.g. instrument) each group splits alike."""
  ids = sorted(set(track_ids))
  if groups is None:
    by_group = {'': ids}
  else:
    by_group = {}
    for t in ids:
      by_group.setdefault(groups[t], []).append(t)
  out = {}
  for gi, g in enumerate(sorted(by_group)):
    members = by_group[g]
    order = np.random.default_rng([seed, gi]).permutation(len(members))
    counts = split_counts(len(members), fractions)
    pos = 0
    for split, c in zip(SPLITS, counts):
      for j in order[pos:pos + c]:
        out[members[j]] = split
      pos += c
  return out
