"""audio-context-encoder: a reproduction of Marafioti et al., AES 2019."""

from setuptools import find_packages, setup

setup(
    name='audio-context-encoder',
    version='0.1.0',
    description='Audio inpainting of music with a context encoder on STFT coefficients '
                '(Marafioti et al., AES 2019): datasets, training, LPC baseline, evaluation.',
    packages=find_packages(include=['audio_context_encoder*', 'tfrecords_tools*', 'experiments*']),
    python_requires='>=3.9,<3.12',
    install_requires=[
        # TF 2.16 needs numpy < 2; tensorflow-io 0.37.1 is the release built for TF 2.16.
        'tensorflow-cpu==2.16.2',
        'tensorflow-io==0.37.1',
        'numpy>=1.23,<2',
        'scipy>=1.10,<1.15',
        'soundfile>=0.12',
        'absl-py>=1.0',
        'ltfatpy==1.1.2',
        'tqdm>=4.60',
        'matplotlib>=3.7,<3.10',
        # TensorBoard 2.16 (`make tensorboard`) imports pkg_resources, which setuptools 82
        # removed: a fresh venv with today's setuptools could not start TensorBoard.
        'setuptools>=65,<82',
        # ViSQOL v3, the perceptual score (docs/perceptual.md): a pure-Python port that passes
        # the C++ conformance tests; [lattice] is speech mode's mapper as in the C++ default.
        'visqol-python[lattice]==3.8.0',
    ],
    extras_require={
        # GPU machines: `pip install -e .[gpu]` then `pip uninstall tensorflow-cpu`
        # (both wheels provide the `tensorflow` module; `make venv GPU=1` does this).
        'gpu': ['tensorflow[and-cuda]==2.16.2'],
        # scikit-image: the independent SSIM the long-gap metrics are tested against.
        # selenium: the listening page in a real browser (Debian's chromium, scripts/system_deps.sh);
        # pytest-xdist: the suite on both cores.
        # Apache Beam builds (build --runner=beam, docs/scaling.md): Beam's core resolves beside
        # TF 2.16 only with protobuf < 5 (a lone `pip install apache-beam` takes protobuf 6 and
        # breaks TensorFlow); its [gcp] extra needs protobuf >= 6 and does not resolve at all.
        'beam': ['apache-beam==2.77.0', 'protobuf>=3.20.3,<5'],
        'test': ['pytest>=7', 'librosa==0.10.2.post1', 'scikit-image>=0.22,<0.25',
                 'selenium>=4.20,<5', 'pytest-xdist>=3.5'],
    },
    entry_points={'console_scripts': [
        'audio-context-encoder=audio_context_encoder.cli.main:main',
    ]},
)
