"""The one training loop (trainer.py) every network of the package is trained with."""
