"""Long-gap inpainting (Chang et al. 2019, "Deep long audio inpainting"): protocol, metrics,
baselines. See docs/longgap.md for the protocol and how far the stand-ins are from the paper."""
