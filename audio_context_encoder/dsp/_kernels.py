"""The numba kernels of the numpy signal processing (compute.compiled compiles them when numba is
installed; each is tested against the numpy code it replaces): phase retrieval's PGHI heap and
FGLA passes (phase.py), and Burg's recursion and the AR extrapolation (lpc.py). Plain Python
here, so that this file reads like the numpy it stands for; never called uncompiled."""

import numpy as np


def heap_pops(phase, mag, tgrad, fgrad, scale, is_known, done, nb):
  """_integrate as a numba kernel: the same pops in the same order, the same float operations.

  Segment after segment, in place on phase [B, K]: a binary max-heap of entries ordered by
  magnitude, ties to the lower index (reference.pghi's argmax order: the keys are distinct, so
  the pops do not depend on the heap's shape); pop the largest, give its phase plus
  scale[d] (grad[entry] + grad[neighbour]) (grad: tgrad east/west, fgrad north/south) to its
  neighbours nb[entry, d] not done yet, push them. Empty heap with entries left: restart at
  the largest remaining one with phase 0 (a cursor down the magnitude order, sorted only
  when a segment first needs it: with known columns and no tiny coefficients, never).
  O(K log K) per segment.
  """
  b, k = phase.shape
  heap = np.empty(k, np.int64)  # entries; hkey: their magnitudes, beside them (no indirect loads)
  hkey = np.empty(k)
  for r in range(b):
    m = mag[r]
    n = 0
    left = k  # entries not done
    for e in range(k):
      if done[r, e]:
        left -= 1
      if is_known[r, e]:  # push
        x, i = m[e], n
        n += 1
        while i > 0:
          p = (i - 1) // 2
          if hkey[p] > x or (hkey[p] == x and heap[p] < e):
            break
          heap[i], hkey[i] = heap[p], hkey[p]
          i = p
        heap[i], hkey[i] = e, x
    order = heap[:0]
    cursor = 0
    while True:
      if n > 0:  # pop
        src = heap[0]
        n -= 1
        e, x, i = heap[n], hkey[n], 0
        while 2 * i + 1 < n:
          child = 2 * i + 1
          if child + 1 < n and (hkey[child + 1] > hkey[child]
                                or (hkey[child + 1] == hkey[child] and heap[child + 1] < heap[child])):
            child += 1
          if x > hkey[child] or (x == hkey[child] and e < heap[child]):
            break
          heap[i], hkey[i] = heap[child], hkey[child]
          i = child
        heap[i], hkey[i] = e, x
      else:  # restart
        if left == 0:
          break
        if order.size == 0:
          order = np.argsort(-m, kind='mergesort')  # stable: ties in index order
        while done[r, order[cursor]]:
          cursor += 1
        src = order[cursor]
        phase[r, src] = 0.0
        done[r, src] = True
        left -= 1
      for d in range(4):
        dst = nb[src, d]
        if dst >= 0 and not done[r, dst]:
          grad = tgrad if d < 2 else fgrad
          phase[r, dst] = phase[r, src] + scale[d] * (grad[r, src] + grad[r, dst])
          done[r, dst] = True
          left -= 1
          x, i = m[dst], n  # push
          n += 1
          while i > 0:
            p = (i - 1) // 2
            if hkey[p] > x or (hkey[p] == x and heap[p] < dst):
              break
            heap[i], hkey[i] = heap[p], hkey[p]
            i = p
          heap[i], hkey[i] = dst, x


def fgla_frames(synthesis, dual, background, offsets, window, buffer, frames):
  """Numba kernel: frames = window * frames(background + overlap_add(dual * synthesis)), per row
  (contiguous columns: chunk w of column j is buffer row j + offsets[w]). The inner loops run
  on hop-long slices (which LLVM vectorises: ~3x faster than indexing the 3-d arrays); the sums
  are those of HopLayout.overlap_add, in its order."""
  b, k, m = synthesis.shape
  hop = buffer.shape[2]
  for r in range(b):
    buffer[r, :, :] = background[r]
    for w in range(len(offsets)):
      d = dual[w * hop:(w + 1) * hop]
      for j in range(k):
        chunk = buffer[r, offsets[w] + j]
        s = synthesis[r, j, w * hop:(w + 1) * hop]
        for t in range(hop):
          chunk[t] += s[t] * d[t]
    for w in range(len(offsets)):
      g = window[w * hop:(w + 1) * hop]
      for j in range(k):
        chunk = buffer[r, offsets[w] + j]
        f = frames[r, j, w * hop:(w + 1) * hop]
        for t in range(hop):
          f[t] = chunk[t] * g[t]


def fgla_update(projected, target, t_old, c, alpha):
  """Numba kernel: t = projected with modulus target (target itself where it is 0),
  c = (t - t_old) alpha + t, t_old = t; in place. Complex arrays as float64 views
  [..., 2 bins] (Re, Im interleaved), which vectorises."""
  b, k, bins = target.shape
  for r in range(b):
    for j in range(k):
      for f in range(bins):
        re, im = projected[r, j, 2 * f], projected[r, j, 2 * f + 1]
        modulus = np.sqrt(re * re + im * im)
        if modulus > 0:
          scale = target[r, j, f] / modulus
          re, im = re * scale, im * scale
        else:
          re, im = target[r, j, f], 0.0
        c[r, j, 2 * f] = (re - t_old[r, j, 2 * f]) * alpha + re
        c[r, j, 2 * f + 1] = (im - t_old[r, j, 2 * f + 1]) * alpha + im
        t_old[r, j, 2 * f], t_old[r, j, 2 * f + 1] = re, im


def burg(x, a, exact, eps):
  """lpc.burg's recursion on each row of x [B, n] into a [B, order + 1] (a[:, 0] = 1; numba kernel).

  The errors are updated in place: forward ones f = ef[s:s + m], backward ones eb[:m].
  Once a context is at the exactness floor its higher coefficients stay zero, so it stops.
  """
  b, n = x.shape
  order = a.shape[1] - 1
  ef, eb = np.empty(n), np.empty(n)
  for r in range(b):
    ef[:] = x[r]
    eb[:] = x[r]
    s, m = 1, n - 1
    den = 0.0
    for j in range(m):
      den += ef[s + j] * ef[s + j] + eb[j] * eb[j]
    floor = exact * den
    if not den > 0:
      continue
    for i in range(order):
      if not den > floor:
        break
      cross = 0.0
      for j in range(m):
        cross += eb[j] * ef[s + j]
      k = -2.0 * cross / (den + eps)
      for j in range((i + 1) // 2 + 1):  # Levinson, in place: a_j += k a_{i+1-j} (a_0 stays 1)
        lo, hi = a[r, j], a[r, i + 1 - j]
        a[r, j] = lo + k * hi
        if i + 1 - j != j:
          a[r, i + 1 - j] = hi + k * lo
      for j in range(m):
        f, e = ef[s + j], eb[j]
        ef[s + j] = f + k * e
        eb[j] = e + k * f
      den = (1.0 - k * k) * den - eb[m - 1] ** 2 - ef[s] ** 2
      s, m = s + 1, m - 1  # forward errors drop their first sample, backward ones their last


def extrapolate(hist, taps, p):
  """extrapolate's recursion in place on hist [B, p + length] (numba kernel)."""
  for r in range(hist.shape[0]):
    for t in range(hist.shape[1] - p):
      y = 0.0
      for j in range(p):
        y += hist[r, t + j] * taps[r, j]
      hist[r, p + t] = y
