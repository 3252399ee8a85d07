"""The README's Python example runs as printed (issue 19: a documented, tested API)."""

import contextlib
import io
import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parent.parent / 'README.md'


def python_example() -> tuple:
  """(the code block under "### From Python", the output the text after it promises)."""
  text = README.read_text()
  section = text[text.index('### From Python'):]
  code = re.search(r'```python\n(.*?)```', section, re.S).group(1)
  after = section[section.index('```', section.index('```python') + 3) + 3:]
  promised = re.findall(r'`([^`]*(?:SNR over the gap|windows:)[^`]*)`', after.split('\n\n')[1])
  return code, [' '.join(p.split()) for p in promised]


@pytest.mark.slow  # loads the shipped network (TensorFlow)
def test_the_python_example_prints_what_the_readme_says():
  code, promised = python_example()
  assert len(promised) == 3, promised
  out = io.StringIO()
  with contextlib.redirect_stdout(out):
    exec(compile(code, str(README), 'exec'), {})
  assert out.getvalue().splitlines() == promised
