"""Download torchvision's pretrained DeepLabV3 weights once (a local rule: needs the internet)."""

from pathlib import Path

from visionrepro.logs import setup_logging
from visionrepro.models.deeplab import download_weights

setup_logging(snakemake.log[0])
download_weights(Path(snakemake.output[0]))
