"""Each transform and the training loop exist once (docs/reference.md, "Layers"): the library's
functions that call an FFT, and its Griffin-Lim loops, are exactly the listed ones (dsp/reference.py,
the independent test oracle, is the one place allowed its own); one module checkpoints and runs
gradient steps of a training run. Parses the source, so a copy fails here before it can drift
from the original."""

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
LIBRARY = ROOT / 'audio_context_encoder'
ORACLE = 'dsp/reference.py'
FFTS = {'rfft', 'irfft', 'fft', 'ifft', 'rfftn', 'irfftn', 'stft', 'istft', 'r2c', 'c2r'}
# Where an FFT comes from (numpy, scipy, scipy's pocketfft, TensorFlow, librosa), as the code
# names them; a call of the package's own transform modules is not a new transform.
FFT_HOMES = {'np.fft', 'numpy.fft', 'sfft', 'scipy.fft', 'fft', '_pocketfft', 'sps', 'signal',
             'scipy.signal', 'tf.signal', 'librosa'}

# The functions that may call an FFT, each the one of its kind.
FFT_USERS = {
    # the numpy FFTs of the segment's DGT, its inverse and FGLA (scipy's pocketfft, preallocated)
    'dsp/dgt.py:rfft_into', 'dsp/dgt.py:irfft_into',
    'dsp/spectrogram.py:stft', 'dsp/spectrogram.py:istft',  # long-gap clips' framed STFT (numpy)
    'dsp/tf_stft.py:stft',  # the one TensorFlow STFT
    'dsp/phase_tf.py:body',  # the TensorFlow backend of phase.fgla's loop
    'dsp/janssen.py:ar_coefficients',  # an autocorrelation by FFT, not a time-frequency transform
}
# The Griffin-Lim loops (public functions of public modules: dsp/_kernels.py holds phase.fgla's
# numba passes): phase.fgla (masked, on the segment's DGT; no mask is its plain case) with its
# TensorFlow backend, and the long-gap clips' unmasked one.
GRIFFIN_LIMS = {'dsp/phase.py:fgla', 'dsp/phase_tf.py:fgla_unknown', 'dsp/spectrogram.py:griffin_lim'}


def functions():
  """(module path, innermost function name, node) of every function of the library."""
  for path in sorted(LIBRARY.rglob('*.py')):
    rel = path.relative_to(LIBRARY).as_posix()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
      if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        yield rel, node


def dotted(f) -> str:
  """'np.fft.rfft' of the call np.fft.rfft(...); '' for anything but a chain of names."""
  parts = []
  while isinstance(f, ast.Attribute):
    parts.append(f.attr)
    f = f.value
  return '.'.join([f.id] + parts[::-1]) if isinstance(f, ast.Name) else ''


def calls_fft(node) -> bool:
  """Whether the function's own body (not a nested function's) calls an FFT of a library."""
  inner = [n for n in ast.walk(node) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
           and n is not node]
  nested = {id(m) for n in inner for m in ast.walk(n)}
  for n in ast.walk(node):
    if isinstance(n, ast.Call) and id(n) not in nested:
      home, _, name = dotted(n.func).rpartition('.')
      if name in FFTS and home in FFT_HOMES:
        return True
  return False


def found_fft_users():
  return {f'{rel}:{node.name}' for rel, node in functions() if rel != ORACLE and calls_fft(node)}


def test_the_finder_sees_an_fft_call():
  tree = ast.parse('def f(x):\n  return np.fft.rfft(x)\n'
                   'def g(x):\n  return spectrogram.stft(x) + x\n'
                   'def h(x):\n  return tf.signal.stft(x, 4, 2)\n')
  f, g, h = tree.body
  assert calls_fft(f) and not calls_fft(g) and calls_fft(h)


def test_each_fft_user_is_the_one_of_its_kind():
  found = found_fft_users()
  extra, gone = sorted(found - FFT_USERS), sorted(FFT_USERS - found)
  assert not extra, (f'{extra} call an FFT: use dsp.dgt, dsp.spectrogram or dsp.tf_stft instead '
                     'of a new transform (or, for a new kind, add it here with why)')
  assert not gone, f'{gone}: listed here but no longer calling an FFT; remove them'


def test_one_griffin_lim_of_each_kind():
  found = {f'{rel}:{node.name}' for rel, node in functions() if rel != ORACLE
           and not node.name.startswith('_') and not rel.split('/')[-1].startswith('_')
           and ('griffin' in node.name.lower() or 'fgla' in node.name.lower())}
  assert found == GRIFFIN_LIMS, f'Griffin-Lim entry points: {sorted(found)}'


# The one training loop, and the one other gradient loop: Deep Prior fits a net to one gap at
# inference (Chang et al.), not a training run (no checkpoints, no run folder).
TRAINING_LOOP = 'training/trainer.py'
GRADIENT_LOOPS = {TRAINING_LOOP, 'longgap/deep_prior.py'}


def uses(name: str) -> set:
  """Library modules that call `name` (a function or method, by its last dotted part)."""
  found = set()
  for path in sorted(LIBRARY.rglob('*.py')):
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
      if isinstance(node, ast.Call) and dotted(node.func).rpartition('.')[2] == name:
        found.add(path.relative_to(LIBRARY).as_posix())
  return found


def test_one_training_loop():
  assert uses('CheckpointManager') == {TRAINING_LOOP}
  assert uses('GradientTape') <= GRADIENT_LOOPS and TRAINING_LOOP in uses('GradientTape')
  keras_fits = set()  # model.fit(...): keras' own loop
  for path in sorted(LIBRARY.rglob('*.py')):
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
      if isinstance(node, ast.Call) and dotted(node.func).endswith('model.fit'):
        keras_fits.add(path.relative_to(LIBRARY).as_posix())
  assert not keras_fits, f'{keras_fits}: keras Model.fit; train through training/trainer.py'
