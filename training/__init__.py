"""Training pieces behind train.py: backbones and their pretrained weights, data sources and mixing,
augmentation, callbacks, calibration and export. Builds on `detector`; `detector` never imports it."""
